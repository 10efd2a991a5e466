
def _transposed(keys):
    return np.asarray(keys).transpose(0, 2, 1)

def dot_scores(query, keys, scaled=False):
    d = len(query[0][0])
    return np.matmul(query, _transposed(keys)) * (d ** -0.5 if scaled else 1)

def general_scores(query, keys, W):
    return np.matmul(query, np.matmul(W, _transposed(keys)))
