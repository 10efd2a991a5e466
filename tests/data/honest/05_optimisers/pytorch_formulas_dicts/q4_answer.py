
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    beta1, beta2 = 0.9, 0.999

    def first_step(w, g):
        m, v = (1 - beta1) * g, (1 - beta2) * g ** 2
        return w - lr * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps)

    return first_step(theta, grad + weight_decay * theta), first_step(theta * (1 - lr * weight_decay), grad)
