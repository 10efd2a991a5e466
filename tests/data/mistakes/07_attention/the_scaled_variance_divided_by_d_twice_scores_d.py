
def score_variances(query, keys):
    dots = np.sum(np.asarray(query) * np.asarray(keys), axis=1)
    return np.var(dots), np.var(dots / np.shape(query)[1])
