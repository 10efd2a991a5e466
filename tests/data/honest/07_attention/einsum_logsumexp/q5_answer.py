
def score_variances(query, keys):
    dots = np.diagonal(np.asarray(query) @ np.asarray(keys).T)
    scaled = dots / np.sqrt(len(query[0]))
    return np.mean((dots - dots.mean()) ** 2), np.mean((scaled - scaled.mean()) ** 2)
