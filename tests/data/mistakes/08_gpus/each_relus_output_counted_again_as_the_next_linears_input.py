
def mlp_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * params
    activations = 4 * batch * (sum(layer_sizes[:-1]) + sum(layer_sizes[1:-1]))
    return params, params, state, activations, 2 * params + state + activations
