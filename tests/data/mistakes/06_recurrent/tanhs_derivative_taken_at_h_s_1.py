
def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    h = [h0]
    for x in xs:
        h.append(np.tanh(w * h[-1] + u * x + b))
    grads = [1.0]
    for s in range(len(xs), 0, -1):
        grads.append(grads[-1] * w * (1 - h[s - 1] ** 2))
    return np.array(grads[::-1])
