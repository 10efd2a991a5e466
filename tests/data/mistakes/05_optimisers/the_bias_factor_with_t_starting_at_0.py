
def bias_factor(beta, t):
    return 1 / (1 - beta ** (t - 1)) if t > 1 else 1 / (1 - beta)

def uncorrected_first_step(lr, beta1, beta2):
    return lr * (1 - beta1) / np.sqrt(1 - beta2)
