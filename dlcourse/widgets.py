"""Small ipywidgets explorers for the chapters.

In Jupyter an explorer is interactive.  When the book is built (the book's extension,
``book/_ext/book_fixes.py``, sets ``DLCOURSE_BOOK_BUILD=1`` for however it is built)
there is no kernel behind the page, so an explorer returns its default figure instead:
the static page shows a complete picture, never an empty widget box, and nothing is
fetched from a CDN.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict

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


def _redrawing_output(controls: Dict[str, Any], draw: Callable[..., Figure]) -> Any:
    """An ipywidgets Output showing ``draw(**values of controls)``, redrawn whenever a control changes.

    Values ``draw`` refuses (a ValueError) are reported in the output instead of drawn.
    """
    import ipywidgets
    from IPython.display import display

    output = ipywidgets.Output()

    def redraw(_: Any = None) -> None:
        output.clear_output(wait=True)
        with output:
            try:
                display(draw(**{name: control.value for name, control in controls.items()}))
            except ValueError as error:
                print(error)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return output


def activation_explorer(default: str = "relu") -> Any:
    """Pick an activation and a range; see the function and its derivative.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    if default not in activations.FUNCTIONS:
        raise ValueError(f"unknown activation {default!r}; known: {', '.join(activations.FUNCTIONS)}")
    if static_build():
        return activation_figure(default)
    import ipywidgets

    controls = {
        "name": ipywidgets.Dropdown(options=list(activations.FUNCTIONS), value=default, description="function"),
        "x_range": ipywidgets.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, description="x range"),
    }
    output = _redrawing_output(controls, activation_figure)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), output])


def conv_explorer(size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 1, dilation: int = 1) -> Any:
    """Sliders for input size, kernel, stride, padding and dilation; the grids redraw.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    from .plots import conv_grid_figure

    if static_build():
        return conv_grid_figure(size, kernel, stride, padding, dilation)
    import ipywidgets

    sliders = {
        "size": ipywidgets.IntSlider(value=size, min=1, max=12, description="input"),
        "kernel": ipywidgets.IntSlider(value=kernel, min=1, max=7, description="kernel"),
        "stride": ipywidgets.IntSlider(value=stride, min=1, max=4, description="stride"),
        "padding": ipywidgets.IntSlider(value=padding, min=0, max=3, description="padding"),
        "dilation": ipywidgets.IntSlider(value=dilation, min=1, max=3, description="dilation"),
    }
    output = _redrawing_output(sliders, conv_grid_figure)
    rows = list(sliders.values())
    return ipywidgets.VBox([ipywidgets.HBox(rows[:3]), ipywidgets.HBox(rows[3:]), output])
