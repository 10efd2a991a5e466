
def sigmoid(x):
    x = np.asarray(x, dtype=np.float32)
    return np.exp(-np.logaddexp(np.float32(0), -x))

def relu(x):
    x = np.asarray(x, dtype=np.float32)
    return np.where(x > 0, x, np.float32(0))

def softmax(z):
    z = np.asarray(z, dtype=np.float32)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)
