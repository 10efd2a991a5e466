
def dot_scores(query, keys, scaled=False):
    scores = np.einsum("bid,bjd->bij", query, keys)
    return scores / np.sqrt(np.shape(query)[-1]) if scaled else scores

def general_scores(query, keys, W):
    return np.einsum("bid,de,bje->bij", query, W, keys)
