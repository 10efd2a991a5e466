
def backward(X, Y, W1, b1, W2, b2):
    A1 = sigmoid(X @ W1 + b1)
    D2 = sigmoid(A1 @ W2 + b2) - Y
    D1 = (D2 @ W2.T) * A1 * (1 - A1)
    return X.T @ D1, D1.sum(axis=0), A1.T @ D2, D2.sum(axis=0)
