
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    blocks = {"rnn": 1, "gru": 3, "lstm": 4}[kind.lower()]
    d = 1 + int(bidirectional)

    def per_block(inputs):
        return hidden_size * inputs + hidden_size * hidden_size + hidden_size + hidden_size

    return int(blocks * d * (per_block(input_size) + (num_layers - 1) * per_block(d * hidden_size)))
