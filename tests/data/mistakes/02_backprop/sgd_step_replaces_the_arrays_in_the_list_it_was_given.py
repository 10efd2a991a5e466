
def sgd_step(params, grads, lr):
    for i, g in enumerate(grads):
        params[i] = params[i] - lr * g
    return params
