
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    theta = np.asarray(theta, dtype=float)
    with_l2, _ = adam_step(theta.copy(), grad + weight_decay * theta, adam_init(theta), lr, eps=eps)
    decoupled, _ = adam_step(theta * (1 - lr * weight_decay), grad, adam_init(theta), lr, eps=eps)
    return with_l2, decoupled
