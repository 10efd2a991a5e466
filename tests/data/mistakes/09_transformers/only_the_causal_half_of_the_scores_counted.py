
def gpt_parameters(V, context, L, d):
    return V * d + context * d + L * (12 * d * d + 13 * d) + 2 * d


def forward_macs(V, L, d, T):
    return T * (12 * L * d * d + V * d) + L * T * T * d


def kv_cache_bytes(L, d, T, batch, bytes_per_value):
    return 2 * L * T * d * batch * bytes_per_value
