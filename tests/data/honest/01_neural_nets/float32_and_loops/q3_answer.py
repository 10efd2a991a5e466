
from functools import reduce

def collapse(weights, biases):
    def merge(layer, nxt):
        (W, b), (Wn, bn) = layer, nxt
        return W @ Wn, b @ Wn + bn
    W, b = reduce(merge, zip(weights, biases))
    return W.tolist(), list(b)
