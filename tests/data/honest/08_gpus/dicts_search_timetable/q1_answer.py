
OPTIMIZER_BUFFERS = {"sgd": 0, "momentum": 1, "adam": 2}


def mlp_parameters(layer_sizes):
    sizes = np.array(layer_sizes, dtype=np.int64)
    return int(np.sum(sizes[:-1] * sizes[1:]) + np.sum(sizes[1:]))


def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    kept = [layer_sizes[0]] + list(layer_sizes[1:-1])     # the input, then each ReLU's output
    activations = 4 * batch * sum(kept)
    memory = {"params": params, "gradients": params,
              "optimizer_state": OPTIMIZER_BUFFERS[optimizer] * params, "activations": activations}
    memory["total"] = sum(memory.values())
    return memory
