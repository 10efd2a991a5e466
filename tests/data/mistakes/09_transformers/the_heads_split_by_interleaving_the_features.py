
def gelu(z):
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))


def pre_ln_block(x, params, heads=1):
    B, T, d = np.shape(x)
    a = layer_norm(x, params["ln1_gamma"], params["ln1_beta"])
    q, k, v = (a @ params["W_" + n] + params["b_" + n] for n in "qkv")
    # head h takes the features h, h + heads, h + 2 heads, ...: interleaved, not consecutive
    split = [t.reshape(B, T, d // heads, heads).transpose(0, 3, 1, 2).reshape(B * heads, T, d // heads)
             for t in (q, k, v)]
    context = causal_attention(*split)[0].reshape(B, heads, T, d // heads).transpose(0, 2, 3, 1).reshape(B, T, d)
    h = x + context @ params["W_o"] + params["b_o"]
    m = layer_norm(h, params["ln2_gamma"], params["ln2_beta"])
    return h + gelu(m @ params["W_1"] + params["b_1"]) @ params["W_2"] + params["b_2"]
