"""Small ipywidgets explorers for the chapters.

In Jupyter an explorer is interactive.  When the book is built (``make book`` sets
``DLCOURSE_BOOK_BUILD=1``) there is no kernel behind the page, so an explorer returns
its default figure instead: the static page shows a complete picture, never an empty
widget box.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from . import activations
from .plots import function_and_derivative_figure


def static_build() -> bool:
    """True while the book is being built (no live kernel behind the page)."""
    return os.environ.get("DLCOURSE_BOOK_BUILD") == "1"


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
    if static_build():
        return activation_figure(default)
    import ipywidgets
    from IPython.display import display

    choice = ipywidgets.Dropdown(options=list(activations.FUNCTIONS), value=default, description="function")
    span = ipywidgets.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, description="x range")
    output = ipywidgets.Output()

    def redraw(_: Any = None) -> None:
        output.clear_output(wait=True)
        with output:
            display(activation_figure(choice.value, span.value))

    choice.observe(redraw, names="value")
    span.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([ipywidgets.HBox([choice, span]), output])
