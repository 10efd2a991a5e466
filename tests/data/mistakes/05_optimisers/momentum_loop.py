
def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    path, velocity = [np.array(theta, dtype=float)], np.zeros(np.shape(theta))
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(path[-1], grad_fn(path[-1]), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta)
    return np.array(path)
