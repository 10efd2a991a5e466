
def context_vectors(weights, values):
    return np.array([w @ v for w, v in zip(np.asarray(weights), np.asarray(values))])

SCORERS = {"dot": dot_scores, "general": general_scores, "additive": additive_scores, "cosine": cosine_scores}

def attend(query, keys, values, mask=None, score="scaled", **params):
    scores = dot_scores(query, keys, scaled=True) if score == "scaled" else SCORERS[score](query, keys, **params)
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
