"""Assertions for graded notebooks, with failure messages that teach.

The tests of the graded assignments call these instead of ``assert`` or
``np.testing``.  A student runs them in their own Jupyter, against their own functions;
when the work is graded they run in the grader's process (``dlcourse.verdict``), where
the student's answers arrive as plain data, so nothing a notebook redefines can reach
them.

>>> import numpy as np
>>> check_shape(np.zeros((8, 3)), (8, 3), "forward(X)")
>>> check_close(0.5, 0.25, "sigmoid(0)", hint="sigmoid(0) = 1 / (1 + e^0)")
Traceback (most recent call last):
...
AssertionError: sigmoid(0) should be 0.25, got 0.5. Hint: sigmoid(0) = 1 / (1 + e^0)
"""

from __future__ import annotations

import math
from typing import Any, Sequence, Tuple

import numpy as np

_abs, _len, _isinstance, _float = abs, len, isinstance, float


def check_shape(actual: Any, expected: Sequence[int], what: str, hint: str = "") -> None:
    """Fail unless ``actual`` is an array of shape ``expected``."""
    shape = getattr(actual, "shape", None)
    if shape is None:
        raise AssertionError(_message(f"{what} should be an array of shape {tuple(expected)}, got {type(actual).__name__}", hint))
    if tuple(shape) != tuple(expected):
        raise AssertionError(_message(f"{what} should have shape {tuple(expected)}, got {tuple(shape)}", hint))


def check_close(actual: Any, expected: Any, what: str, hint: str = "", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless ``actual`` equals ``expected`` to within the tolerances, element by element."""
    try:
        got = np.array(actual, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(_message(f"{what} should be a number or an array of numbers, got {actual!r}", hint)) from None
    want = np.array(expected, dtype=float)
    if got.shape != want.shape:
        raise AssertionError(_message(f"{what} should have shape {want.shape}, got {got.shape}", hint))
    flat_got, flat_want = got.ravel().tolist(), want.ravel().tolist()
    for index, (g, w) in enumerate(zip(flat_got, flat_want)):
        if not math.isfinite(g) and math.isfinite(w):
            raise AssertionError(_message(f"{what} holds {g} where {_fmt(w)} was expected (overflow?)", hint))
        if not _within(g, w, rtol, atol):
            position = tuple(int(i) for i in np.unravel_index(index, want.shape))
            where = "" if want.ndim == 0 else f" at index {position[0] if len(position) == 1 else position}"
            raise AssertionError(_message(f"{what} should be {_fmt(w)}{where}, got {_fmt(g)}", hint))


def check_true(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if condition is not True and not (_isinstance(condition, (np.bool_,)) and bool(condition)):
        raise AssertionError(message)


def _within(got: float, want: float, rtol: float, atol: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return _abs(got - want) <= atol + rtol * _abs(want)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _message(text: str, hint: str) -> str:
    return f"{text}. Hint: {hint}" if hint else text


def reference_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, used by the hidden tests as the expected answer."""
    z = np.asarray(z, dtype=float)
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def reference_forward(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """ReLU hidden layer, softmax output: the expected answer of the forward-pass question."""
    return reference_softmax(np.maximum(X @ W1 + b1, 0.0) @ W2 + b2)


def random_layers(rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """A random batch and two layers of random sizes for the forward-pass question."""
    n, d, h, c = (int(v) for v in rng.integers(2, 9, size=4))
    return (rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h),
            rng.normal(size=(h, c)), rng.normal(size=c))


def random_mlp(rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """A random batch, binary targets and a two-layer network for the backprop questions."""
    n, d, h = (int(v) for v in rng.integers(2, 7, size=3))
    return (rng.normal(size=(n, d)), rng.integers(0, 2, size=(n, 1)).astype(float),
            rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=(h, 1)), rng.normal(size=1))


def reference_mlp_gradients(X, Y, W1, b1, W2, b2) -> Tuple[np.ndarray, ...]:
    """Gradients of the mean binary cross-entropy of a sigmoid-sigmoid network, by torch.autograd."""
    import torch

    tensors = [torch.tensor(np.asarray(a, dtype=float), requires_grad=True) for a in (W1, b1, W2, b2)]
    hidden = torch.sigmoid(torch.tensor(X) @ tensors[0] + tensors[1])
    output = torch.sigmoid(hidden @ tensors[2] + tensors[3])
    torch.nn.functional.binary_cross_entropy(output, torch.tensor(Y)).backward()
    return tuple(t.grad.numpy() for t in tensors)


def random_exam_network(rng: np.random.Generator) -> Tuple[Tuple[int, int, int], list]:
    """A random valid network in the tuple form of assignment 3, and its input shape.

    Layers: ("conv", filters, k, s, p), ("maxpool", k, s, p), ("avgpool", k, s, p),
    ("flatten",), ("fc", units).
    """
    from dlcourse.calc import conv_output_size

    shape = (int(rng.integers(1, 4)), int(rng.integers(24, 97)), int(rng.integers(24, 97)))
    size, layers = shape[1:], []
    for _ in range(int(rng.integers(2, 5))):
        if rng.random() < 0.6:
            k, s, p = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
            layer = ("conv", int(rng.integers(2, 33)), k, s, p)
        else:
            k = int(rng.integers(2, 4))
            layer = (str(rng.choice(["maxpool", "avgpool"])), k, int(rng.integers(1, 3)), int(rng.integers(0, 2)))
            k, s, p = layer[1], layer[2], layer[3]
        if min(size) + 2 * p < k:
            break
        size = tuple(conv_output_size(n, k, s, p) for n in size)
        layers.append(layer)
    layers += [("flatten",), ("fc", int(rng.integers(2, 65))), ("fc", int(rng.integers(2, 11)))]
    return shape, layers


def calc_network(input_shape: Sequence[int], layers: Sequence[tuple]):
    """The same network as a ``dlcourse.calc.Network``: the expected answers of assignment 3."""
    from dlcourse import calc

    specs = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            specs.append(calc.Conv2d(layer[1], layer[2], stride=layer[3], padding=layer[4]))
        elif kind in ("maxpool", "avgpool"):
            cls = calc.MaxPool2d if kind == "maxpool" else calc.AvgPool2d
            specs.append(cls(layer[1], stride=layer[2], padding=layer[3]))
        elif kind == "flatten":
            specs.append(calc.Flatten())
        elif kind == "fc":
            specs.append(calc.Linear(layer[1]))
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return calc.Network(tuple(input_shape), specs)


def reference_receptive_field(kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Receptive field of stacked convolutions: 1 + sum over layers of (k_i - 1) times the product of earlier strides.

    >>> reference_receptive_field([3, 3], [1, 1]), reference_receptive_field([7, 3, 3], [2, 2, 1])
    (5, 19)
    """
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def parameter_count(module: Any) -> int:
    """Learned parameters of a torch module (shared ones once)."""
    return sum(p.numel() for p in module.parameters())
