
def context_vectors(weights, values):
    return np.asarray(weights) @ np.asarray(values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "scaled":
        scores = dot_scores(query, keys, scaled=True)
    else:
        scores = {"dot": dot_scores, "general": general_scores, "additive": additive_scores,
                  "cosine": cosine_scores}[score](query, keys, **params)
    weights = masked_softmax(scores)
    return context_vectors(weights, values), weights
