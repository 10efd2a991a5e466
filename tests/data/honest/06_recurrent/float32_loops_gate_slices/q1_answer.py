
def _sigmoid(z):
    return np.exp(-np.logaddexp(np.float32(0), -z))

def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    x, h, c, W_ih, W_hh, b_ih, b_hh = (np.asarray(a, dtype=np.float32) for a in (x, h, c, W_ih, W_hh, b_ih, b_hh))
    H = h.shape[1]
    h_new, c_new = np.zeros_like(h), np.zeros_like(c)
    for n in range(x.shape[0]):
        z = [W_ih[k * H:(k + 1) * H] @ x[n] + b_ih[k * H:(k + 1) * H] + W_hh[k * H:(k + 1) * H] @ h[n]
             + b_hh[k * H:(k + 1) * H] for k in range(4)]
        i, f, g, o = _sigmoid(z[0]), _sigmoid(z[1]), np.tanh(z[2]), _sigmoid(z[3])
        c_new[n] = f * c[n] + i * g
        h_new[n] = o * np.tanh(c_new[n])
    return h_new, c_new
