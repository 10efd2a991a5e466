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
        "counts as floats and 0-d arrays": {
            "q1_answer": '''
def output_size(n, k, s=1, p=0):
    return np.floor((n + 2 * p - k) / s) + 1.0        # a float with no fraction: the exact count
''',
            "q2_answer": '''
def conv_params(c_in, c_out, k):
    return np.array(float(c_out * (c_in * k * k + 1)))  # a 0-d array

def fc_params(n_in, n_out):
    return float(n_out * (n_in + 1))
''',
        },
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
        "one ReLU module used after every convolution": {
            "q1_answer": '''
def vgg_block(in_channels, out_channels, convs):
    relu = nn.ReLU()                  # stateless: one module can run after every convolution
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1), relu]
    return nn.Sequential(*layers, nn.MaxPool2d(2))
''',
            "q2_answer": '''
def separable_block(in_channels, out_channels, stride):
    relu = nn.ReLU()
    return nn.Sequential(nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
                         nn.BatchNorm2d(in_channels), relu,
                         nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), relu)
''',
        },
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
    "05_optimisers": {
        "float32, loops, in place and a class for the state": {
            "q1_answer": '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=np.float32)
    velocity = np.array(velocity, dtype=np.float32)
    g = np.asarray(grad, dtype=np.float32) + np.float32(weight_decay) * theta
    velocity *= np.float32(momentum)
    velocity += g
    if nesterov:
        theta -= np.float32(lr) * (g + np.float32(momentum) * velocity)
    else:
        theta -= np.float32(lr) * velocity
    return theta, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    # Sutskever's form: v = momentum * v - lr * g, theta += v (v is -lr times PyTorch's buffer)
    theta = np.array(theta, dtype=np.float32)
    v = np.zeros_like(theta)
    path = [theta.copy()]
    for _ in range(steps):
        g = np.asarray(grad_fn(theta), dtype=np.float32) + np.float32(weight_decay) * theta
        v = np.float32(momentum) * v - np.float32(lr) * g
        theta = theta + (np.float32(momentum) * v - np.float32(lr) * g if nesterov else v)
        path.append(theta.copy())
    return np.stack(path)
''',
            "q2_answer": '''
class AdamState:
    def __init__(self, shape):
        self.t = 0
        self.m = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)

def adam_init(theta):
    return AdamState(np.shape(theta))

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grad, dtype=np.float32)
    state.t += 1
    state.m *= np.float32(beta1)
    state.m += np.float32(1 - beta1) * g
    state.v *= np.float32(beta2)
    state.v += np.float32(1 - beta2) * g * g
    m_hat = state.m / np.float32(1 - beta1 ** state.t)
    v_hat = state.v / np.float32(1 - beta2 ** state.t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + np.float32(eps))
    return theta, state
''',
            "q3_answer": '''
import math

def bias_factor(beta, t):
    power = 1.0
    for _ in range(t):
        power *= beta
    return 1.0 / (1.0 - power)

def uncorrected_first_step(lr, beta1, beta2):
    g = 1.0  # any gradient: m = (1 - beta1) g, v = (1 - beta2) g**2
    m, v = (1 - beta1) * g, (1 - beta2) * g ** 2
    return abs(lr * m / math.sqrt(v))
''',
            "q4_answer": '''
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    theta = np.asarray(theta, dtype=float)
    with_l2, _ = adam_step(theta.copy(), grad + weight_decay * theta, adam_init(theta), lr, eps=eps)
    decoupled, _ = adam_step(theta * (1 - lr * weight_decay), grad, adam_init(theta), lr, eps=eps)
    return with_l2, decoupled
''',
            "q5_answer": '''
def dropout(x, p, u, training=True):
    if p < 0 or p >= 1:
        raise ValueError("p must be in [0, 1)")
    x = np.asarray(x, dtype=np.float32)
    if not training:
        return x
    keep = np.asarray(u) >= p
    return np.where(keep, x / np.float32(1 - p), np.float32(0))
''',
        },
        "PyTorch's formulas, dicts, in place, Nesterov another way": {
            "q1_answer": '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    old = velocity.copy()
    velocity *= momentum
    velocity += g
    if nesterov:  # g + momentum * (momentum * old + g)
        theta -= lr * ((1 + momentum) * g + momentum ** 2 * old)
    else:
        theta -= lr * velocity
    return theta, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = np.zeros(theta.shape)
    path = np.empty((steps + 1,) + theta.shape)
    path[0] = theta
    for k in range(1, steps + 1):
        sgd_momentum_step(theta, grad_fn(theta.copy()), velocity, lr, momentum, weight_decay, nesterov)
        path[k] = theta
    return path
''',
            "q2_answer": '''
def adam_init(theta):
    return {"step": 0, "exp_avg": np.zeros(np.shape(theta)), "exp_avg_sq": np.zeros(np.shape(theta))}

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["step"] += 1
    t = state["step"]
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1 ** t)
    denom = np.sqrt(state["exp_avg_sq"]) / np.sqrt(1 - beta2 ** t) + eps
    theta -= step_size * state["exp_avg"] / denom
    return theta, state
''',
            "q3_answer": '''
import math

def bias_factor(beta, t):
    return 1.0 / (1.0 - math.pow(beta, t))

def uncorrected_first_step(lr, beta1, beta2):
    return lr * (1 - beta1) * (1 - beta2) ** -0.5
''',
            "q4_answer": '''
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    beta1, beta2 = 0.9, 0.999

    def first_step(w, g):
        m, v = (1 - beta1) * g, (1 - beta2) * g ** 2
        return w - lr * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps)

    return first_step(theta, grad + weight_decay * theta), first_step(theta * (1 - lr * weight_decay), grad)
''',
            "q5_answer": '''
def dropout(x, p, u, training=True):
    if not (0.0 <= p < 1.0):
        raise ValueError(f"p = {p} is not a probability of dropping in [0, 1)")
    out = np.array(x, dtype=float)
    if training:
        out[np.asarray(u) < p] = 0.0
        out /= 1.0 - p
    return out
''',
            "q6_answer": "SGD thường giảm rất chậm: tốc độ học phải nhỏ hơn 2/100 vì hướng dốc (theta[1]) dao động rồi "
                         "phân kỳ, nên theo hướng thoải (theta[0]) mỗi bước chỉ giảm 1,5 %. Momentum cộng dồn các bước "
                         "dọc thung lũng và triệt tiêu dao động ngang, nên nhanh hơn nhiều. Adam chia mỗi toạ độ cho "
                         "độ lớn gradient của nó nên cả hai hướng đi cùng tốc độ, tới gần đáy rất nhanh rồi dao động "
                         "quanh đó vì bước không nhỏ lại.",
        },
    },
    "06_recurrent": {
        "outputs as a list of arrays": {
            "q2_answer": '''
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return outputs, (h, c)          # a list of T arrays of B x H: the README says lists pass
''',
        },
        "float32, loops over the batch, gate slices, a helper sigmoid and a dict state": {
            "q1_answer": '''
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
''',
            "q2_answer": '''
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    state = {"h": h0, "c": c0}
    outputs = np.zeros((len(X),) + np.shape(h0), dtype=np.float32)
    for t in range(len(X)):
        state["h"], state["c"] = lstm_cell(X[t], state["h"], state["c"], W_ih, W_hh, b_ih, b_hh)
        outputs[t] = state["h"]
    return [outputs, [state["h"], state["c"]]]
''',
            "q3_answer": '''
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    blocks = {"rnn": 1, "gru": 3, "lstm": 4}[kind.lower()]
    d = 1 + int(bidirectional)

    def per_block(inputs):
        return hidden_size * inputs + hidden_size * hidden_size + hidden_size + hidden_size

    return int(blocks * d * (per_block(input_size) + (num_layers - 1) * per_block(d * hidden_size)))
''',
            "q4_answer": '''
def linear_rnn_jacobian_norms(W, T):
    W = np.asarray(W, dtype=np.float32)
    J = np.eye(W.shape[0], dtype=np.float32)
    norms = [np.float32(1.0)]
    for _ in range(T):
        J = J @ W
        norms.append(np.linalg.svd(J, compute_uv=False)[0])
    return np.array(norms[::-1], dtype=np.float32)
''',
            "q5_answer": '''
def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    w, u, b = np.float32(w), np.float32(u), np.float32(b)
    hs = [np.float32(h0)]
    for x in np.asarray(xs, dtype=np.float32):
        hs.append(np.tanh(w * hs[-1] + u * x + b))
    T = len(hs) - 1
    return np.array([np.prod([w * (1 - hs[s] ** 2) for s in range(t + 1, T + 1)]) for t in range(T + 1)],
                    dtype=np.float32)
''',
            "q6_answer": "Khi lan truyền ngược qua RNN, mỗi bước nhân với cùng một Jacobian W^T diag(1 - h_s^2), nên "
                         "gradient về bước t cỡ (||W|| tanh')^(T - t): trên trục log là đường thẳng, tiêu biến khi hệ "
                         "số nhỏ hơn 1 (0.9 Q, RNN tanh) và bùng nổ khi lớn hơn 1 (1.1 Q). Ô nhớ của LSTM cập nhật "
                         "bằng phép cộng, c_s = f_s c_(s-1) + i_s g_s, nên dc_T/dc_t là tích các cổng quên f_s, "
                         "không có ma trận trọng số hay đạo hàm tanh; khi cổng quên học giữ gần 1, gradient đi xa "
                         "được nhiều bước.",
        },
        "concatenated weights, a tuple state, a closed form and eigenvalues": {
            "q1_answer": '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    z = np.concatenate([x, h], axis=1) @ np.concatenate([W_ih, W_hh], axis=1).T + (b_ih + b_hh)
    H = c.shape[-1]
    gate = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate("ifgo")}
    c_new = sigmoid(gate["f"]) * c + sigmoid(gate["i"]) * np.tanh(gate["g"])
    return sigmoid(gate["o"]) * np.tanh(c_new), c_new
''',
            "q2_answer": '''
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outputs, state = [], (h0, c0)
    for x in X:
        state = lstm_cell(x, *state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[0])
    return np.array(outputs), tuple(state)
''',
            "q3_answer": '''
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    sizes = [input_size] + [directions * hidden_size] * (num_layers - 1)
    weights = sum(gates * hidden_size * (size + hidden_size) for size in sizes)
    biases = num_layers * gates * 2 * hidden_size
    return directions * (weights + biases)
''',
            "q4_answer": '''
def linear_rnn_jacobian_norms(W, T):
    norms = []
    for t in range(T + 1):
        J = np.linalg.matrix_power(W, T - t)
        norms.append(float(np.sqrt(np.max(np.linalg.eigvalsh(J.T @ J)))))
    return norms
''',
            "q5_answer": '''
import math

def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    h, hs = h0, []
    for x in xs:
        h = math.tanh(w * h + u * x + b)
        hs.append(h)
    factors = w * (1 - np.array(hs) ** 2)
    return list(np.cumprod(factors[::-1])[::-1]) + [1.0]
''',
        },
    },
}

# The loop around a wrong momentum step, as the mistakes below write it (the step is what they get wrong).
MOMENTUM_LOOP = '''
def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    path, velocity = [np.array(theta, dtype=float)], np.zeros(np.shape(theta))
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(path[-1], grad_fn(path[-1]), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta)
    return np.array(path)
'''

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
    "05_optimisers": {
        "momentum with the weight decay added after the velocity": ("q1_tests", "q1_answer", '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    velocity = momentum * velocity + grad
    step = grad + momentum * velocity if nesterov else velocity
    return theta - lr * (step + weight_decay * theta), velocity
''' + MOMENTUM_LOOP),
        "the momentum buffer started at the first gradient": ("q1_tests", "q1_answer", '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + g
    return theta - lr * (g + momentum * velocity if nesterov else velocity), velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = grad_fn(theta) + weight_decay * theta
    path = [theta]
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(theta, grad_fn(theta), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta)
    return np.array(path)
'''),
        "a velocity averaged like Adam's m (dampening)": ("q1_tests", "q1_answer", '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + (1 - momentum) * g
    return theta - lr * (g + momentum * velocity if nesterov else velocity), velocity
''' + MOMENTUM_LOOP),
        "the weight decay added to grad in place": ("q1_tests", "q1_answer", '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    grad += weight_decay * theta
    velocity = momentum * velocity + grad
    return theta - lr * (grad + momentum * velocity if nesterov else velocity), velocity
''' + MOMENTUM_LOOP),
        "Adam without bias correction": ("q2_tests", "q2_answer", '''
def adam_init(theta):
    return [np.zeros(np.shape(theta)), np.zeros(np.shape(theta))]

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * state[0] + (1 - beta1) * grad
    v = beta2 * state[1] + (1 - beta2) * grad ** 2
    return theta - lr * m / (np.sqrt(v) + eps), [m, v]
'''),
        "Adam's bias correction with t starting at 0": ("q2_tests", "q2_answer", '''
def adam_init(theta):
    return {"t": 0, "m": np.zeros(np.shape(theta)), "v": np.zeros(np.shape(theta))}

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"]
    m = beta1 * state["m"] + (1 - beta1) * grad
    v = beta2 * state["v"] + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t + 1, "m": m, "v": v}
'''),
        "Adam with eps under the square root": ("q2_tests", "q2_answer", '''
def adam_init(theta):
    return {"t": 0, "m": np.zeros(np.shape(theta)), "v": np.zeros(np.shape(theta))}

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grad
    v = beta2 * state["v"] + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), {"t": t, "m": m, "v": v}
'''),
        "the bias factor with t starting at 0": ("q3_tests", "q3_answer", '''
def bias_factor(beta, t):
    return 1 / (1 - beta ** (t - 1)) if t > 1 else 1 / (1 - beta)

def uncorrected_first_step(lr, beta1, beta2):
    return lr * (1 - beta1) / np.sqrt(1 - beta2)
'''),
        "AdamW's decay not multiplied by the learning rate": ("q4_tests", "q4_answer", '''
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    g = grad + weight_decay * theta
    return theta - lr * g / (np.abs(g) + eps), theta - weight_decay * theta - lr * grad / (np.abs(grad) + eps)
'''),
        "the L2 penalty added after Adam's scaling": ("q4_tests", "q4_answer", '''
def l2_and_decoupled(theta, grad, lr, weight_decay, eps=1e-8):
    adam = grad / (np.abs(grad) + eps)
    return theta - lr * (adam + weight_decay * theta), theta - lr * weight_decay * theta - lr * adam
'''),
        "dropout scaled by p instead of 1 / (1 - p)": ("q5_tests", "q5_answer", '''
def dropout(x, p, u, training=True):
    if not 0 <= p < 1:
        raise ValueError("p must be in [0, 1)")
    return x * (u >= p) * p if training else x
'''),
        "dropout applied in evaluation too": ("q5_tests", "q5_answer", '''
def dropout(x, p, u, training=True):
    if not 0 <= p < 1:
        raise ValueError("p must be in [0, 1)")
    return x * (u >= p) / (1 - p)
'''),
        "p taken as the probability of keeping": ("q5_tests", "q5_answer", '''
def dropout(x, p, u, training=True):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    return x * (u < p) / p if training else x
'''),
        "dropout that accepts p = 1": ("q5_tests", "q5_answer", '''
def dropout(x, p, u, training=True):
    if not training:
        return x
    return x * (u >= p) / (1 - p) if p < 1 else np.zeros_like(x)
'''),
    },
}

HONEST["07_attention"] = {
    "float32 and loops": {
        "q1_answer": '''
def dot_scores(query, keys, scaled=False):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    batch, queries, d = query.shape
    scores = np.zeros((batch, queries, keys.shape[1]), dtype=np.float32)
    for b in range(batch):
        for i in range(queries):
            for j in range(keys.shape[1]):
                scores[b, i, j] = np.dot(query[b, i], keys[b, j])
    if scaled:
        scores = scores / np.float32(np.sqrt(d))
    return scores

def general_scores(query, keys, W):
    query, keys, W = (np.asarray(a, dtype=np.float32) for a in (query, keys, W))
    return np.stack([query[b] @ W @ keys[b].T for b in range(len(query))])
''',
        "q2_answer": '''
def additive_scores(query, keys, W1, W2, v):
    query, keys, W1, W2, v = (np.asarray(a, dtype=np.float32) for a in (query, keys, W1, W2, v))
    scores = np.zeros((query.shape[0], query.shape[1], keys.shape[1]), dtype=np.float32)
    for b in range(query.shape[0]):
        for i in range(query.shape[1]):
            for j in range(keys.shape[1]):
                scores[b, i, j] = v @ np.tanh(W1 @ query[b, i] + W2 @ keys[b, j])
    return scores

def cosine_scores(query, keys):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    scores = np.zeros((query.shape[0], query.shape[1], keys.shape[1]), dtype=np.float32)
    for b in range(query.shape[0]):
        for i, q in enumerate(query[b]):
            for j, k in enumerate(keys[b]):
                scores[b, i, j] = q @ k / (np.sqrt(q @ q) * np.sqrt(k @ k))
    return scores
''',
        "q3_answer": '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=np.float32)
    batch, queries, n_keys = scores.shape
    weights = np.zeros_like(scores)
    for b in range(batch):
        keep = [j for j in range(n_keys) if mask is None or mask[b][j]]
        if not keep:
            raise ValueError(f"batch item {b} has no key to attend")
        for i in range(queries):
            row = scores[b, i, keep]
            e = np.exp(row - row.max())
            weights[b, i, keep] = e / e.sum()
    return weights
''',
        "q4_answer": '''
def context_vectors(weights, values):
    weights, values = np.asarray(weights, dtype=np.float32), np.asarray(values, dtype=np.float32)
    context = np.zeros((weights.shape[0], weights.shape[1], values.shape[2]), dtype=np.float32)
    for b in range(weights.shape[0]):
        for i in range(weights.shape[1]):
            for j in range(weights.shape[2]):
                context[b, i] += weights[b, i, j] * values[b, j]
    return context

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "dot":
        scores = dot_scores(query, keys)
    elif score == "scaled":
        scores = dot_scores(query, keys, True)
    elif score == "general":
        scores = general_scores(query, keys, params["W"])
    elif score == "additive":
        scores = additive_scores(query, keys, params["W1"], params["W2"], params["v"])
    elif score == "cosine":
        scores = cosine_scores(query, keys)
    else:
        raise ValueError(f"unknown score {score!r}")
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
''',
        "q5_answer": '''
def score_variances(query, keys):
    query, keys = np.asarray(query, dtype=np.float32), np.asarray(keys, dtype=np.float32)
    dots = np.array([q @ k for q, k in zip(query, keys)], dtype=np.float32)
    return float(np.var(dots)), float(np.var(dots / np.sqrt(np.float32(query.shape[1]))))
''',
    },
    "einsum, logsumexp and a large negative fill": {
        "q1_answer": '''
def dot_scores(query, keys, scaled=False):
    scores = np.einsum("bid,bjd->bij", query, keys)
    return scores / np.sqrt(np.shape(query)[-1]) if scaled else scores

def general_scores(query, keys, W):
    return np.einsum("bid,de,bje->bij", query, W, keys)
''',
        "q2_answer": '''
def additive_scores(query, keys, W1, W2, v):
    hq = np.einsum("hd,bid->bih", W1, query)
    hk = np.einsum("hd,bjd->bjh", W2, keys)
    return np.einsum("bijh,h->bij", np.tanh(hq[:, :, None] + hk[:, None]), v)

def cosine_scores(query, keys):
    q, k = np.asarray(query), np.asarray(keys)
    lengths = np.einsum("bi,bj->bij", np.linalg.norm(q, axis=-1), np.linalg.norm(k, axis=-1))
    return np.einsum("bid,bjd->bij", q, k) / lengths
''',
        "q3_answer": '''
def masked_softmax(scores, mask=None):
    scores = np.array(scores, dtype=np.float64)          # a copy: filled in place below
    if mask is not None:
        allowed = np.broadcast_to(np.asarray(mask)[:, None, :], scores.shape)
        if (np.sum(mask, axis=-1) == 0).any():
            raise ValueError("a row with every key masked has no softmax")
        scores[~allowed] = -1e9
    top = scores.max(axis=-1, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(scores - top), axis=-1, keepdims=True))
    weights = np.exp(scores - log_sum)
    return weights if mask is None else np.where(allowed, weights, 0.0)
''',
        "q4_answer": '''
def context_vectors(weights, values):
    return np.einsum("bij,bjd->bid", weights, values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "scaled":
        scores = dot_scores(query, keys, scaled=True)
    else:
        scores = globals()[f"{score}_scores"](query, keys, **params)
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
''',
        "q5_answer": '''
def score_variances(query, keys):
    dots = np.diagonal(np.asarray(query) @ np.asarray(keys).T)
    scaled = dots / np.sqrt(len(query[0]))
    return np.mean((dots - dots.mean()) ** 2), np.mean((scaled - scaled.mean()) ** 2)
''',
        "q6_plot": '''
import matplotlib.pyplot as plt
figure, axes = plt.subplots()
image = axes.matshow(reversal_weights, cmap="Greys")
axes.set_xticks(range(6), source_tokens)
axes.set_yticks(range(5), output_tokens)
figure.colorbar(image)
plt.show()
''',
        "q6_answer": "Đường chéo phụ sáng cho thấy ở bước ra thứ i mô hình đặt gần hết trọng số vào từ nguồn thứ "
                     "4 - i, đúng từ cần chép khi đảo ngược chuỗi (chữ ra đầu tiên nhìn vào e, chữ cuối nhìn vào a). "
                     "Cột <pad> bằng 0 vì mặt nạ đặt điểm của nó thành -vô cùng trước softmax, và e mũ -vô cùng = 0; "
                     "các trọng số còn lại được chuẩn hoá lại để tổng bằng 1. Không có mặt nạ, phần đệm cũng nhận một "
                     "phần trọng số và trộn một vectơ vô nghĩa vào vectơ ngữ cảnh.",
    },
    "a multiplied mask and helpers": {
        "q1_answer": '''
def _transposed(keys):
    return np.asarray(keys).transpose(0, 2, 1)

def dot_scores(query, keys, scaled=False):
    d = len(query[0][0])
    return np.matmul(query, _transposed(keys)) * (d ** -0.5 if scaled else 1)

def general_scores(query, keys, W):
    return np.matmul(query, np.matmul(W, _transposed(keys)))
''',
        "q2_answer": '''
def additive_scores(query, keys, W1, W2, v):
    out = []
    for q_b, k_b in zip(np.asarray(query), np.asarray(keys)):
        a = q_b @ np.asarray(W1).T                      # (Tq, H)
        c = k_b @ np.asarray(W2).T                      # (Tk, H)
        out.append(np.array([[np.dot(v, np.tanh(x + y)) for y in c] for x in a]))
    return np.array(out)

def _unit(x):
    x = np.asarray(x, dtype=float)
    return x / np.sqrt((x * x).sum(axis=-1))[..., None]

def cosine_scores(query, keys):
    return np.matmul(_unit(query), _unit(keys).transpose(0, 2, 1))
''',
        "q3_answer": '''
def masked_softmax(scores, mask=None):
    s = np.asarray(scores, dtype=float)
    m = np.ones((s.shape[0], s.shape[2])) if mask is None else np.asarray(mask, dtype=float)
    if np.any(m.sum(axis=1) == 0):
        raise ValueError("no key left to attend")
    m = m[:, None, :]
    safe = s * m + (1 - m) * -1e30                      # masked scores far below every real one
    e = np.exp(safe - safe.max(axis=2, keepdims=True)) * m
    return e / e.sum(axis=2, keepdims=True)
''',
        "q4_answer": '''
def context_vectors(weights, values):
    return np.array([w @ v for w, v in zip(np.asarray(weights), np.asarray(values))])

SCORERS = {"dot": dot_scores, "general": general_scores, "additive": additive_scores, "cosine": cosine_scores}

def attend(query, keys, values, mask=None, score="scaled", **params):
    scores = dot_scores(query, keys, scaled=True) if score == "scaled" else SCORERS[score](query, keys, **params)
    weights = masked_softmax(scores, mask)
    return context_vectors(weights, values), weights
''',
        "q5_answer": '''
def score_variances(query, keys):
    d = np.asarray(query).shape[1]
    dots = (np.asarray(query) * np.asarray(keys)).sum(axis=1)
    return dots.var(), (dots / d ** 0.5).var()
''',
    },
}

MISTAKES["07_attention"] = {
    "scaled by d instead of sqrt(d)": ("q1_tests", "q1_answer", '''
def dot_scores(query, keys, scaled=False):
    scores = np.asarray(query) @ np.swapaxes(keys, 1, 2)
    return scores / np.shape(query)[2] if scaled else scores

def general_scores(query, keys, W):
    return np.asarray(query) @ np.asarray(W) @ np.swapaxes(keys, 1, 2)
'''),
    "W transposed in the general score": ("q1_tests", "q1_answer", '''
def dot_scores(query, keys, scaled=False):
    scores = np.asarray(query) @ np.swapaxes(keys, 1, 2)
    return scores / np.sqrt(np.shape(query)[2]) if scaled else scores

def general_scores(query, keys, W):
    return np.einsum("bid,ed,bje->bij", query, W, keys)
'''),
    "cosine without normalising the keys": ("q2_tests", "q2_answer", '''
def additive_scores(query, keys, W1, W2, v):
    hidden = np.tanh((query @ W1.T)[:, :, None, :] + (keys @ W2.T)[:, None, :, :])
    return hidden @ v

def cosine_scores(query, keys):
    unit_queries = query / np.linalg.norm(query, axis=-1, keepdims=True)
    return unit_queries @ np.swapaxes(keys, 1, 2)
'''),
    "W1 and W2 swapped in the additive score": ("q2_tests", "q2_answer", '''
def additive_scores(query, keys, W1, W2, v):
    hidden = np.tanh((query @ W2.T)[:, :, None, :] + (keys @ W1.T)[:, None, :, :])
    return hidden @ v

def cosine_scores(query, keys):
    unit_queries = query / np.linalg.norm(query, axis=-1, keepdims=True)
    unit_keys = keys / np.linalg.norm(keys, axis=-1, keepdims=True)
    return unit_queries @ np.swapaxes(unit_keys, 1, 2)
'''),
    "softmax over the queries instead of the keys": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if not np.asarray(mask).any(axis=1).all():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], scores, -np.inf)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''),
    "no max shift (exp overflows)": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if not np.asarray(mask).any(axis=1).all():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], scores, -np.inf)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "masked scores filled with 0 instead of -inf": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if not np.asarray(mask).any(axis=1).all():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], scores, 0.0)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "the mask polarity inverted (True = padding)": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        if np.asarray(mask).all(axis=1).any():
            raise ValueError("every key masked")
        scores = np.where(np.asarray(mask)[:, None, :], -np.inf, scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "the max taken over the masked keys too": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    keep = np.ones((scores.shape[0], scores.shape[2])) if mask is None else np.asarray(mask, dtype=float)
    if np.any(keep.sum(axis=1) == 0):
        raise ValueError("every key masked")
    e = np.exp(scores - scores.max(axis=-1, keepdims=True)) * keep[:, None, :]
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "the weights masked after the softmax, not renormalised": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    if mask is None:
        return weights
    if not np.asarray(mask).any(axis=1).all():
        raise ValueError("every key masked")
    return weights * np.asarray(mask)[:, None, :]
'''),
    "no ValueError when every key is masked": ("q3_tests", "q3_answer", '''
def masked_softmax(scores, mask=None):
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        scores = np.where(np.asarray(mask)[:, None, :], scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "attend does not scale for score='scaled'": ("q4_tests", "q4_answer", '''
def context_vectors(weights, values):
    return np.asarray(weights) @ np.asarray(values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    functions = {"dot": dot_scores, "scaled": dot_scores, "general": general_scores, "additive": additive_scores,
                 "cosine": cosine_scores}
    weights = masked_softmax(functions[score](query, keys, **params), mask)
    return context_vectors(weights, values), weights
'''),
    "attend ignores the mask": ("q4_tests", "q4_answer", '''
def context_vectors(weights, values):
    return np.asarray(weights) @ np.asarray(values)

def attend(query, keys, values, mask=None, score="scaled", **params):
    if score == "scaled":
        scores = dot_scores(query, keys, scaled=True)
    else:
        scores = {"dot": dot_scores, "general": general_scores, "additive": additive_scores,
                  "cosine": cosine_scores}[score](query, keys, **params)
    weights = masked_softmax(scores)
    return context_vectors(weights, values), weights
'''),
    "the scaled variance divided by d twice (scores / d)": ("q5_tests", "q5_answer", '''
def score_variances(query, keys):
    dots = np.sum(np.asarray(query) * np.asarray(keys), axis=1)
    return np.var(dots), np.var(dots / np.shape(query)[1])
'''),
    "the variance over all N x N scores": ("q5_tests", "q5_answer", '''
def score_variances(query, keys):
    scores = np.asarray(query) @ np.asarray(keys).T
    return np.var(scores), np.var(scores / np.sqrt(np.shape(query)[1]))
'''),
}

MISTAKES["06_recurrent"] = {
    "the LSTM gates in the order i, f, o, g": ("q1_tests", "q1_answer", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new
'''),
    "tanh on the output gate": ("q1_tests", "q1_answer", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return np.tanh(o) * np.tanh(c_new), c_new
'''),
    "b_hh left out": ("q1_tests", "q1_answer", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new
'''),
    "c' = f * c + i, without the candidate g": ("q1_tests", "q1_answer", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i)
    return sigmoid(o) * np.tanh(c_new), c_new
'''),
    "h' = o * c', without the tanh": ("q1_tests", "q1_answer", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * c_new, c_new
'''),
    "the LSTM states not carried from step to step": ("q2_tests", "q2_answer", '''
def lstm_sequence(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    steps = [lstm_cell(x, h0, c0, W_ih, W_hh, b_ih, b_hh) for x in X]
    return np.stack([h for h, c in steps]), steps[-1]
'''),
    "one bias vector per gate block": ("q3_tests", "q3_answer", '''
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else hidden_size * directions
        total += directions * gates * (hidden_size * (inputs + hidden_size) + hidden_size)
    return total
'''),
    "layer 2's input taken as H, not H x directions": ("q3_tests", "q3_answer", '''
def recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else hidden_size
        total += directions * gates * (hidden_size * (inputs + hidden_size) + 2 * hidden_size)
    return total
'''),
    "the Frobenius norm instead of the spectral norm": ("q4_tests", "q4_answer", '''
def linear_rnn_jacobian_norms(W, T):
    return np.array([np.linalg.norm(np.linalg.matrix_power(W, T - t)) for t in range(T + 1)])
'''),
    "the largest eigenvalue to the power T - t": ("q4_tests", "q4_answer", '''
def linear_rnn_jacobian_norms(W, T):
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    return np.array([radius ** (T - t) for t in range(T + 1)])
'''),
    "tanh's derivative taken at h_(s-1)": ("q5_tests", "q5_answer", '''
def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    h = [h0]
    for x in xs:
        h.append(np.tanh(w * h[-1] + u * x + b))
    grads = [1.0]
    for s in range(len(xs), 0, -1):
        grads.append(grads[-1] * w * (1 - h[s - 1] ** 2))
    return np.array(grads[::-1])
'''),
    "the gradients through time without their signs": ("q5_tests", "q5_answer", '''
def tanh_rnn_gradients(w, u, b, xs, h0=0.0):
    h = [h0]
    for x in xs:
        h.append(np.tanh(w * h[-1] + u * x + b))
    grads = [1.0]
    for s in range(len(xs), 0, -1):
        grads.append(grads[-1] * abs(w) * (1 - h[s] ** 2))
    return np.array(grads[::-1])
'''),
}

HONEST["08_gpus"] = {
    "loops, floats and lists": {
        "q1_answer": '''
def mlp_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 1):
        total += layer_sizes[i] * layer_sizes[i + 1]   # weights
        total += layer_sizes[i + 1]                    # biases
    return total


def mlp_training_memory(layer_sizes, batch, optimizer):
    bytes_per_value = 4.0
    params = bytes_per_value * mlp_parameters(layer_sizes)
    gradients = params
    if optimizer == "sgd":
        state = 0.0
    elif optimizer == "momentum":
        state = params
    else:                                   # adam: m and v
        state = params + params
    activations = 0.0
    for size in layer_sizes[:len(layer_sizes) - 1]:
        activations += bytes_per_value * batch * size
    return [params, gradients, state, activations, params + gradients + state + activations]
''',
        "q2_answer": '''
def max_batch(layer_sizes, optimizer, memory_gib):
    memory = memory_gib * 1024 * 1024 * 1024
    batch = 0
    while mlp_training_memory(layer_sizes, batch + 1, optimizer)[-1] <= memory:
        batch += 1
    return batch
''',
        "q3_answer": '''
def speedup_efficiency(times, gpus):
    speedup, efficiency = [], []
    for row in times:
        speedup.append([row[0] / t for t in row])
        efficiency.append([row[0] / t / n for t, n in zip(row, gpus)])
    return speedup, efficiency
''',
        "q4_answer": '''
BYTES_PER_VALUE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}


def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * BYTES_PER_VALUE[dtype]
    per_gpu = 2 * (gpus - 1) * gradient / gpus          # integers until the last division
    return per_gpu, per_gpu * gpus


def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    per_gpu, _ = allreduce_bytes(parameters, gpus, dtype)
    return per_gpu / bandwidth_gb_per_s / 1e9
''',
        "q5_answer": '''
from fractions import Fraction


def bubble_fraction(stages, micro_batches):
    return float(Fraction(stages - 1, micro_batches + stages - 1))


def pipeline_step_time(stage_time, stages, micro_batches):
    slot = stage_time / micro_batches              # one micro-batch on one stage
    fill_and_drain = (stages - 1) * slot
    return micro_batches * slot + fill_and_drain
''',
    },
    "dicts, a search, NumPy float32 and a simulated timetable": {
        "q1_answer": '''
OPTIMIZER_BUFFERS = {"sgd": 0, "momentum": 1, "adam": 2}


def mlp_parameters(layer_sizes):
    sizes = np.array(layer_sizes, dtype=np.int64)
    return int(np.sum(sizes[:-1] * sizes[1:]) + np.sum(sizes[1:]))


def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    kept = [layer_sizes[0]] + list(layer_sizes[1:-1])     # the input, then each ReLU's output
    activations = 4 * batch * sum(kept)
    memory = {"params": params, "gradients": params,
              "optimizer_state": OPTIMIZER_BUFFERS[optimizer] * params, "activations": activations}
    memory["total"] = sum(memory.values())
    return memory
''',
        "q2_answer": '''
def _fits(layer_sizes, optimizer, batch, memory):
    return mlp_training_memory(layer_sizes, batch, optimizer)["total"] <= memory


def max_batch(layer_sizes, optimizer, memory_gib):
    memory = memory_gib * (1 << 30)
    if not _fits(layer_sizes, optimizer, 1, memory):
        return 0
    low, high = 1, 2
    while _fits(layer_sizes, optimizer, high, memory):
        low, high = high, 2 * high
    while high - low > 1:                 # low fits, high does not
        middle = (low + high) // 2
        if _fits(layer_sizes, optimizer, middle, memory):
            low = middle
        else:
            high = middle
    return low
''',
        "q3_answer": '''
def speedup_efficiency(times, gpus):
    t = np.array(times, dtype=np.float32)
    speedup = (1 / t) * t[:, 0].reshape(-1, 1)
    return speedup, np.divide(speedup, np.array(gpus, dtype=np.float32)[None, :])
''',
        "q4_answer": '''
def _bytes_per_value(dtype):
    return 8 if dtype == "float64" else 4 if dtype == "float32" else 2


def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = np.float64(parameters) * _bytes_per_value(dtype)
    chunk = gradient / gpus
    steps = 2 * (gpus - 1)                # reduce-scatter, then all-gather: N - 1 chunks each
    return steps * chunk, gpus * steps * chunk


def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return float(allreduce_bytes(parameters, gpus, dtype)[0]) / (bandwidth_gb_per_s * 1_000_000_000)
''',
        "q5_answer": '''
def _gpipe_length(stages, micro_batches, slot):
    finish = [[0.0] * micro_batches for _ in range(stages)]
    for s in range(stages):
        free = 0.0
        for m in range(micro_batches):
            ready = finish[s - 1][m] if s > 0 else 0.0
            free = finish[s][m] = max(free, ready) + slot
    return 2 * finish[-1][-1]                 # the backward pass mirrors the forward one


def bubble_fraction(stages, micro_batches):
    busy = micro_batches * 2.0                # each stage, forward and backward slots of 1
    return 1 - busy / _gpipe_length(stages, micro_batches, 1.0)


def pipeline_step_time(stage_time, stages, micro_batches):
    return _gpipe_length(stages, micro_batches, stage_time / micro_batches / 2)
''',
        "q6_answer": '''
Với 4 GPU, thời gian gần như không đổi (khoảng 205–214 s) dù batch lớn hay nhỏ: đó là phần cố định
của mỗi bước mà thêm GPU không rút ngắn được. Với batch 512, t = s + p/N cho s ≈ 133 s và p ≈ 288 s,
nên tối đa chỉ được khoảng 3,2 lần (định luật Amdahl). CPU 2 nhân phải nạp, giải mã, tăng cường dữ liệu
và điều khiển bốn GPU; gradient được all-reduce qua PCIe, không có NVLink. Batch càng lớn thì phần việc
của GPU càng lớn so với phần cố định, nên tốc độ tăng từ 1,19 lần lên 2,05 lần. Muốn gần 4 lần hơn: CPU
nhiều nhân và nhiều worker cho DataLoader, batch lớn hơn, chồng all-reduce lên backward, độ chính xác
hỗn hợp, và NVLink.
''',
    },
}

MISTAKES["08_gpus"] = {
    "the gradients left out of the total": ("q1_tests", "q1_answer", '''
def mlp_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * params
    activations = 4 * batch * sum(layer_sizes[:-1])
    return params, params, state, activations, params + state + activations
'''),
    "Adam's state counted once": ("q1_tests", "q1_answer", '''
def mlp_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = 0 if optimizer == "sgd" else params
    activations = 4 * batch * sum(layer_sizes[:-1])
    return params, params, state, activations, 2 * params + state + activations
'''),
    "the activations without the batch factor": ("q1_tests", "q1_answer", '''
def mlp_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * params
    activations = 4 * sum(layer_sizes[:-1])
    return params, params, state, activations, 2 * params + state + activations
'''),
    "each ReLU's output counted again as the next Linear's input": ("q1_tests", "q1_answer", '''
def mlp_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * params
    activations = 4 * batch * (sum(layer_sizes[:-1]) + sum(layer_sizes[1:-1]))
    return params, params, state, activations, 2 * params + state + activations
'''),
    "the biases left out": ("q1_tests", "q1_answer", '''
def mlp_parameters(layer_sizes):
    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

def mlp_training_memory(layer_sizes, batch, optimizer):
    params = 4 * mlp_parameters(layer_sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * params
    activations = 4 * batch * sum(layer_sizes[:-1])
    return params, params, state, activations, 2 * params + state + activations
'''),
    "GB (10^9 bytes) taken for GiB": ("q2_tests", "q2_answer", '''
def max_batch(layer_sizes, optimizer, memory_gib):
    fixed = mlp_training_memory(layer_sizes, 0, optimizer)[4]
    per_sample = mlp_training_memory(layer_sizes, 1, optimizer)[4] - fixed
    return max(0, int((memory_gib * 1e9 - fixed) // per_sample))
'''),
    "a step that fills the memory exactly left out": ("q2_tests", "q2_answer", '''
def max_batch(layer_sizes, optimizer, memory_gib):
    batch = 0
    while mlp_training_memory(layer_sizes, batch + 1, optimizer)[4] < memory_gib * 2 ** 30:
        batch += 1
    return batch
'''),
    "the speed-up inverted (t_N / t_1)": ("q3_tests", "q3_answer", '''
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times / times[:, :1]
    return speedup, speedup / np.asarray(gpus)
'''),
    "the efficiency not divided by N": ("q3_tests", "q3_answer", '''
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup, speedup
'''),
    "the efficiency divided by the column's number, not its GPUs": ("q3_tests", "q3_answer", '''
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup, speedup / np.arange(1, times.shape[1] + 1)
'''),
    "the ring all-reduce without the 2": ("q4_tests", "q4_answer", '''
def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}[dtype]
    per_gpu = (gpus - 1) / gpus * gradient
    return per_gpu, gpus * per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 1e9)
'''),
    "the total over the GPUs left as one GPU's": ("q4_tests", "q4_answer", '''
def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}[dtype]
    per_gpu = 2 * (gpus - 1) / gpus * gradient
    return per_gpu, per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 1e9)
'''),
    "every dtype counted as 4 bytes": ("q4_tests", "q4_answer", '''
def allreduce_bytes(parameters, gpus, dtype="float32"):
    per_gpu = 2 * (gpus - 1) / gpus * parameters * 4
    return per_gpu, gpus * per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 1e9)
'''),
    "the bandwidth taken in GiB/s": ("q4_tests", "q4_answer", '''
def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}[dtype]
    per_gpu = 2 * (gpus - 1) / gpus * gradient
    return per_gpu, gpus * per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 2 ** 30)
'''),
    "the bubble as the busy fraction M / (M + S - 1)": ("q5_tests", "q5_answer", '''
def bubble_fraction(stages, micro_batches):
    return micro_batches / (micro_batches + stages - 1)

def pipeline_step_time(stage_time, stages, micro_batches):
    return (micro_batches + stages - 1) * stage_time / micro_batches
'''),
    "the bubble divided by M alone": ("q5_tests", "q5_answer", '''
def bubble_fraction(stages, micro_batches):
    return (stages - 1) / micro_batches

def pipeline_step_time(stage_time, stages, micro_batches):
    return (micro_batches + stages - 1) * stage_time / micro_batches
'''),
    "a micro-batch given the whole stage time": ("q5_tests", "q5_answer", '''
def bubble_fraction(stages, micro_batches):
    return (stages - 1) / (micro_batches + stages - 1)

def pipeline_step_time(stage_time, stages, micro_batches):
    return (micro_batches + stages - 1) * stage_time
'''),
}

# Mistakes the hints must name right (issue 24): each loses its question, and the test's message names it.
MISTAKES["08_gpus"]["the speed-up and efficiency tables swapped"] = ("q3_tests", "q3_answer", '''
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup / np.asarray(gpus), speedup
''')
MISTAKES["08_gpus"]["the efficiency divided by 2 ** j"] = ("q3_tests", "q3_answer", '''
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup, speedup / 2.0 ** np.arange(times.shape[1])
''')
MISTAKES["05_optimisers"]["the learning rate in the velocity"] = ("q1_tests", "q1_answer", '''
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * theta
    velocity = momentum * velocity + lr * g
    step = g + momentum * velocity if nesterov else velocity
    return theta - step, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=float)
    velocity = np.zeros_like(theta)
    path = [theta.copy()]
    for _ in range(steps):
        theta, velocity = sgd_momentum_step(theta, grad_fn(theta), velocity, lr, momentum, weight_decay, nesterov)
        path.append(theta.copy())
    return np.array(path)
''')

#: The words each of these mistakes must be named with (``tests/test_honest_grading.py``).
NAMED_BY_THE_HINT = {
    ("08_gpus", "the speed-up and efficiency tables swapped"): "the two tables are swapped",
    ("08_gpus", "the efficiency divided by 2 ** j"): "divided by 2 ** j",
    ("05_optimisers", "the learning rate in the velocity"): "the learning rate went into the velocity",
}
