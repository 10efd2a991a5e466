
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outputs, state = [], (h0, c0)
    for x in X:
        state = lstm_cell(x, *state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[0])
    return np.array(outputs), tuple(state)
