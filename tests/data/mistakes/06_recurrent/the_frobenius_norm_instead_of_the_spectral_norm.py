
def linear_rnn_jacobian_norms(W, T):
    return np.array([np.linalg.norm(np.linalg.matrix_power(W, T - t)) for t in range(T + 1)])
