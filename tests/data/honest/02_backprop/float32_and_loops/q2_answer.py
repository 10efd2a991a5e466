
def numerical_gradient(f, w, eps=1e-6):
    flat = np.array(w, dtype=float).ravel()
    grad = []
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = eps
        grad.append((f((flat + step).reshape(np.shape(w))) - f((flat - step).reshape(np.shape(w)))) / (2 * eps))
    return np.array(grad).reshape(np.shape(w))
