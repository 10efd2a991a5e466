
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if np.asarray(mask).all(axis=1).any():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], -np.inf, scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
