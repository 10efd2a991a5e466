
def next_logit(o, target, c, lr):
    o = np.asarray(o, dtype=np.float32)
    p = np.exp(o - o.max())
    p = p / p.sum()
    y = np.zeros_like(p)
    y[target] = 1
    return (o - lr * (p - y))[c]
