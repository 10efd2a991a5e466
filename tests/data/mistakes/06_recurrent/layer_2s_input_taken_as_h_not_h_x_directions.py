
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else hidden_size
        total += directions * gates * (hidden_size * (inputs + hidden_size) + 2 * hidden_size)
    return total
