
def masked_softmax(scores, mask=None):
    s = np.asarray(scores, dtype=float)
    m = np.ones((s.shape[0], s.shape[2])) if mask is None else np.asarray(mask, dtype=float)
    if np.any(m.sum(axis=1) == 0):
        raise ValueError("no key left to attend")
    m = m[:, None, :]
    safe = s * m + (1 - m) * -1e30                      # masked scores far below every real one
    e = np.exp(safe - safe.max(axis=2, keepdims=True)) * m
    return e / e.sum(axis=2, keepdims=True)
