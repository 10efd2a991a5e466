"""Answers students write: honest ones in other legitimate forms, and the typical mistakes.

``HONEST[assignment][variant]`` maps answer cells to sources that are right, written
another way than the reference (loops instead of vectorised code, lists instead of
tuples, float32, nested modules, helper functions, a Vietnamese written answer): each
must get full marks for every student.  ``MISTAKES[assignment][name]`` is one wrong
answer cell the outside checks found the old tests let through, with the question whose
test must catch it: it must lose that question's points for every student.
"""

from __future__ import annotations

HONEST = {
    "01_neural_nets": {
        "float32 and loops": {
            "q1_answer": '''
def forward(X, W1, b1, W2, b2):
    X, W1, b1, W2, b2 = (np.asarray(a, dtype=np.float32) for a in (X, W1, b1, W2, b2))
    rows = []
    for x in X:
        hidden = np.maximum(x @ W1 + b1, 0)
        scores = hidden @ W2 + b2
        e = np.exp(scores - scores.max())
        rows.append(e / e.sum())
    return np.stack(rows)
''',
            "q2_answer": '''
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
''',
            "q3_answer": '''
from functools import reduce

def collapse(weights, biases):
    def merge(layer, nxt):
        (W, b), (Wn, bn) = layer, nxt
        return W @ Wn, b @ Wn + bn
    W, b = reduce(merge, zip(weights, biases))
    return W.tolist(), list(b)
''',
        },
        "helpers": {
            "q1_answer": '''
def _relu(a):
    return a * (a > 0)

def _softmax_rows(s):
    s = s - s.max(axis=1)[:, None]
    return np.exp(s) / np.exp(s).sum(axis=1)[:, None]

def forward(X, W1, b1, W2, b2):
    return _softmax_rows(_relu(np.dot(X, W1) + b1).dot(W2) + b2)
''',
            "q4_answer": "Không có hàm kích hoạt, nhiều tầng tuyến tính gộp lại thành một phép biến đổi tuyến tính "
                         "(câu 3), nên ranh giới quyết định là một đường thẳng; không đường thẳng nào tách được "
                         "{(0,1), (1,0)} khỏi {(0,0), (1,1)}.",
        },
    },
    "02_backprop": {
        "float32 and loops": {
            "q1_answer": '''
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
''',
            "q2_answer": '''
def numerical_gradient(f, w, eps=1e-6):
    flat = np.array(w, dtype=float).ravel()
    grad = []
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = eps
        grad.append((f((flat + step).reshape(np.shape(w))) - f((flat - step).reshape(np.shape(w)))) / (2 * eps))
    return np.array(grad).reshape(np.shape(w))
''',
            "q3_answer": '''
def sgd_step(params, grads, lr):
    new = []
    for p, g in zip(params, grads):
        new.append(np.subtract(p, np.multiply(lr, g)))
    return new
''',
        },
    },
    "03_conv_arithmetic": {
        "lists and math": {
            "q1_answer": '''
def output_size(n, k, s=1, p=0):
    return math.floor((n + 2 * p - k) / s) + 1
''',
            "q4_answer": '''
def walk(input_shape, layers):
    rows, shape = [], list(input_shape)
    for layer in layers:
        if layer[0] == "conv":
            _, filters, k, s, p = layer
            size = [output_size(n, k, s, p) for n in shape[1:]]
            rows.append([[filters] + size, conv_params(shape[0], filters, k), conv_macs(shape[0], filters, k, *size)])
            shape = [filters] + size
        elif layer[0] == "flatten":
            shape = [int(np.prod(shape))]
            rows.append([shape, 0, 0])
        elif layer[0] == "fc":
            rows.append([[layer[1]], fc_params(shape[0], layer[1]), fc_macs(shape[0], layer[1])])
            shape = [layer[1]]
        else:
            _, k, s, p = layer
            shape = [shape[0]] + [output_size(n, k, s, p) for n in shape[1:]]
            rows.append([shape, 0, 0])
    return rows
''',
            "q6_answer": '''
def training_cost(macs_per_sample, batch_size, dataset_size, epochs):
    batches = -(-dataset_size // batch_size)
    per_batch = macs_per_sample * batch_size * 2
    return [per_batch, per_batch * batches, per_batch * batches * epochs]
''',
            "q8_answer": '''
def next_logit(o, target, c, lr):
    o = np.asarray(o, dtype=np.float32)
    p = np.exp(o - o.max())
    p = p / p.sum()
    y = np.zeros_like(p)
    y[target] = 1
    return (o - lr * (p - y))[c]
''',
        },
    },
    "04_cnn_architectures": {
        "nested modules": {
            "q1_answer": '''
def vgg_block(in_channels, out_channels, convs):
    pairs = [nn.Sequential(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size=3, padding=1),
                           nn.ReLU(inplace=True)) for i in range(convs)]
    return nn.Sequential(nn.Sequential(*pairs), nn.MaxPool2d(kernel_size=2, stride=2))
''',
            "q2_answer": '''
class SeparableBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.pointwise = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                       nn.BatchNorm2d(out_channels), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels,
                                                 bias=False),
                                       nn.BatchNorm2d(in_channels), nn.ReLU())

    def forward(self, x):
        return self.pointwise(self.depthwise(x))

def separable_block(in_channels, out_channels, stride):
    return SeparableBlock(in_channels, out_channels, stride)
''',
            "q4_answer": '''
def receptive_field(kernels, strides):
    if not kernels:
        return 1
    # the last layer's field, seen through the layers before it
    inner = receptive_field(kernels[1:], strides[1:])
    return kernels[0] + (inner - 1) * strides[0]
''',
        },
    },
}

MISTAKES = {
    "01_neural_nets": {
        "collapse handles only two layers": ("q3_tests", "q3_answer", '''
def collapse(weights, biases):
    return weights[0] @ weights[1], biases[0] @ weights[1] + biases[1]
'''),
        "softmax over all elements": ("q2_tests", "q2_answer", '''
def sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

def relu(x):
    return np.maximum(x, 0.0)

def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()
'''),
    },
    "02_backprop": {
        "a one-sided difference": ("q2_tests", "q2_answer", '''
def numerical_gradient(f, w, eps=1e-6):
    w = np.asarray(w, dtype=float)
    grad = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        up = w.copy()
        up[index] += eps
        grad[index] = (f(up) - f(w)) / eps
    return grad
'''),
        "sgd_step changes the old arrays in place": ("q3_tests", "q3_answer", '''
def sgd_step(params, grads, lr):
    for p, g in zip(params, grads):
        p -= lr * g
    return params
'''),
        "sgd_step replaces the arrays in the list it was given": ("q3_tests", "q3_answer", '''
def sgd_step(params, grads, lr):
    for i, g in enumerate(grads):
        params[i] = params[i] - lr * g
    return params
'''),
        "backward without the 1/N": ("q1_tests", "q1_answer", '''
def backward(X, Y, W1, b1, W2, b2):
    A1 = sigmoid(X @ W1 + b1)
    D2 = sigmoid(A1 @ W2 + b2) - Y
    D1 = (D2 @ W2.T) * A1 * (1 - A1)
    return X.T @ D1, D1.sum(axis=0), A1.T @ D2, D2.sum(axis=0)
'''),
    },
    "03_conv_arithmetic": {
        "next_logit right only for two classes": ("q8_tests", "q8_answer", '''
def next_logit(o, target, c, lr):
    other = o[1 - c]
    p_c = 1 / (1 + math.exp(other - o[c]))
    return o[c] - lr * (p_c - (1.0 if c == target else 0.0))
'''),
        "the memory of a second fc layer taken for a view": ("q5_tests", "q5_answer", '''
def memory_bytes(input_shape, rows, bytes_per_value=4, with_params=True):
    values, previous = int(np.prod(input_shape)), tuple(input_shape)
    for shape, params, macs in rows:
        if not (len(shape) == 1 and int(np.prod(shape)) == int(np.prod(previous))):
            values += int(np.prod(shape))
        values += params if with_params else 0
        previous = tuple(shape)
    return values * bytes_per_value
'''),
    },
    "04_cnn_architectures": {
        "the receptive field adds strides": ("q4_tests", "q4_answer", '''
def receptive_field(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        field += (k - 1) * jump
        jump += s - 1
    return field
'''),
        "the stride on the pointwise convolution": ("q2_tests", "q2_answer", '''
def separable_block(in_channels, out_channels, stride):
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(),
    )
'''),
        "a VGG block with a ReLU missing": ("q1_tests", "q1_answer", '''
def vgg_block(in_channels, out_channels, convs):
    layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    for _ in range(convs - 1):
        layers += [nn.ReLU(), nn.Conv2d(out_channels, out_channels, 3, padding=1)]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))
'''),
    },
}
