
def causal_attention(Q, K, V, padding=None):
    scores = np.asarray(Q) @ np.swapaxes(K, 1, 2) / np.sqrt(np.shape(Q)[2])
    scores = np.where(causal_mask(np.shape(Q)[1])[None], scores, -np.inf)
    e = np.exp(scores - scores.max(axis=2, keepdims=True))
    weights = e / e.sum(axis=2, keepdims=True)
    return weights @ V, weights
