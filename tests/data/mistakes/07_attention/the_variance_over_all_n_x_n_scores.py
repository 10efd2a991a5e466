
def score_variances(query, keys):
    scores = np.asarray(query) @ np.asarray(keys).T
    return np.var(scores), np.var(scores / np.sqrt(np.shape(query)[1]))
