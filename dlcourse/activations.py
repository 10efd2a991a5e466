"""Activation functions and their derivatives in NumPy, written to be numerically stable.

Each function takes an array ``x`` and returns ``f(x)``; ``derivative(name, x)`` returns
``f'(x)``.  The tests check every one against PyTorch's own function and autograd.

>>> import numpy as np
>>> x = np.array([-2.0, 0.0, 2.0])
>>> sigmoid(x).round(4).tolist()
[0.1192, 0.5, 0.8808]
>>> derivative("relu", x).tolist()
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1 / (1 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1 + exp_x)
    return out


def tanh(x: Array) -> Array:
    """(e^x - e^-x) / (e^x + e^-x) = 2 sigmoid(2x) - 1."""
    return np.tanh(np.asarray(x, dtype=float))


def relu(x: Array) -> Array:
    """max(0, x)."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def leaky_relu(x: Array, alpha: float = 0.01) -> Array:
    """x for x > 0, alpha x otherwise (PReLU is the same with alpha learned)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def gelu(x: Array) -> Array:
    """x Phi(x), with Phi the standard normal distribution function."""
    x = np.asarray(x, dtype=float)
    return x * _normal_cdf(x)


def silu(x: Array) -> Array:
    """x sigmoid(x) (also called swish)."""
    x = np.asarray(x, dtype=float)
    return x * sigmoid(x)


def softmax(x: Array, axis: int = -1) -> Array:
    """e^x_i / sum_j e^x_j along ``axis``, shifted by the maximum so nothing overflows.

    >>> softmax(np.array([1000.0, 1000.0])).tolist()
    [0.5, 0.5]
    """
    x = np.asarray(x, dtype=float)
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _normal_cdf(x: Array) -> Array:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _normal_pdf(x: Array) -> Array:
    return np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)


_DERIVATIVES: dict[str, Callable[[Array], Array]] = {
    "sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "relu": lambda x: (x > 0).astype(float),  # 0 at x = 0, as PyTorch takes it
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.01),
    "elu": lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
    "gelu": lambda x: _normal_cdf(x) + x * _normal_pdf(x),
    "silu": lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x))),
}

FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "silu": silu,
}


def derivative(name: str, x: Array) -> Array:
    """f'(x) of the activation called ``name`` (one of ``FUNCTIONS``)."""
    if name not in _DERIVATIVES:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(FUNCTIONS)}")
    return _DERIVATIVES[name](np.asarray(x, dtype=float))
