
def additive_scores(query, keys, W1, W2, v):
    out = []
    for q_b, k_b in zip(np.asarray(query), np.asarray(keys)):
        a = q_b @ np.asarray(W1).T                      # (Tq, H)
        c = k_b @ np.asarray(W2).T                      # (Tk, H)
        out.append(np.array([[np.dot(v, np.tanh(x + y)) for y in c] for x in a]))
    return np.array(out)

def _unit(x):
    x = np.asarray(x, dtype=float)
    return x / np.sqrt((x * x).sum(axis=-1))[..., None]

def cosine_scores(query, keys):
    return np.matmul(_unit(query), _unit(keys).transpose(0, 2, 1))
