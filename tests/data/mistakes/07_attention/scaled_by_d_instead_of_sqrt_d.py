
def dot_scores(query, keys, scaled=False):
    scores = np.asarray(query) @ np.swapaxes(keys, 1, 2)
    return scores / np.shape(query)[2] if scaled else scores

def general_scores(query, keys, W):
    return np.asarray(query) @ np.asarray(W) @ np.swapaxes(keys, 1, 2)
