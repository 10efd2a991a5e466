
def adam_init(theta):
    return {"step": 0, "exp_avg": np.zeros(np.shape(theta)), "exp_avg_sq": np.zeros(np.shape(theta))}

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["step"] += 1
    t = state["step"]
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1 ** t)
    denom = np.sqrt(state["exp_avg_sq"]) / np.sqrt(1 - beta2 ** t) + eps
    theta -= step_size * state["exp_avg"] / denom
    return theta, state
