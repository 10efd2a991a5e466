
def mlp_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 1):
        total += layer_sizes[i] * layer_sizes[i + 1]   # weights
        total += layer_sizes[i + 1]                    # biases
    return total


def mlp_training_memory(layer_sizes, batch, optimizer):
    bytes_per_value = 4.0
    params = bytes_per_value * mlp_parameters(layer_sizes)
    gradients = params
    if optimizer == "sgd":
        state = 0.0
    elif optimizer == "momentum":
        state = params
    else:                                   # adam: m and v
        state = params + params
    activations = 0.0
    for size in layer_sizes[:len(layer_sizes) - 1]:
        activations += bytes_per_value * batch * size
    return [params, gradients, state, activations, params + gradients + state + activations]
