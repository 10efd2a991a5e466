"""The activations chapter's measurements and explorer: each activation's curve and derivative,
and how fast small networks with each activation train on two spirals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcourse import activations
from dlcourse.data import two_spirals
from dlcourse.display.explorers import redrawing_output
from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import is_book_build
from dlcourse.display.plots import function_and_derivative_figure
from dlcourse.hardware.device import torch_threads
from dlcourse.models.small import mlp
from dlcourse.training import error_rate, train_epoch


def training_error_curves(
    activations: dict[str, type], epochs: int = 60, seed: int = 0, lr: float = 0.1, batch_size: int = 50
) -> dict[str, list[float]]:
    """Train the same MLP on two spirals with each activation; training error after each epoch.

    Same data, same initial random state, same optimiser (SGD with momentum 0.9) for every
    activation, so the curves differ only by the activation.
    """
    with torch_threads(1):
        x, y = two_spirals(seed=seed)
        curves: dict[str, list[float]] = {}
        for name, activation in activations.items():
            torch.manual_seed(seed)
            net = mlp([2, 64, 64, 64, 64, 2], activation)
            optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
            errors = []
            for _ in range(epochs):
                train_epoch(net, optimizer, x, y, batch_size)
                errors.append(error_rate(net, x, y))
            curves[name] = errors
        return curves


def first_epoch_below(errors: list[float], threshold: float) -> int | None:
    """The first epoch (counted from 1) whose error is at most ``threshold``, or None.

    >>> first_epoch_below([0.5, 0.3, 0.2, 0.1], 0.25)
    3
    """
    return next((epoch for epoch, error in enumerate(errors, start=1) if error <= threshold), None)


@inline_figure
def activation_figure(name: str, x_range: float = 5.0) -> Figure:
    """One activation function and its derivative on [-x_range, x_range].

    >>> activation_figure("tanh").axes[0].get_lines()[0].get_label()
    'tanh'
    """
    if name not in activations.FUNCTIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(activations.FUNCTIONS)}")
    if x_range <= 0:
        raise ValueError(f"x_range must be positive, got {x_range}")
    x = np.linspace(-x_range, x_range, 401)
    return function_and_derivative_figure(
        x, {name: activations.FUNCTIONS[name](x)}, {name: activations.derivative(name, x)}
    )


def activation_explorer(default: str = "relu") -> Any:
    """Pick an activation and a range; see the function and its derivative.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    if default not in activations.FUNCTIONS:
        raise ValueError(f"unknown activation {default!r}; known: {', '.join(activations.FUNCTIONS)}")
    if is_book_build():
        return activation_figure(default)
    import ipywidgets

    controls = {
        "name": ipywidgets.Dropdown(options=list(activations.FUNCTIONS), value=default, description="function"),
        "x_range": ipywidgets.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, description="x range"),
    }
    output = redrawing_output(controls, activation_figure)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), output])
