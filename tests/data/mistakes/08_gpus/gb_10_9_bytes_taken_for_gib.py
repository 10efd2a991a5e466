
def max_batch(layer_sizes, optimizer, memory_gib):
    fixed = mlp_training_memory(layer_sizes, 0, optimizer)[4]
    per_sample = mlp_training_memory(layer_sizes, 1, optimizer)[4] - fixed
    return max(0, int((memory_gib * 1e9 - fixed) // per_sample))
