
def causal_attention(Q, K, V, padding=None):
    T, d = np.shape(Q)[1], np.shape(Q)[2]
    scores = np.einsum("bid,bjd->bij", Q, K) / np.sqrt(d)
    keep = np.broadcast_to(~np.triu(np.ones((T, T), dtype=bool), k=1), scores.shape)
    if padding is not None:
        keep = keep & np.asarray(padding)[:, None, :]
    scores = np.where(keep, scores, -1e30)                  # a large negative number: exp gives exactly 0
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return np.einsum("bij,bjv->biv", weights, V), weights
