
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    z = np.concatenate([x, h], axis=1) @ np.concatenate([W_ih, W_hh], axis=1).T + (b_ih + b_hh)
    H = c.shape[-1]
    gate = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate("ifgo")}
    c_new = sigmoid(gate["f"]) * c + sigmoid(gate["i"]) * np.tanh(gate["g"])
    return sigmoid(gate["o"]) * np.tanh(c_new), c_new
