"""Assertions for graded notebooks, with failure messages that teach.

The tests of the graded assignments call these instead of ``assert`` or
``np.testing``.  A student runs them in their own Jupyter, against their own functions;
when the work is graded they run in the grader's process (``dlcourse.grading.runner``), where
the student's answers arrive as plain data, so nothing a notebook redefines can reach
them.

**The precision policy** (every assignment states it at its top): counts and sizes are
integers and must be exact (``check_equal``); real numbers must agree to float32
precision, a relative error of at most ``RTOL`` = 1e-5 plus ``ATOL`` = 1e-6 near zero
(``check_close``), so float32 and float64 answers both pass; a question that needs more
(float64, a stable formula) says so in its text and passes its own tolerance.

Messages name the mistake, print integers exactly with thousands separators, and keep
their lines short, so ``nbgrader validate`` shows them whole.

**Random inputs** of hidden tests come from ``rng(question)``: seeded from the
assignment, the question and the student (``grading_context``, set by the grader), so
grading a file again gives the same grade, and different students get different inputs.

>>> import numpy as np
>>> check_shape(np.zeros((8, 3)), (8, 3), "forward(X)")
>>> check_equal(176_977_000, 176_981_106, "the network's parameters")
Traceback (most recent call last):
...
AssertionError: the network's parameters should be 176,981,106, got 176,977,000
>>> check_close(np.float32(0.7310586), 0.7310585786300049, "sigmoid(1)")   # float32 is fine
>>> check_close(0.5, 0.25, "sigmoid(0)", hint="sigmoid(0) = 1 / (1 + e^0)")
Traceback (most recent call last):
...
AssertionError: sigmoid(0) should be 0.25, got 0.5
Hint: sigmoid(0) = 1 / (1 + e^0)
"""

from __future__ import annotations

import hashlib
import math
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

RTOL = 1e-5   # float32 precision: about five significant digits
ATOL = 1e-6   # for values near zero
WIDTH = 78    # characters per line of a message (nbgrader validate cuts longer lines)

_abs, _isinstance = abs, isinstance
_context = {"assignment": "", "student": ""}


# ---------------------------------------------------------------- random inputs

def grading_context(assignment: str, student: str) -> None:
    """Set by the grader before each test: whose inputs ``rng`` draws."""
    _context.update(assignment=str(assignment), student=str(student))


def seed(question: str) -> int:
    """A seed from the assignment, the question and the student (without a grader: the question alone).

    >>> seed("q1") == seed("q1"), seed("q1") == seed("q2")
    (True, False)
    """
    text = f"{_context['assignment']}/{question}/{_context['student']}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def rng(question: str) -> np.random.Generator:
    """NumPy's generator for the random inputs of one question's hidden tests."""
    return np.random.default_rng(seed(question))


def torch_generator(question: str) -> Any:
    """torch's generator for the random inputs of one question's hidden tests."""
    import torch

    return torch.Generator().manual_seed(seed(question) % 2**63)


# ---------------------------------------------------------------- checks

def check_equal(actual: Any, expected: Any, what: str, hint: str = "",
                mistakes: dict[str, Any] | None = None) -> None:
    """Fail unless ``actual`` is exactly ``expected``: a whole number, or a sequence of them.

    Any honest form passes: an int, a NumPy integer, a float with no fractional part, a
    tuple or a list or an array of them.  ``mistakes`` maps a common mistake to the
    answer it gives; a wrong answer equal to one of them is named in the message.

    >>> check_equal(2352, 2368, "conv_params(3, 16, 7)", mistakes={"the biases are missing": 2352})
    Traceback (most recent call last):
    ...
    AssertionError: conv_params(3, 16, 7) should be 2,368, got 2,352
    It looks like the biases are missing.
    """
    if not _equal(actual, expected):
        found = next((label for label, wrong in (mistakes or {}).items() if _equal(actual, wrong)), "")
        raise AssertionError(_message(f"{what} should be {_show(expected)}, got {_show(actual)}", hint, found))


def check_close(actual: Any, expected: Any, what: str, hint: str = "", rtol: float = RTOL, atol: float = ATOL,
                mistakes: dict[str, Any] | None = None) -> None:
    """Fail unless ``actual`` equals ``expected`` within the tolerances, element by element.

    ``mistakes`` maps a common mistake to the answer it gives (same shape); a wrong
    answer close to one of them is named in the message.
    """
    try:
        got = np.array(actual, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(_message(f"{what} should be a number or an array of numbers, got {_short(actual)}",
                                      hint)) from None
    want = np.array(expected, dtype=float)
    if got.shape != want.shape:
        raise AssertionError(_message(f"{what} should have shape {want.shape}, got {got.shape}", hint))
    for index, (g, w) in enumerate(zip(got.ravel().tolist(), want.ravel().tolist())):
        if not math.isfinite(g) and math.isfinite(w):
            raise AssertionError(_message(f"{what} holds {g}{_where(index, want.shape)} where {_fmt(w)} "
                                          "was expected (an overflow?)", hint))
        if not _within(g, w, rtol, atol):
            found = next((label for label, wrong in (mistakes or {}).items() if _all_close(got, wrong, rtol, atol)), "")
            raise AssertionError(_message(f"{what} should be {_fmt(w)}{_where(index, want.shape)}, got {_fmt(g)}",
                                          hint, found))


def check_shape(actual: Any, expected: Sequence[int], what: str, hint: str = "") -> None:
    """Fail unless ``actual`` is an array (or tensor) of shape ``expected``.

    A list or tuple of numbers or of arrays passes too, with the shape it stacks to: any
    honest form of an answer passes.

    >>> check_shape([np.zeros(3), np.zeros(3)], (2, 3), "outputs")
    """
    shape = getattr(actual, "shape", None)
    if shape is None and _is_sequence(actual):
        try:
            shape = np.asarray(actual, dtype=float).shape
        except (TypeError, ValueError):  # ragged, or not numbers: no shape
            shape = None
    if shape is None:
        raise AssertionError(_message(f"{what} should be an array of shape {tuple(expected)}, "
                                      f"got {type(actual).__name__}", hint))
    if tuple(shape) != tuple(expected):
        raise AssertionError(_message(f"{what} should have shape {tuple(expected)}, got {tuple(shape)}", hint))


def check_true(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if condition is not True and not (_isinstance(condition, np.bool_) and bool(condition)):
        raise AssertionError(_message(message, ""))


_CHANGED_INPUTS: dict[int, tuple[Any, Any]] = {}   # id(grader's argument) -> (argument, what the notebook left)


def note_changed_input(argument: Any, now: Any) -> None:
    """The grader's side of a call into the sandbox: the notebook changed its copy of ``argument`` to ``now``.

    The grader's ``argument`` itself is never changed (``dlcourse.grading.notebook_proxy.record_changes``);
    ``check_unchanged`` on it reports the change.

    >>> w = np.zeros(2); note_changed_input(w, np.ones(2)); as_the_notebook_left_it(w)
    array([1., 1.])
    >>> forget_changed_inputs(); as_the_notebook_left_it(w)
    array([0., 0.])
    """
    _CHANGED_INPUTS[id(argument)] = (argument, now)


def forget_changed_inputs() -> None:
    """Start a new test: no changed input noted."""
    _CHANGED_INPUTS.clear()


def as_the_notebook_left_it(value: Any) -> Any:
    """``value`` as the student's code left it: its noted change if a call changed it, else itself."""
    noted = _CHANGED_INPUTS.get(id(value))
    return noted[1] if noted is not None and noted[0] is value else value


def check_unchanged(now: Any, before: Any, what: str, hint: str = "") -> None:
    """Fail if an input array was changed in place (``before`` is a copy taken earlier).

    In the grader, ``now`` is an argument of a call into the sandbox: the change the notebook
    made to its copy is what is checked (``as_the_notebook_left_it``).

    >>> w = np.array([1.0, 2.0]); before = w.copy(); w[1] += 1e-6
    >>> check_unchanged(w, before, "w after numerical_gradient", "work on copies")
    Traceback (most recent call last):
    ...
    AssertionError: w after numerical_gradient was changed in place: at index 1 it was 2.0, it is
    now 2.000001
    Hint: work on copies
    """
    now_array, before_array = np.asarray(as_the_notebook_left_it(now)), np.asarray(before)
    if now_array.shape != before_array.shape:
        raise AssertionError(_message(f"{what} was changed in place: its shape went from {before_array.shape} "
                                      f"to {now_array.shape}", hint))
    changed = np.flatnonzero(~((now_array == before_array) | (np.isnan(now_array) & np.isnan(before_array))))
    if changed.size:
        index = int(changed[0])
        raise AssertionError(_message(
            f"{what} was changed in place:{_where(index, before_array.shape)} it was "
            f"{before_array.ravel()[index].item()!r}, it is now {now_array.ravel()[index].item()!r}", hint))


# ---------------------------------------------------------------- formatting

def _equal(actual: Any, expected: Any) -> bool:
    if _is_sequence(expected):
        return _is_sequence(actual) and len(actual) == len(expected) and \
            all(_equal(got, want) for got, want in zip(actual, expected))
    return _same_number(actual, expected)


def _all_close(got: np.ndarray, wrong: Any, rtol: float, atol: float) -> bool:
    try:
        other = np.array(wrong, dtype=float)
    except (TypeError, ValueError):
        return False
    return other.shape == got.shape and all(_within(g, w, rtol, atol) for g, w in zip(got.ravel().tolist(),
                                                                                       other.ravel().tolist()))


def _same_number(got: Any, want: Any) -> bool:
    got = _scalar(got)
    if _isinstance(got, (bool, np.bool_)) or not _isinstance(got, (int, float, np.integer, np.floating)):
        return False
    return float(got) == float(want) and (not _isinstance(got, (float, np.floating)) or float(got).is_integer())


def _scalar(value: Any) -> Any:
    """A number held in a 0-d array or a 0-d tensor, as the number (any other value as it is).

    >>> _scalar(np.array(32256.0)), _scalar([1])
    (32256.0, [1])
    """
    if _isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    torch = sys.modules.get("torch")     # a tensor exists only where torch was imported
    if torch is not None and _isinstance(value, torch.Tensor) and value.dim() == 0:
        return value.item()
    return value


def _is_sequence(value: Any) -> bool:
    return _isinstance(value, (list, tuple)) or (_isinstance(value, np.ndarray) and value.ndim >= 1)


def _within(got: float, want: float, rtol: float, atol: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return _abs(got - want) <= atol + rtol * _abs(want)


def _fmt(value: float) -> str:
    """A number as a student reads it: whole numbers exactly, with separators; others to 8 digits."""
    if math.isfinite(value) and float(value).is_integer() and _abs(value) < 1e18:
        return f"{int(value):,}"
    return f"{value:.8g}"


def _show(value: Any) -> str:
    if _is_sequence(value):
        inner = ", ".join(_show(item) for item in value)
        return f"[{inner}]" if _isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if _isinstance(value, (int, np.integer)) and not _isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    if _isinstance(value, (float, np.floating)):
        return _fmt(float(value))
    return _short(value)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(index: int, shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return ""
    position = tuple(int(i) for i in np.unravel_index(index, shape))
    return f" at index {position[0] if len(position) == 1 else position}"


def _message(text: str, hint: str, mistake: str = "") -> str:
    lines = textwrap.wrap(text, WIDTH, break_on_hyphens=False)
    if mistake:
        lines += textwrap.wrap(f"It looks like {mistake}.", WIDTH, break_on_hyphens=False)
    if hint:
        lines += textwrap.wrap(f"Hint: {hint}", WIDTH, break_on_hyphens=False)
    return "\n".join(lines)


# ---------------------------------------------------------------- torch modules

def modules_of(module: Any, kind: Any) -> list[Any]:
    """Every place a module of class ``kind`` sits in the tree of ``module`` (nested ones too).

    A module used in two places (one ``nn.ReLU()`` after two convolutions) counts twice: it
    runs twice, which is what a question about the layers of a block asks.

    >>> from torch import nn
    >>> relu = nn.ReLU()
    >>> len(modules_of(nn.Sequential(nn.Linear(2, 2), relu, nn.Linear(2, 2), relu), nn.ReLU))
    2
    """
    return [sub for _, sub in module.named_modules(remove_duplicate=False) if _isinstance(sub, kind)]


def leaf_layers(module: Any) -> list[Any]:
    """The layers of ``module`` without children, in the order they were added, a shared one at every place.

    >>> from torch import nn
    >>> relu = nn.ReLU()
    >>> [type(m).__name__ for m in leaf_layers(nn.Sequential(nn.Linear(2, 2), relu, nn.Linear(2, 2), relu))]
    ['Linear', 'ReLU', 'Linear', 'ReLU']
    """
    return [sub for _, sub in module.named_modules(remove_duplicate=False) if not list(sub.children())]


def parameter_count(module: Any) -> int:
    """Learned parameters of a torch module (shared ones once)."""
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- reference answers and inputs

def reference_forward(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """ReLU hidden layer, softmax output: the expected answer of the forward-pass question."""
    from dlcourse.activations import softmax

    return softmax(np.maximum(X @ W1 + b1, 0.0) @ W2 + b2)


def random_layers(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A random batch and two layers for the forward-pass question: N, d, h and c all different, c >= 3."""
    n, d, h, c = (int(v) for v in rng.choice(np.arange(3, 10), size=4, replace=False))
    return (rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h),
            rng.normal(size=(h, c)), rng.normal(size=c))


def random_mlp(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A random batch (N, d, h all different), mixed 0/1 targets and a two-layer network for the backprop questions."""
    n, d, h = (int(v) for v in rng.choice(np.arange(2, 8), size=3, replace=False))
    targets = np.arange(n) % 2
    rng.shuffle(targets)
    return (rng.normal(size=(n, d)), targets.reshape(n, 1).astype(float),
            rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=(h, 1)), rng.normal(size=1))


def reference_mlp_gradients(X, Y, W1, b1, W2, b2) -> tuple[np.ndarray, ...]:
    """Gradients of the mean binary cross-entropy of a sigmoid-sigmoid network, by torch.autograd."""
    import torch

    tensors = [torch.tensor(np.asarray(a, dtype=float), requires_grad=True) for a in (W1, b1, W2, b2)]
    hidden = torch.sigmoid(torch.tensor(np.asarray(X, dtype=float)) @ tensors[0] + tensors[1])
    output = torch.sigmoid(hidden @ tensors[2] + tensors[3])
    torch.nn.functional.binary_cross_entropy(output, torch.tensor(np.asarray(Y, dtype=float))).backward()
    return tuple(t.grad.numpy() for t in tensors)  # type: ignore[union-attr]  # backward() filled each grad


def random_exam_network(question: str) -> tuple[tuple[int, int, int], list, Any]:
    """A random network for assignment 3's hidden tests: its input shape, its layers as the
    assignment's tuples, and the same network as a ``dlcourse.calc.Network`` (the expected answers).

    The network comes from the course's one generator, ``dlcourse.exam.random_network``,
    seeded like ``rng(question)``; the tuples are ("conv", filters, k, s, p),
    ("maxpool", k, s, p), ("avgpool", k, s, p), ("flatten",) and ("fc", units).
    """
    import random

    from dlcourse import calc
    from dlcourse.exam import random_network

    generator = random.Random(seed(question))
    shape = (generator.choice([1, 3]), generator.randint(40, 120), generator.randint(40, 120))
    layers = random_network(generator, shape, classes=generator.randint(3, 10), hidden=(16, 32, 64, 100))
    return shape, [as_tuple(layer) for layer in layers], calc.Network(shape, layers)


def as_tuple(layer: Any) -> tuple:
    """A ``dlcourse.calc`` layer in assignment 3's tuple form."""
    from dlcourse import calc

    if isinstance(layer, calc.Conv2d):
        return ("conv", layer.out_channels, layer.kernel_size[0], layer.stride[0], layer.padding[0])
    if isinstance(layer, (calc.MaxPool2d, calc.AvgPool2d)):
        kind = "maxpool" if isinstance(layer, calc.MaxPool2d) else "avgpool"
        return (kind, layer.kernel_size[0], layer.stride[0], layer.padding[0])
    if isinstance(layer, calc.Flatten):
        return ("flatten",)
    if isinstance(layer, calc.Linear):
        return ("fc", layer.out_features)
    raise ValueError(f"assignment 3 has no tuple for a {type(layer).__name__} layer")


def reference_receptive_field(kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Receptive field of stacked convolutions: 1 + sum over layers of (k_i - 1) times the product of earlier strides.

    >>> reference_receptive_field([3, 3], [1, 1]), reference_receptive_field([7, 3, 3], [2, 2, 1])
    (5, 19)
    """
    from dlcourse.calc.layers import Conv2d
    from dlcourse.calc.receptive_field import receptive_field

    if len(kernels) != len(strides):
        raise ValueError(f"give one stride per kernel: {len(kernels)} kernels but {len(strides)} strides")
    rows = receptive_field([Conv2d(1, kernel, stride=stride) for kernel, stride in zip(kernels, strides)])
    return rows[-1].field[0]
