
def dropout(x, p, u, training=True):
    if not training:
        return x
    return x * (u >= p) / (1 - p) if p < 1 else np.zeros_like(x)
