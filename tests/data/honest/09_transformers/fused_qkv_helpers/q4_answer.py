
def gelu(z):
    z = np.array(z, dtype=np.float64)
    inner = np.sqrt(2.0 / np.pi) * (z + 0.044715 * np.power(z, 3))
    return z * (1.0 + np.tanh(inner)) / 2.0


def linear(t, W, b):
    return np.matmul(t, W) + b


def attention_sublayer(a, params, heads):
    W = np.concatenate([params["W_q"], params["W_k"], params["W_v"]], axis=1)     # GPT-2's c_attn: (d, 3d)
    b = np.concatenate([params["b_q"], params["b_k"], params["b_v"]])
    q, k, v = np.split(linear(a, W, b), 3, axis=-1)
    size = a.shape[-1] // heads
    outputs = []
    for head in range(heads):
        part = slice(head * size, head * size + size)
        outputs.append(causal_attention(q[..., part], k[..., part], v[..., part])[0])
    return linear(np.concatenate(outputs, axis=-1), params["W_o"], params["b_o"])


def mlp_sublayer(m, params):
    return linear(gelu(linear(m, params["W_1"], params["b_1"])), params["W_2"], params["b_2"])


def pre_ln_block(x, params, heads=1):
    h = x + attention_sublayer(layer_norm(x, params["ln1_gamma"], params["ln1_beta"]), params, heads)
    return h + mlp_sublayer(layer_norm(h, params["ln2_gamma"], params["ln2_beta"]), params)
