
def linear_rnn_jacobian_norms(W, T):
    W = np.asarray(W, dtype=np.float32)
    J = np.eye(W.shape[0], dtype=np.float32)
    norms = [np.float32(1.0)]
    for _ in range(T):
        J = J @ W
        norms.append(np.linalg.svd(J, compute_uv=False)[0])
    return np.array(norms[::-1], dtype=np.float32)
