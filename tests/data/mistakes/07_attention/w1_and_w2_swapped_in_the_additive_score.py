
def additive_scores(query, keys, W1, W2, v):
    hidden = np.tanh((query @ W2.T)[:, :, None, :] + (keys @ W1.T)[:, None, :, :])
    return hidden @ v

def cosine_scores(query, keys):
    unit_queries = query / np.linalg.norm(query, axis=-1, keepdims=True)
    unit_keys = keys / np.linalg.norm(keys, axis=-1, keepdims=True)
    return unit_queries @ np.swapaxes(unit_keys, 1, 2)
