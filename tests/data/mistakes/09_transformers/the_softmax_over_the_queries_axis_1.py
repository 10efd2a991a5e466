
def causal_attention(Q, K, V, padding=None):
    allowed = causal_mask(np.shape(Q)[1])[None]
    if padding is not None:
        allowed = allowed & np.asarray(padding)[:, None, :]
    scores = np.where(allowed, np.asarray(Q) @ np.swapaxes(K, 1, 2) / np.sqrt(np.shape(Q)[2]), -np.inf)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = e / e.sum(axis=1, keepdims=True)
    return weights @ V, weights
