
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True) - mean ** 2      # E[x^2] - mean^2, in float64
    return (x - mean) * (gamma / np.sqrt(variance + eps)) + beta
