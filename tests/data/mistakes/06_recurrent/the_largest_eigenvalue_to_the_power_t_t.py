
def linear_rnn_jacobian_norms(W, T):
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    return np.array([radius ** (T - t) for t in range(T + 1)])
