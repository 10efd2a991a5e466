
def gpt_parameters(V, context, L, d):
    parts = {"embeddings": (V + context) * d,
             "layer norms": L * 2 * (2 * d) + 2 * d,
             "attention": L * 4 * d * (d + 1),
             "mlp": L * (8 * d * d + 5 * d)}
    return sum(parts.values())


def forward_macs(V, L, d, T):
    return int(np.int64(T) * d * (12 * L * d + V + 2 * L * T))


def kv_cache_bytes(L, d, T, batch, bytes_per_value):
    return np.prod([2, L, T, d, batch, bytes_per_value], dtype=np.int64)
