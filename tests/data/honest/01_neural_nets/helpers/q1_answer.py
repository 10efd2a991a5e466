
def _relu(a):
    return a * (a > 0)

def _softmax_rows(s):
    s = s - s.max(axis=1)[:, None]
    return np.exp(s) / np.exp(s).sum(axis=1)[:, None]

def forward(X, W1, b1, W2, b2):
    return _softmax_rows(_relu(np.dot(X, W1) + b1).dot(W2) + b2)
