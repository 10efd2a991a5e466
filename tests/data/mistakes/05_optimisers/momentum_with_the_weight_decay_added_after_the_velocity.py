
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    velocity = momentum * velocity + grad
    step = grad + momentum * velocity if nesterov else velocity
    return theta - lr * (step + weight_decay * theta), velocity
