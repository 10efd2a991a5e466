
def causal_attention(Q, K, V, padding=None):
    Q, K, V = (np.asarray(a, dtype=np.float32) for a in (Q, K, V))
    B, T, d = Q.shape
    context = np.zeros((B, T, V.shape[2]), dtype=np.float32)
    weights = np.zeros((B, T, T), dtype=np.float32)
    for b in range(B):
        for i in range(T):
            keys = [j for j in range(i + 1) if padding is None or padding[b][j]]
            scores = np.array([Q[b, i] @ K[b, j] for j in keys], dtype=np.float32) / np.float32(np.sqrt(d))
            e = np.exp(scores - scores.max())
            weights[b, i, keys] = e / e.sum()
            context[b, i] = weights[b, i] @ V[b]
    return context, weights
