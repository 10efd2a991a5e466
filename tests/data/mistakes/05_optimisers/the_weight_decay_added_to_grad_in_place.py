
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    grad += weight_decay * theta
    velocity = momentum * velocity + grad
    return theta - lr * (grad + momentum * velocity if nesterov else velocity), velocity
