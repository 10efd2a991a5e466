
def linear_params(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def gpt_parameters(V, context, L, d):
    layer_norm_params = 2 * d
    block = (2 * layer_norm_params + linear_params(d, 3 * d) + linear_params(d, d)
             + linear_params(d, 4 * d) + linear_params(4 * d, d))
    untied_head = linear_params(d, V, bias=False)
    return V * d + context * d + L * block + layer_norm_params + untied_head - V * d   # the head is tied


def forward_macs(V, L, d, T):
    per_block = T * (linear_params(d, 3 * d, False) + linear_params(d, d, False) + 2 * linear_params(d, 4 * d, False))
    attention = 2 * T * T * d
    return L * (per_block + attention) + T * linear_params(d, V, False)


def kv_cache_bytes(L, d, T, batch, bytes_per_value):
    keys = values = L * batch * T * d
    return (keys + values) * bytes_per_value
