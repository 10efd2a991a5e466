
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    g = grad + weight_decay * theta
    return theta - lr * g / (np.abs(g) + eps), theta - weight_decay * theta - lr * grad / (np.abs(grad) + eps)
