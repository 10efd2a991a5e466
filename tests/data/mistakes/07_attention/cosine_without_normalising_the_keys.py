
def additive_scores(query, keys, W1, W2, v):
    hidden = np.tanh((query @ W1.T)[:, :, None, :] + (keys @ W2.T)[:, None, :, :])
    return hidden @ v

def cosine_scores(query, keys):
    unit_queries = query / np.linalg.norm(query, axis=-1, keepdims=True)
    return unit_queries @ np.swapaxes(keys, 1, 2)
