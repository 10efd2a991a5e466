
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=np.float32)
    batch, queries, n_keys = scores.shape
    weights = np.zeros_like(scores)
    for b in range(batch):
        keep = [j for j in range(n_keys) if mask is None or mask[b][j]]
        if not keep:
            raise ValueError(f"batch item {b} has no key to attend")
        for i in range(queries):
            row = scores[b, i, keep]
            e = np.exp(row - row.max())
            weights[b, i, keep] = e / e.sum()
    return weights
