
def softmax_rows(scores, allowed):
    top = np.max(scores, axis=-1, keepdims=True, where=allowed, initial=-np.inf)
    e = np.exp(scores - top, where=allowed, out=np.zeros_like(scores))
    return e / e.sum(axis=-1, keepdims=True)


def causal_attention(Q, K, V, padding=None):
    Q, K, V = np.array(Q, dtype=float), np.array(K, dtype=float), np.array(V, dtype=float)
    allowed = np.tile(causal_mask(Q.shape[1]), (Q.shape[0], 1, 1))
    if padding is not None:
        allowed *= np.array(padding, dtype=bool)[:, np.newaxis, :]
    weights = softmax_rows(Q @ K.transpose(0, 2, 1) / Q.shape[-1] ** 0.5, allowed)
    return weights @ V, weights
