
def masked_softmax(scores, mask=None):
    scores = np.array(scores, dtype=np.float64)          # a copy: filled in place below
    if mask is not None:
        allowed = np.broadcast_to(np.asarray(mask)[:, None, :], scores.shape)
        if (np.sum(mask, axis=-1) == 0).any():
            raise ValueError("a row with every key masked has no softmax")
        scores[~allowed] = -1e9
    top = scores.max(axis=-1, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(scores - top), axis=-1, keepdims=True))
    weights = np.exp(scores - log_sum)
    return weights if mask is None else np.where(allowed, weights, 0.0)
