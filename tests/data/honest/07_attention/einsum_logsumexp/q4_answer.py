
def context_vectors(weights, values):
    return np.einsum("bij,bjd->bid", weights, values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "scaled":
        scores = dot_scores(query, keys, scaled=True)
    else:
        scores = globals()[f"{score}_scores"](query, keys, **params)
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
