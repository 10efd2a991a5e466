
def context_vectors(weights, values):
    weights, values = np.asarray(weights, dtype=np.float32), np.asarray(values, dtype=np.float32)
    context = np.zeros((weights.shape[0], weights.shape[1], values.shape[2]), dtype=np.float32)
    for b in range(weights.shape[0]):
        for i in range(weights.shape[1]):
            for j in range(weights.shape[2]):
                context[b, i] += weights[b, i, j] * values[b, j]
    return context

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "dot":
        scores = dot_scores(query, keys)
    elif score == "scaled":
        scores = dot_scores(query, keys, True)
    elif score == "general":
        scores = general_scores(query, keys, params["W"])
    elif score == "additive":
        scores = additive_scores(query, keys, params["W1"], params["W2"], params["v"])
    elif score == "cosine":
        scores = cosine_scores(query, keys)
    else:
        raise ValueError(f"unknown score {score!r}")
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
