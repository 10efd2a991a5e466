
def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    w, u, b = np.float32(w), np.float32(u), np.float32(b)
    hs = [np.float32(h0)]
    for x in np.asarray(xs, dtype=np.float32):
        hs.append(np.tanh(w * hs[-1] + u * x + b))
    T = len(hs) - 1
    return np.array([np.prod([w * (1 - hs[s] ** 2) for s in range(t + 1, T + 1)]) for t in range(T + 1)],
                    dtype=np.float32)
