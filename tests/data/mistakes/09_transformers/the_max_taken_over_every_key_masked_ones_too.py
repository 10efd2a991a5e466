
def causal_attention(Q, K, V, padding=None):
    allowed = causal_mask(np.shape(Q)[1])[None]
    if padding is not None:
        allowed = allowed & np.asarray(padding)[:, None, :]
    scores = np.asarray(Q) @ np.swapaxes(K, 1, 2) / np.sqrt(np.shape(Q)[2])
    scores = scores - scores.max(axis=2, keepdims=True)        # before masking: the later keys count too
    e = np.where(allowed, np.exp(scores), 0.0)
    weights = e / e.sum(axis=2, keepdims=True)
    return weights @ V, weights
