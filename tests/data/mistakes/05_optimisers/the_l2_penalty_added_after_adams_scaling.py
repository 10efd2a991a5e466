
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    adam = grad / (np.abs(grad) + eps)
    return theta - lr * (adam + weight_decay * theta), theta - lr * weight_decay * theta - lr * adam
