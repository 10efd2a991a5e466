
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + (1 - momentum) * g
    return theta - lr * (g + momentum * velocity if nesterov else velocity), velocity
