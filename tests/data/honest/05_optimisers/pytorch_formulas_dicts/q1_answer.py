
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    old = velocity.copy()
    velocity *= momentum
    velocity += g
    if nesterov:  # g + momentum * (momentum * old + g)
        theta -= lr * ((1 + momentum) * g + momentum ** 2 * old)
    else:
        theta -= lr * velocity
    return theta, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = np.zeros(theta.shape)
    path = np.empty((steps + 1,) + theta.shape)
    path[0] = theta
    for k in range(1, steps + 1):
        sgd_momentum_step(theta, grad_fn(theta.copy()), velocity, lr, momentum, weight_decay, nesterov)
        path[k] = theta
    return path
