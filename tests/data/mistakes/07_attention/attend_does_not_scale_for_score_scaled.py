
def context_vectors(weights, values):
    return np.asarray(weights) @ np.asarray(values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    functions = {"dot": dot_scores, "scaled": dot_scores, "general": general_scores, "additive": additive_scores,
                 "cosine": cosine_scores}
    weights = masked_softmax(functions[score](query, keys, **params), mask)
    return context_vectors(weights, values), weights
