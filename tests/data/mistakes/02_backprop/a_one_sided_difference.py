
def numerical_gradient(f, w, eps=1e-6):
    w = np.asarray(w, dtype=float)
    grad = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        up = w.copy()
        up[index] += eps
        grad[index] = (f(up) - f(w)) / eps
    return grad
