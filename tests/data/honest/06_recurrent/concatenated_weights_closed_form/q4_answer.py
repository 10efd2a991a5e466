
def linear_rnn_jacobian_norms(W, T):
    norms = []
    for t in range(T + 1):
        J = np.linalg.matrix_power(W, T - t)
        norms.append(float(np.sqrt(np.max(np.linalg.eigvalsh(J.T @ J)))))
    return norms
