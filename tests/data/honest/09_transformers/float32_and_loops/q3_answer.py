
def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=np.float32)
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat)
    for row in range(flat.shape[0]):
        v = flat[row]
        mu = v.sum() / len(v)
        var = ((v - mu) ** 2).sum() / len(v)
        out[row] = (v - mu) / np.sqrt(var + np.float32(eps)) * np.asarray(gamma, dtype=np.float32) \
            + np.asarray(beta, dtype=np.float32)
    return out.reshape(x.shape)
