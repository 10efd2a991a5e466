
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        scores = np.where(np.asarray(mask)[:, None, :], scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
