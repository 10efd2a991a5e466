
def backward(X, Y, W1, b1, W2, b2):
    X, Y, W1, b1, W2, b2 = (np.asarray(a, dtype=np.float32) for a in (X, Y, W1, b1, W2, b2))
    n = X.shape[0]
    dW1, db1, dW2, db2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
    for x, y in zip(X, Y):
        a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
        y_hat = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        d2 = (y_hat - y) / n
        dW2 += np.outer(a1, d2)
        db2 += d2
        d1 = (W2 @ d2) * a1 * (1 - a1)
        dW1 += np.outer(x, d1)
        db1 += d1
    return dW1, db1, dW2, db2
