
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if not np.asarray(mask).any(axis=1).all():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], scores, -np.inf)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)
