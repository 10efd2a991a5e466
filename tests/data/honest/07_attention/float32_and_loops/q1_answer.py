
def dot_scores(query, keys, scaled=False):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    batch, queries, d = query.shape
    scores = np.zeros((batch, queries, keys.shape[1]), dtype=np.float32)
    for b in range(batch):
        for i in range(queries):
            for j in range(keys.shape[1]):
                scores[b, i, j] = np.dot(query[b, i], keys[b, j])
    if scaled:
        scores = scores / np.float32(np.sqrt(d))
    return scores

def general_scores(query, keys, W):
    query, keys, W = (np.asarray(a, dtype=np.float32) for a in (query, keys, W))
    return np.stack([query[b] @ W @ keys[b].T for b in range(len(query))])
