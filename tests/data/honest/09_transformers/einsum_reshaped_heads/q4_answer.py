
C = np.sqrt(2 / np.pi)


def gelu(z):
    return z * (0.5 + 0.5 * np.tanh(C * z * (1 + 0.044715 * z * z)))


def pre_ln_block(x, params, heads=1):
    B, T, d = np.shape(x)

    def to_heads(t):                       # (B, T, d) -> (B * heads, T, d / heads)
        return t.reshape(B, T, heads, d // heads).transpose(0, 2, 1, 3).reshape(B * heads, T, d // heads)

    a = layer_norm(x, params["ln1_gamma"], params["ln1_beta"])
    q, k, v = (to_heads(np.einsum("btd,de->bte", a, params["W_" + n]) + params["b_" + n]) for n in "qkv")
    context = causal_attention(q, k, v)[0].reshape(B, heads, T, d // heads).transpose(0, 2, 1, 3).reshape(B, T, d)
    h = x + np.einsum("btd,de->bte", context, params["W_o"]) + params["b_o"]
    m = layer_norm(h, params["ln2_gamma"], params["ln2_beta"])
    return h + np.einsum("btf,fd->btd", gelu(m @ params["W_1"] + params["b_1"]), params["W_2"]) + params["b_2"]
