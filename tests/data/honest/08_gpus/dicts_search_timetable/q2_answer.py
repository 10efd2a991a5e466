
def _fits(layer_sizes, optimizer, batch, memory):
    return mlp_training_memory(layer_sizes, batch, optimizer)["total"] <= memory


def max_batch(layer_sizes, optimizer, memory_gib):
    memory = memory_gib * (1 << 30)
    if not _fits(layer_sizes, optimizer, 1, memory):
        return 0
    low, high = 1, 2
    while _fits(layer_sizes, optimizer, high, memory):
        low, high = high, 2 * high
    while high - low > 1:                 # low fits, high does not
        middle = (low + high) // 2
        if _fits(layer_sizes, optimizer, middle, memory):
            low = middle
        else:
            high = middle
    return low
