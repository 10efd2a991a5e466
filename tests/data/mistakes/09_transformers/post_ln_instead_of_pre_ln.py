
def gelu(z):
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))


def attention(a, params, heads):
    q, k, v = (a @ params["W_" + n] + params["b_" + n] for n in "qkv")
    parts = zip(np.split(q, heads, axis=2), np.split(k, heads, axis=2), np.split(v, heads, axis=2))
    context = np.concatenate([causal_attention(qh, kh, vh)[0] for qh, kh, vh in parts], axis=2)
    return context @ params["W_o"] + params["b_o"]


def mlp(m, params):
    return gelu(m @ params["W_1"] + params["b_1"]) @ params["W_2"] + params["b_2"]


def pre_ln_block(x, params, heads=1):
    h = layer_norm(x + attention(x, params, heads), params["ln1_gamma"], params["ln1_beta"])
    return layer_norm(h + mlp(h, params), params["ln2_gamma"], params["ln2_beta"])
