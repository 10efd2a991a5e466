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


def optimiser_figure(surface: str = "ravine", optimiser: str = "momentum", lr: float = 0.045,
                     momentum: float = 0.9, steps: int = 0) -> Figure:
    """The path of one optimiser on one of ``dlcourse.surfaces.SURFACES``, next to plain SGD's.

    ``steps=0`` uses the surface's own number of steps.  ``momentum`` is mu for momentum and
    Nesterov, beta1 for Adam and AdamW (see ``dlcourse.experiments.make_optimiser``).

    >>> optimiser_figure().axes[0].get_legend_handles_labels()[1]
    ['SGD, lr 0.45', 'momentum, lr 0.045, 0.9']
    """
    from .plots import trajectories_figure
    from .surfaces import SURFACES, optimiser_path, surface_grid

    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    setting = SURFACES[surface]
    steps = steps or setting.steps
    paths = {f"SGD, lr {setting.lrs['SGD']:g}": optimiser_path(setting.function, setting.start, "SGD", steps,
                                                                setting.lrs["SGD"])}
    label = f"{optimiser}, lr {lr:g}" + (f", {momentum:g}" if optimiser in ("momentum", "Nesterov", "Adam", "AdamW")
                                         else "")
    paths[label] = optimiser_path(setting.function, setting.start, optimiser, steps, lr, momentum)
    X, Y, Z = surface_grid(setting.function, setting.xlim, setting.ylim)
    return trajectories_figure(X, Y, Z, paths, setting.minima, title=f"{surface}, {steps} steps")


def optimiser_explorer(surface: str = "ravine", optimiser: str = "momentum", lr: float = 0.045,
                       momentum: float = 0.9) -> Any:
    """Pick a surface, an optimiser, its learning rate and momentum; its path redraws next to SGD's.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    from .experiments import OPTIMISER_NAMES
    from .surfaces import SURFACES

    if static_build():
        return optimiser_figure(surface, optimiser, lr, momentum)
    import ipywidgets

    controls = {
        "surface": ipywidgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
        "optimiser": ipywidgets.Dropdown(options=list(OPTIMISER_NAMES), value=optimiser, description="optimiser"),
        "lr": ipywidgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.3, step=0.05, description="lr",
                                        readout_format=".2g"),
        "momentum": ipywidgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum"),
        "steps": ipywidgets.IntSlider(value=0, min=0, max=1000, step=10, description="steps (0: auto)"),
    }
    output = _redrawing_output(controls, optimiser_figure)
    rows = list(controls.values())
    return ipywidgets.VBox([ipywidgets.HBox(rows[:2]), ipywidgets.HBox(rows[2:]), output])


def attention_explorer(model: Any, source: Any, example: int = 0, temperature: float = 1.0) -> Any:
    """Pick a string of ``source`` and a softmax temperature; see ``model``'s attention weights as a heat map.

    ``model`` is a ``dlcourse.seq2seq.Seq2Seq`` with attention.  Temperatures above 1 blur the
    weights, below 1 sharpen them.  Returns an ipywidgets box in Jupyter, or the default
    figure when the book is built.
    """
    from functools import partial

    from .seq2seq import attention_weights_figure

    draw = partial(attention_weights_figure, model, source)
    if static_build():
        return draw(example, temperature)
    import ipywidgets

    draw(example, temperature)   # refuse a bad default here, as the static build would
    controls = {
        "example": ipywidgets.IntSlider(value=example, min=0, max=len(source) - 1, description="test string"),
        "temperature": ipywidgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1, step=0.1,
                                                 description="temperature"),
    }
    output = _redrawing_output(controls, draw)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), output])
