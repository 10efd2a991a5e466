
def additive_scores(query, keys, W1, W2, v):
    query, keys, W1, W2, v = (np.asarray(a, dtype=np.float32) for a in (query, keys, W1, W2, v))
    scores = np.zeros((query.shape[0], query.shape[1], keys.shape[1]), dtype=np.float32)
    for b in range(query.shape[0]):
        for i in range(query.shape[1]):
            for j in range(keys.shape[1]):
                scores[b, i, j] = v @ np.tanh(W1 @ query[b, i] + W2 @ keys[b, j])
    return scores

def cosine_scores(query, keys):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    scores = np.zeros((query.shape[0], query.shape[1], keys.shape[1]), dtype=np.float32)
    for b in range(query.shape[0]):
        for i, q in enumerate(query[b]):
            for j, k in enumerate(keys[b]):
                scores[b, i, j] = q @ k / (np.sqrt(q @ q) * np.sqrt(k @ k))
    return scores
