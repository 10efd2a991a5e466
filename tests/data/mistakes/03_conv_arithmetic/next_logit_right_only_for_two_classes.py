
def next_logit(o, target, c, lr):
    other = o[1 - c]
    p_c = 1 / (1 + math.exp(other - o[c]))
    return o[c] - lr * (p_c - (1.0 if c == target else 0.0))
