
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    steps = [lstm_cell(x, h0, c0, W_ih, W_hh, b_ih, b_hh) for x in X]
    return np.stack([h for h, c in steps]), steps[-1]
