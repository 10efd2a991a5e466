
import math

def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    h, hs = h0, []
    for x in xs:
        h = math.tanh(w * h + u * x + b)
        hs.append(h)
    factors = w * (1 - np.array(hs) ** 2)
    return list(np.cumprod(factors[::-1])[::-1]) + [1.0]
