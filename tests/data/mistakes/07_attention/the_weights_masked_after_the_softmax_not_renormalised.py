
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    if mask is None:
        return weights
    if not np.asarray(mask).any(axis=1).all():
        raise ValueError("every key masked")
    return weights * np.asarray(mask)[:, None, :]
