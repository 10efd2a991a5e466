
def adam_init(theta):
    return [np.zeros(np.shape(theta)), np.zeros(np.shape(theta))]

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * state[0] + (1 - beta1) * grad
    v = beta2 * state[1] + (1 - beta2) * grad ** 2
    return theta - lr * m / (np.sqrt(v) + eps), [m, v]
