
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + g
    return theta - lr * (g + momentum * velocity if nesterov else velocity), velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = grad_fn(theta) + weight_decay * theta
    path = [theta]
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(theta, grad_fn(theta), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta)
    return np.array(path)
