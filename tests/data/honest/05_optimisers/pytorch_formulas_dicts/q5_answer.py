
def dropout(x, p, u, training=True):
    if not (0.0 <= p < 1.0):
        raise ValueError(f"p = {p} is not a probability of dropping in [0, 1)")
    out = np.array(x, dtype=float)
    if training:
        out[np.asarray(u) < p] = 0.0
        out /= 1.0 - p
    return out
