
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    sizes = [input_size] + [directions * hidden_size] * (num_layers - 1)
    weights = sum(gates * hidden_size * (size + hidden_size) for size in sizes)
    biases = num_layers * gates * 2 * hidden_size
    return directions * (weights + biases)
