
def score_variances(query, keys):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    dots = np.array([q @ k for q, k in zip(query, keys)], dtype=np.float32)
    return float(np.var(dots)), float(np.var(dots / np.sqrt(np.float32(query.shape[1]))))
