
def max_batch(layer_sizes, optimizer, memory_gib):
    memory = memory_gib * 1024 * 1024 * 1024
    batch = 0
    while mlp_training_memory(layer_sizes, batch + 1, optimizer)[-1] <= memory:
        batch += 1
    return batch
