"""Measurements for the neural-networks chapter: weight initialisation and input normalisation.

A layer with ``fan_in`` inputs computes ``z = sum_i w_i x_i``; with independent, zero-mean weights
``Var(z) = fan_in Var(w) E[x^2]``.  An initialisation scheme chooses ``Var(w)`` so that this stays
near ``E[x^2]`` from layer to layer:

* ``"naive"``  : N(0, 1), whatever the size of the layer;
* ``"tiny"``   : N(0, 0.01^2);
* ``"xavier"`` : Var(w) = 2 / (fan_in + fan_out) (Glorot and Bengio 2010), for tanh and sigmoid;
* ``"he"``     : Var(w) = 2 / fan_in (He et al. 2015), for ReLU, which halves the second moment.

``activation_stds`` and ``gradient_stds`` measure the standard deviation of the activations (and of
the gradients) layer by layer through a deep plain network; ``init_figure`` plots them.
``least_squares_losses`` runs gradient descent on a linear least-squares problem, for the section on
normalising the inputs.

Everything is deterministic for a given seed; the tests check the standard deviations against
``torch.nn.init`` and a PyTorch forward pass, and the gradients against ``torch.autograd``.

>>> round(init_std("he", 512), 4)
0.0625
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from dlcourse.display.inline_figures import inline_figure
from dlcourse.hardware.device import torch_threads
from dlcourse.models.small import digits_8x8_cnn, mlp
from dlcourse.training import accuracy, train_epoch

SCHEMES: tuple[str, ...] = ("naive", "tiny", "xavier", "he")

#: How the chapter's figure names each scheme.
LABELS: dict[str, str] = {
    "naive": "naive N(0, 1)",
    "tiny": "tiny N(0, 0.01²)",
    "xavier": "Xavier 2/(n_in+n_out)",
    "he": "He 2/n_in",
}

# Each activation with its derivative, both as functions of the pre-activation z.
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, np.ones_like),
}


def init_std(scheme: str, fan_in: int, fan_out: int | None = None) -> float:
    """The standard deviation of the normal distribution a scheme draws a layer's weights from.

    ``fan_in`` is the number of inputs of each unit, ``fan_out`` the number of units (it only
    matters for Xavier; by default it equals ``fan_in``).  The variance is the square.

    >>> [round(init_std(s, 512, 256), 4) for s in SCHEMES]
    [1.0, 0.01, 0.051, 0.0625]
    >>> init_std("he", 512) ** 2 == 2 / 512
    True
    """
    if fan_in < 1 or (fan_out is not None and fan_out < 1):
        raise ValueError("fan_in and fan_out must be positive")
    fan_out = fan_in if fan_out is None else fan_out
    variances = {"naive": 1.0, "tiny": 0.01**2, "xavier": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in}
    if scheme not in variances:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {SCHEMES}")
    return math.sqrt(variances[scheme])


def random_weights(depth: int, width: int, scheme: str, seed: int = 0) -> list[np.ndarray]:
    """``depth`` weight matrices of shape ``width x width`` (inputs x outputs, as in ``A @ W``).

    The biases of a freshly initialised layer are 0, so none are returned.  The same seed gives
    every scheme the same standard-normal draws, scaled by ``init_std``.

    >>> Ws = random_weights(2, 3, "he", seed=1)
    >>> len(Ws), Ws[0].shape
    (2, (3, 3))
    >>> bool(np.allclose(random_weights(1, 3, "tiny")[0], 0.01 * random_weights(1, 3, "naive")[0]))
    True
    """
    if depth < 1 or width < 1:
        raise ValueError("depth and width must be positive")
    rng = np.random.default_rng(seed)
    std = init_std(scheme, width, width)
    return [std * rng.standard_normal((width, width)) for _ in range(depth)]


def _activation(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {tuple(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def activation_stds(weights: Sequence[np.ndarray], inputs: np.ndarray, activation: str) -> np.ndarray:
    """The standard deviation of the activations ``A^(0) = inputs``, ``A^(1)``, ..., ``A^(depth)``.

    Layer ``k`` computes ``A^(k) = f(A^(k-1) @ weights[k-1])`` (zero biases), with ``f`` one of
    ``"tanh"``, ``"relu"`` or ``"linear"``.  Entry ``k`` is the standard deviation of all the
    ``batch x width`` values of ``A^(k)``.

    >>> X = np.random.default_rng(0).standard_normal((256, 256))
    >>> stds = activation_stds(random_weights(3, 256, "naive"), X, "linear")
    >>> len(stds), bool(np.allclose((stds[1:] / stds[:-1]) ** 2, 256, rtol=0.05))  # Var(z) = 256 * 1 * E[x^2]
    (4, True)
    """
    f, _ = _activation(activation)
    a = np.asarray(inputs, dtype=float)
    stds = [a.std()]
    for W in weights:
        a = f(a @ W)
        stds.append(a.std())
    return np.array(stds)


def gradient_stds(weights: Sequence[np.ndarray], inputs: np.ndarray, activation: str,
                  upstream: np.ndarray) -> np.ndarray:
    """The standard deviation of ``dL/dA^(k)``, k = 0..depth, for the network of ``activation_stds``.

    The loss is ``L = sum(A^(depth) * upstream)``, so ``upstream`` is the gradient arriving at the
    top layer; backpropagation carries it down with ``dL/dZ^(k) = dL/dA^(k) * f'(Z^(k))`` and
    ``dL/dA^(k-1) = dL/dZ^(k) @ W^(k).T``.

    >>> rng = np.random.default_rng(0)
    >>> X, G = rng.standard_normal((2, 64, 64))
    >>> grads = gradient_stds(random_weights(30, 64, "he"), X, "relu", G)
    >>> len(grads), bool(0.3 < grads[0] / grads[-1] < 3)
    (31, True)
    """
    f, derivative = _activation(activation)
    a = np.asarray(inputs, dtype=float)
    pre = []
    for W in weights:
        pre.append(a @ W)
        a = f(pre[-1])
    grad = np.asarray(upstream, dtype=float)
    if grad.shape != a.shape:
        raise ValueError(f"upstream has shape {grad.shape}, the top layer {a.shape}")
    stds = [grad.std()]
    for W, Z in zip(reversed(weights), reversed(pre)):
        grad = (grad * derivative(Z)) @ W.T
        stds.append(grad.std())
    return np.array(stds[::-1])


# Curves that lie on each other stay apart by their line style and marker.
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D")


@inline_figure
def init_figure(forward: Mapping[str, Mapping[str, Sequence[float]]],
                backward: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Standard deviations layer by layer: activations (top row) and gradients (bottom row).

    ``forward[activation][label]`` and ``backward[activation][label]`` hold one curve each, the
    values at layers 0, 1, ..., depth; one column per activation, log scale, one legend below.
    Each curve has its own line style and marker, so curves that coincide remain visible.

    >>> fig = init_figure({"tanh": {"He": [1, 0.5]}}, {"tanh": {"He": [0.5, 1]}})
    >>> [ax.get_title() for ax in fig.axes]
    ['tanh: activations', 'tanh: gradients']
    """
    if not forward or forward.keys() != backward.keys():
        raise ValueError("forward and backward must name the same activations")
    columns = list(forward)
    fig = Figure(figsize=(4.6 * len(columns), 6.6))
    axes = fig.subplots(2, len(columns), squeeze=False, sharex=True)
    for column, activation in enumerate(columns):
        for row, (values, what) in enumerate([(forward, "activations"), (backward, "gradients")]):
            ax = axes[row, column]
            for index, (label, curve) in enumerate(values[activation].items()):
                ax.plot(range(len(curve)), curve, label=label, linewidth=2, linestyle=_STYLES[index % len(_STYLES)],
                        marker=_MARKERS[index % len(_MARKERS)], markersize=3.5, markevery=3)
            ax.set_yscale("log")
            ax.set_title(f"{activation}: {what}")
            ax.grid(alpha=0.3)
            ax.set_ylabel("std of " + ("$A^{(k)}$" if row == 0 else r"$\partial L / \partial A^{(k)}$"))
            if row == 1:
                ax.set_xlabel("layer k")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Each column minus its mean, divided by its standard deviation, both measured on ``train``.

    The same shift and scale are applied to ``others`` (validation, test, new inputs), never
    statistics of their own.

    >>> train = np.array([[1.0, 100.0], [3.0, 300.0]])
    >>> [a.tolist() for a in standardise(train, np.array([[2.0, 500.0]]))]
    [[[-1.0, -1.0], [1.0, 1.0]], [[0.0, 3.0]]]
    """
    train = np.asarray(train, dtype=float)
    mean, std = train.mean(axis=0), train.std(axis=0)
    if np.any(std == 0):
        raise ValueError("a constant column cannot be standardised")
    return [(np.asarray(a, dtype=float) - mean) / std for a in (train, *others)]


def largest_stable_learning_rate(X: np.ndarray) -> float:
    """``2 / lambda_max`` of ``X.T X / N``, the Hessian of ``|X w - y|^2 / (2N)``: above it gradient descent diverges.

    >>> largest_stable_learning_rate(np.array([[1.0, 0.0], [0.0, 10.0]]))  # Hessian diag(0.5, 50)
    0.04
    """
    X = np.asarray(X, dtype=float)
    return float(2.0 / np.linalg.eigvalsh(X.T @ X / len(X))[-1])


def least_squares_losses(X: np.ndarray, y: np.ndarray, learning_rate: float, steps: int) -> np.ndarray:
    """Gradient descent on ``J(w) = |X w - y|^2 / (2N)`` from ``w = 0``: J before each step and after the last.

    ``X`` already holds a column of ones if the model has a bias.  The gradient is
    ``X.T (X w - y) / N = H w - g`` with ``H = X.T X / N`` and ``g = X.T y / N``, so each step
    only costs a product with the small matrix ``H``.

    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]]); y = np.array([1.0, 3.0])
    >>> least_squares_losses(X, y, learning_rate=0.5, steps=200)[[0, -1]].round(6).tolist()
    [2.5, 0.0]
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if steps < 0:
        raise ValueError("steps must be >= 0")
    H, g, c = X.T @ X / len(y), X.T @ y / len(y), y @ y / (2 * len(y))
    w = np.zeros(X.shape[1])
    losses = np.empty(steps + 1)
    for step in range(steps + 1):
        Hw = H @ w
        losses[step] = 0.5 * w @ Hw - g @ w + c
        w = w - learning_rate * (Hw - g)
    return losses


def steps_to_reach(losses: Sequence[float], target: float) -> int | None:
    """The first step at which the loss is at most ``target``; None if it never gets there.

    >>> steps_to_reach([4.0, 2.0, 1.0, 0.5], 1.0), steps_to_reach([4.0, 2.0], 1.0)
    (2, None)
    """
    below = np.flatnonzero(np.asarray(losses) <= target)
    return int(below[0]) if below.size else None




def scrambled_digits_accuracies(epochs: int = 30, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Test accuracy on the 8 x 8 digits, pixels in order and scrambled by one fixed permutation.

    Returns ``{"fully connected": (in order, scrambled), "convolutional": (in order, scrambled)}``.
    Each network is trained with Adam from ``torch.manual_seed(seed)``.  The fully connected one
    (64 -> 64 ReLU -> 10) on scrambled pixels starts from the same weights with the columns of
    its first layer permuted like the pixels, so it computes the same function at every step.
    """
    from dlcourse.data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):
        x_train, y_train, x_test, y_test = digits(size=8, seed=seed)
        shuffle = torch.from_numpy(np.random.default_rng(seed).permutation(64))

        def scramble(images: torch.Tensor) -> torch.Tensor:
            return images.flatten(1)[:, shuffle].reshape(images.shape)

        results: dict[str, tuple[float, float]] = {}
        for name in ("fully connected", "convolutional"):
            accuracies = []
            for scrambled in (False, True):
                torch.manual_seed(seed)
                if name == "fully connected":
                    model = nn.Sequential(nn.Flatten(), mlp([64, 64, 10], nn.ReLU))
                    if scrambled:
                        with torch.no_grad():
                            first = model[1][0].weight
                            first.copy_(first[:, shuffle])
                else:
                    model = digits_8x8_cnn()
                train, test = (scramble(x_train), scramble(x_test)) if scrambled else (x_train, x_test)
                optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
                for _ in range(epochs):
                    train_epoch(model, optimizer, train, y_train, batch_size=32)
                accuracies.append(accuracy(model, test, y_test))
            results[name] = (accuracies[0], accuracies[1])
        return results
