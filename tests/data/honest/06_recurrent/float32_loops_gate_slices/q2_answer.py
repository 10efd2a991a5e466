
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    state = {"h": h0, "c": c0}
    outputs = np.zeros((len(X),) + np.shape(h0), dtype=np.float32)
    for t in range(len(X)):
        state["h"], state["c"] = lstm_cell(X[t], state["h"], state["c"], W_ih, W_hh, b_ih, b_hh)
        outputs[t] = state["h"]
    return [outputs, [state["h"], state["c"]]]
