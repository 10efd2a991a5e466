"""A scalar automatic-differentiation engine, small enough to read in ten minutes.

Each ``Value`` holds a number (``data``), the derivative of the final output with
respect to it (``grad``), the values it was computed from, and a ``_backward``
function that the operator creating it defines right next to its forward rule:
it pushes the value's ``grad`` to its parents with the chain rule.  ``backward()``
orders the graph so that every value comes after the values computed from it,
then runs those functions from the output down.

>>> x, w, b = Value(2.0), Value(-3.0), Value(1.0)
>>> y = (x * w + b).sigmoid()         # y = sigmoid(x w + b) = sigmoid(-5)
>>> y.backward()
>>> round(y.data, 6), round(w.grad, 6)  # dy/dw = y (1 - y) x
(0.006693, 0.013296)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Number = int | float


class Value:
    """One number in a computation graph, with the gradient of the output with respect to it."""

    def __init__(self, data: Number, _parents: tuple[Value, ...] = (), _op: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise ValueError(f"Value holds a real number, got {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self._parents = _parents
        self._op = _op
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # --- operators: forward rule and backward rule side by side -------------------

    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise ValueError(f"only a constant exponent is supported, got {exponent!r}")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:  # d(a^n)/da = n a^(n-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:  # d(e^a)/da = e^a
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:  # d(ln a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        value = self.data
        s = 1 / (1 + math.exp(-value)) if value >= 0 else math.exp(value) / (1 + math.exp(value))
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:  # d sigma(a)/da = sigma(a) (1 - sigma(a))
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:  # d relu(a)/da = 1 if a > 0 else 0
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    # --- the other arithmetic, written with the operators above -------------------

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other: Value | Number) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other) / self

    # --- backpropagation -----------------------------------------------------------

    def backward(self) -> None:
        """Fill ``grad`` of every value this one depends on, with
        d(self)/d(value)."""
        order: list[Value] = []
        seen: set[int] = set()

        def visit(value: Value) -> None:  # depth first: parents before children
            if id(value) not in seen:
                seen.add(id(value))
                for parent in value._parents:
                    visit(parent)
                order.append(value)

        visit(self)
        for value in order:
            value.grad = 0.0
        self.grad = 1.0
        for value in reversed(order):
            value._backward()


def _as_value(x: Value | Number) -> Value:
    return x if isinstance(x, Value) else Value(x)


def numerical_gradient(
    f: Callable[[Sequence[float]], float], point: Sequence[float], eps: float = 1e-6
) -> list[float]:
    """Central finite differences: ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for each i.

    >>> [round(g, 6) for g in numerical_gradient(lambda v: v[0] ** 2 * v[1], [3.0, 2.0])]
    [12.0, 9.0]
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    gradient = []
    for i in range(len(point)):
        up = list(point)
        down = list(point)
        up[i] += eps
        down[i] -= eps
        gradient.append((f(up) - f(down)) / (2 * eps))
    return gradient


def gradient_check(
    f: Callable[[Sequence[Value]], Value], point: Sequence[float], eps: float = 1e-6
) -> float:
    """Largest relative difference between backpropagated and finite-difference gradients.

    A correct backward pass gives about 1e-8 or less; a gradient off by a factor of 2
    either way gives 0.5, one with the wrong sign gives 2 (see ``relative_difference``).

    >>> gradient_check(lambda v: (v[0] * v[1]).tanh() + v[0] ** 2, [0.3, -1.2]) < 1e-7
    True
    """
    inputs = [Value(x) for x in point]
    f(inputs).backward()
    analytic = [x.grad for x in inputs]
    numeric = numerical_gradient(lambda values: f([Value(v) for v in values]).data, point, eps)
    return relative_difference(analytic, numeric)


def relative_difference(analytic: Sequence[float], numeric: Sequence[float]) -> float:
    """``max_i |a_i - n_i| / max(|a_i|, |n_i|)``, the measure ``gradient_check`` reports.

    Differences below 1e-12 count as 0.  The value lies between 0 and 2: a gradient twice
    or half the true one gives 0.5, one with the wrong sign gives 2.

    >>> relative_difference([2.0, -1.0], [1.0, -1.0]), relative_difference([-3.0], [3.0])
    (0.5, 2.0)
    """
    if len(analytic) != len(numeric):
        raise ValueError(f"the two gradients must have the same length, got {len(analytic)} and {len(numeric)}")
    return max(
        (abs(a - n) / max(abs(a), abs(n)) if abs(a - n) > 1e-12 else 0.0
         for a, n in zip(analytic, numeric)),
        default=0.0,
    )
