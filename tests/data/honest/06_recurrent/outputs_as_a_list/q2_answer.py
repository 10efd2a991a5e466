
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return outputs, (h, c)          # a list of T arrays of B x H: the README says lists pass
