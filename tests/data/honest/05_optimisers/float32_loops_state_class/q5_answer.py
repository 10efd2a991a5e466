
def dropout(x, p, u, training=True):
    if p < 0 or p >= 1:
        raise ValueError("p must be in [0, 1)")
    x = np.asarray(x, dtype=np.float32)
    if not training:
        return x
    keep = np.asarray(u) >= p
    return np.where(keep, x / np.float32(1 - p), np.float32(0))
