
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    keep = np.ones((scores.shape[0], scores.shape[2])) if mask is None else np.asarray(mask, dtype=float)
    if np.any(keep.sum(axis=1) == 0):
        raise ValueError("every key masked")
    e = np.exp(scores - scores.max(axis=-1, keepdims=True)) * keep[:, None, :]
    return e / e.sum(axis=-1, keepdims=True)
