
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + lr * g
    step = g + momentum * velocity if nesterov else velocity
    return theta - step, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = np.zeros_like(theta)
    path = [theta.copy()]
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(theta, grad_fn(theta), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta.copy())
    return np.array(path)
