
def sgd_step(params, grads, lr):
    new = []
    for p, g in zip(params, grads):
        new.append(np.subtract(p, np.multiply(lr, g)))
    return new
