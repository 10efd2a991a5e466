
def dropout(x, p, u, training=True):
    if not 0 <= p < 1:
        raise ValueError("p must be in [0, 1)")
    return x * (u >= p) * p if training else x
