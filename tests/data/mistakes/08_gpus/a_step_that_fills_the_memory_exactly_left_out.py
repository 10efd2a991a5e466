
def max_batch(layer_sizes, optimizer, memory_gib):
    batch = 0
    while mlp_training_memory(layer_sizes, batch + 1, optimizer)[4] < memory_gib * 2 ** 30:
        batch += 1
    return batch
