
def gpt_parameters(V, context, L, d):
    total = V * d + context * d            # token and position embeddings
    for _ in range(L):
        total += 2 * d                     # LayerNorm 1
        for _ in range(4):                 # q, k, v and the output projection
            total += d * d + d
        total += 2 * d                     # LayerNorm 2
        total += d * (4 * d) + 4 * d       # MLP up
        total += (4 * d) * d + d           # MLP down
    total += 2 * d                         # final LayerNorm
    return total


def forward_macs(V, L, d, T):
    macs = 0
    for _ in range(L):
        macs += T * 4 * d * d              # q, k, v, output
        macs += T * 8 * d * d              # MLP
        macs += T * T * d                  # Q K^T
        macs += T * T * d                  # weights @ V
    return macs + T * d * V                # the output layer


def kv_cache_bytes(L, d, T, batch, bytes_per_value):
    per_block = batch * T * d * bytes_per_value
    return float(L * (per_block + per_block))
