
def additive_scores(query, keys, W1, W2, v):
    hq = np.einsum("hd,bid->bih", W1, query)
    hk = np.einsum("hd,bjd->bjh", W2, keys)
    return np.einsum("bijh,h->bij", np.tanh(hq[:, :, None] + hk[:, None]), v)

def cosine_scores(query, keys):
    q, k = np.asarray(query), np.asarray(keys)
    lengths = np.einsum("bi,bj->bij", np.linalg.norm(q, axis=-1), np.linalg.norm(k, axis=-1))
    return np.einsum("bid,bjd->bij", q, k) / lengths
