"""Backward passes of softmax, of a convolution and of max pooling, in NumPy.

A convolution layer computes ``y = x ⋆ w + b``: cross-correlation without padding, as
PyTorch's ``conv2d`` does.  Given ``g = dL/dy`` from the layers above, its backward pass is
made of the same operation twice (stride 1 here; see ``conv2d_backward`` for a stride):

* ``dL/dw = x ⋆ g``: each weight multiplied many input values, one for every output, so
  its gradient adds those inputs up, each weighted by the gradient of its output;
* ``dL/dx`` is the *full* convolution of ``g`` with ``w``: ``g`` padded with ``k - 1``
  zeros on every side, cross-correlated with the kernel turned by 180 degrees;
* ``dL/db`` is the sum of ``g``: the bias was added to every output.

Max pooling sends the gradient of each output back to the one input that was the maximum
of its window, and nothing to the others.  When several values of a window tie for the
maximum, the first in row-major order gets the gradient, as in PyTorch; where windows
overlap, an input that is the maximum of several windows receives the sum of their gradients.

>>> x = np.arange(16.0).reshape(4, 4)
>>> w = np.array([[1.0, 0.0], [0.0, -1.0]])
>>> conv2d_forward(x, w)                      # x[i, j] - x[i + 1, j + 1]
array([[-5., -5., -5.],
       [-5., -5., -5.],
       [-5., -5., -5.]])
>>> dx, dw, db = conv2d_backward(x, w, np.ones((3, 3)))
>>> dw                                        # sums of the 3 x 3 windows of x
array([[45., 54.],
       [81., 90.]])
>>> float(db)                                 # nine outputs, each with gradient 1
9.0
>>> maxpool2d_backward(x, np.ones((2, 2)))    # the bottom-right of each window
array([[0., 0., 0., 0.],
       [0., 1., 0., 1.],
       [0., 0., 0., 0.],
       [0., 1., 0., 1.]])
"""

from __future__ import annotations

import numpy as np

from dlcourse.activations import softmax

Array = np.ndarray


# --- softmax --------------------------------------------------------------------------


def softmax_jacobian(z: Array) -> Array:
    """The matrix ``J[i, j] = dp_i / dz_j = p_i (delta_ij - p_j)`` of ``p = softmax(z)``.

    It is ``diag(p) - p p^T``: symmetric, and each row sums to 0 because the
    probabilities always sum to 1, whatever ``z`` does.

    >>> softmax_jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"softmax_jacobian takes one non-empty vector of scores z, got shape {z.shape}")
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


# --- convolution ----------------------------------------------------------------------


def _check_stride(stride: int) -> int:
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a whole number of at least 1, got {stride!r}")
    return int(stride)


def correlate2d(x: Array, w: Array, stride: int = 1) -> Array:
    """Valid cross-correlation of two 2-D arrays: ``y[i, j] = sum_uv w[u, v] x[s i + u, s j + v]``.

    With stride ``s`` the output is ``((H - kh) // s + 1) x ((W - kw) // s + 1)``.  It adds
    one shifted copy of ``x`` per kernel weight, so it loops over the kernel, not over the
    output.

    >>> correlate2d(np.arange(9.0).reshape(3, 3), np.array([[1.0, 1.0]]))
    array([[ 1.,  3.],
           [ 7.,  9.],
           [13., 15.]])
    >>> correlate2d(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), stride=2)
    array([[10., 18.],
           [42., 50.]])
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    stride = _check_stride(stride)
    if x.ndim != 2 or w.ndim != 2:
        raise ValueError(f"correlate2d takes a 2-D input and a 2-D kernel, got shapes {x.shape} and {w.shape}")
    kh, kw = w.shape
    if kh < 1 or kw < 1 or x.shape[0] < kh or x.shape[1] < kw:
        raise ValueError(f"a {kh} x {kw} kernel does not fit in a {x.shape[0]} x {x.shape[1]} input: "
                         "the input must be at least as large as the kernel")
    out_h, out_w = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    y = np.zeros((out_h, out_w))
    for u in range(kh):
        for v in range(kw):
            y += w[u, v] * x[u:u + (out_h - 1) * stride + 1:stride, v:v + (out_w - 1) * stride + 1:stride]
    return y


def full_convolve2d(g: Array, w: Array) -> Array:
    """Full convolution: ``g`` padded with ``k - 1`` zeros on each side, cross-correlated
    with ``w`` turned by 180 degrees.  An ``h x w`` input gives ``(h + kh - 1) x (w + kw - 1)``.

    >>> full_convolve2d(np.array([[1.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 2.],
           [3., 4.]])
    """
    g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
    if g.ndim != 2 or w.ndim != 2:
        raise ValueError(f"full_convolve2d takes a 2-D array and a 2-D kernel, got shapes {g.shape} and {w.shape}")
    kh, kw = w.shape
    padded = np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate2d(padded, w[::-1, ::-1])


def dilate2d(g: Array, stride: int) -> Array:
    """``g`` with ``stride - 1`` zeros put between neighbouring values (last two axes).

    The output of a strided convolution is the stride-1 output with the skipped positions
    left out; putting zeros back where they were turns its backward pass into the
    stride-1 one.

    >>> dilate2d(np.array([[1.0, 2.0], [3.0, 4.0]]), 2)
    array([[1., 0., 2.],
           [0., 0., 0.],
           [3., 0., 4.]])
    """
    g = np.asarray(g, dtype=float)
    stride = _check_stride(stride)
    if g.ndim < 2:
        raise ValueError(f"dilate2d needs at least two axes, got shape {g.shape}")
    h, w = g.shape[-2:]
    out = np.zeros(g.shape[:-2] + ((h - 1) * stride + 1, (w - 1) * stride + 1))
    out[..., ::stride, ::stride] = g
    return out


def _as_channels(x: Array, w: Array) -> tuple[Array, Array]:
    """(C_in, H, W) and (C_out, C_in, kh, kw) views of a single- or multi-channel layer."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if x.ndim == 2 and w.ndim == 2:
        return x[None], w[None, None]
    if x.ndim == 3 and w.ndim == 4 and w.shape[1] == x.shape[0]:
        return x, w
    raise ValueError("expected x (H, W) with w (kh, kw), or x (C_in, H, W) with "
                     f"w (C_out, C_in, kh, kw) and the same C_in; got x {x.shape} and w {w.shape}")


def conv2d_output_shape(x: Array, w: Array, stride: int = 1) -> tuple[int, ...]:
    """Shape of ``conv2d_forward(x, w, stride=stride)``, with the input's checks.

    >>> conv2d_output_shape(np.zeros((3, 7, 7)), np.zeros((8, 3, 3, 3)), stride=2)
    (8, 3, 3)
    """
    x3, w4 = _as_channels(x, w)
    stride = _check_stride(stride)
    kh, kw = w4.shape[2:]
    h, w_ = x3.shape[1:]
    if h < kh or w_ < kw or kh < 1 or kw < 1:
        raise ValueError(f"a {kh} x {kw} kernel does not fit in a {h} x {w_} input: "
                         "the input must be at least as large as the kernel")
    spatial = ((h - kh) // stride + 1, (w_ - kw) // stride + 1)
    return spatial if np.ndim(x) == 2 else (w4.shape[0],) + spatial


def conv2d_forward(x: Array, w: Array, b: float | Array | None = None, stride: int = 1) -> Array:
    """Convolution layer (no padding), as ``torch.nn.functional.conv2d(x, w, b, stride)``.

    ``x`` is ``(H, W)`` and ``w`` is ``(kh, kw)`` (``b`` a number), or, with channels, ``x``
    is ``(C_in, H, W)``, ``w`` is ``(C_out, C_in, kh, kw)`` and ``b`` has ``C_out`` values:
    output channel ``o`` is ``sum_c x[c] ⋆ w[o, c] + b[o]``.

    >>> conv2d_forward(np.ones((2, 3, 3)), np.ones((1, 2, 2, 2)), b=np.array([0.5])).tolist()
    [[[8.5, 8.5], [8.5, 8.5]]]
    """
    shape = conv2d_output_shape(x, w, stride)
    x3, w4 = _as_channels(x, w)
    c_out, c_in = w4.shape[:2]
    y = np.stack([sum(correlate2d(x3[c], w4[o, c], stride) for c in range(c_in))
                  for o in range(c_out)])
    if b is not None:
        bias = np.asarray(b, dtype=float).reshape(-1)
        if bias.size != c_out:
            raise ValueError(f"b must have one value per output channel ({c_out}), got shape {np.shape(b)}")
        y = y + bias[:, None, None]
    return y.reshape(shape)


def conv2d_backward(x: Array, w: Array, dy: Array,
                    stride: int = 1) -> tuple[Array, Array, Array]:
    """Gradients ``(dL/dx, dL/dw, dL/db)`` of a convolution layer, given
    ``dy = dL/dy``.

    With stride 1, ``dL/dw[o, c] = x[c] ⋆ dy[o]`` (the shape of the kernel),
    ``dL/dx[c] = sum_o full_convolve2d(dy[o], w[o, c])`` (the shape of the
    input) and ``dL/db[o] = sum of dy[o]``.  With a stride, ``dy`` is first
    dilated (``dilate2d``); input rows and columns that no window reached get
    zero gradient.

    >>> x = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    >>> dx, dw, db = conv2d_backward(x, np.array([[1.0, -1.0]]),
    ...                              np.ones((3, 2)))
    >>> dw.tolist()  # sums of the first two and of the last two columns
    [[6.0, 7.0]]
    >>> dx.tolist()  # each input met w[0, 0] = 1, w[0, 1] = -1 or both
    [[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]
    """
    expected = conv2d_output_shape(x, w, stride)
    dy = np.asarray(dy, dtype=float)
    if dy.shape != expected:
        raise ValueError("dy must have the shape of the layer's output, "
                         f"{expected}; got {dy.shape}")
    x3, w4 = _as_channels(x, w)
    c_out, c_in, kh, kw = w4.shape
    g = dilate2d(dy.reshape((c_out,) + expected[-2:]), stride)
    # the part of x the windows reached
    rows, cols = g.shape[1] + kh - 1, g.shape[2] + kw - 1
    dw = np.array([[correlate2d(x3[c, :rows, :cols], g[o])
                    for c in range(c_in)]
                   for o in range(c_out)])
    dx = np.zeros_like(x3)
    for c in range(c_in):
        dx[c, :rows, :cols] = sum(full_convolve2d(g[o], w4[o, c])
                                  for o in range(c_out))
    db = dy.reshape(c_out, -1).sum(axis=1)
    if np.ndim(x) == 2:
        return dx[0], dw[0, 0], db[0]
    return dx, dw, db


# --- max pooling ----------------------------------------------------------------------


def _pooled_size(n: int, size: int, stride: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"the pooling window size must be a whole number of at least 1, got {size!r}")
    stride = _check_stride(stride)
    if n < size:
        raise ValueError(f"a {size} x {size} pooling window does not fit in an input with {n} rows or "
                         f"columns: the input needs at least {size}")
    return (n - size) // stride + 1


def maxpool2d_forward(x: Array, size: int = 2, stride: int | None = None) -> Array:
    """Max pooling over ``size x size`` windows (stride ``size`` unless given) of the last two
    axes of ``x``, as ``torch.nn.functional.max_pool2d`` without padding.

    >>> maxpool2d_forward(np.array([[1.0, 3.0, 0.0, 2.0],
    ...                             [4.0, 2.0, 1.0, 1.0]])).tolist()
    [[4.0, 2.0]]
    """
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"max pooling needs an input with at least two axes (H, W), got shape {x.shape}")
    stride = size if stride is None else stride
    out_h = _pooled_size(x.shape[-2], size, stride)
    out_w = _pooled_size(x.shape[-1], size, stride)
    y = np.empty(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[..., i * stride:i * stride + size, j * stride:j * stride + size]
            y[..., i, j] = window.max(axis=(-2, -1))
    return y


def maxpool2d_backward(x: Array, dy: Array, size: int = 2,
                       stride: int | None = None) -> Array:
    """``dL/dx`` of max pooling: each ``dy[..., i, j]`` goes to the maximum
    of window (i, j).

    The first maximum in row-major order takes it when values tie (as
    ``np.argmax`` and PyTorch choose); where windows overlap, an input that
    is the maximum of several windows adds up their gradients.

    >>> maxpool2d_backward(np.array([[1.0, 3.0], [3.0, 2.0]]),
    ...                    np.array([[0.5]]))
    array([[0. , 0.5],
           [0. , 0. ]])
    """
    x = np.asarray(x, dtype=float)
    dy = np.asarray(dy, dtype=float)
    stride = size if stride is None else stride
    expected = maxpool2d_forward(x, size, stride).shape
    if dy.shape != expected:
        raise ValueError("dy must have the shape of the pooled output, "
                         f"{expected}; got {dy.shape}")
    dx = np.zeros_like(x)
    for i in range(dy.shape[-2]):
        for j in range(dy.shape[-1]):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
            window = x[..., rows, cols]
            first_max = (window.reshape(*window.shape[:-2], -1)
                         .argmax(axis=-1))
            # one-hot
            chosen = np.arange(size * size) == first_max[..., None]
            dx[..., rows, cols] += (chosen.reshape(window.shape)
                                    * dy[..., i, j, None, None])
    return dx


# --- figure ---------------------------------------------------------------------------


