import math


def gelu(z):
    z = np.asarray(z, dtype=np.float32)
    out = np.empty_like(z)
    for index, value in np.ndenumerate(z):
        value = float(value)
        out[index] = 0.5 * value * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (value + 0.044715 * value ** 3)))
    return out


def pre_ln_block(x, params, heads=1):
    p = {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}
    x = np.asarray(x, dtype=np.float32)
    d = x.shape[2]
    size = d // heads
    a = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
    q = a @ p["W_q"] + p["b_q"]
    k = a @ p["W_k"] + p["b_k"]
    v = a @ p["W_v"] + p["b_v"]
    joined = np.zeros_like(x)
    for head in range(heads):
        cols = slice(head * size, (head + 1) * size)
        joined[:, :, cols] = causal_attention(q[:, :, cols], k[:, :, cols], v[:, :, cols])[0]
    h = x + joined @ p["W_o"] + p["b_o"]
    m = layer_norm(h, p["ln2_gamma"], p["ln2_beta"])
    hidden = gelu(m @ p["W_1"] + p["b_1"])
    return h + hidden @ p["W_2"] + p["b_2"]
