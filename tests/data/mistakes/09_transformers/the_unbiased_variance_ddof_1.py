
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    variance = np.var(x, axis=-1, ddof=1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + eps) + beta
