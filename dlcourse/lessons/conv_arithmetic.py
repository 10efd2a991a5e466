"""The convolution-arithmetic chapter's figures and explorer: the sliding grid of a convolution,
and nested receptive fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle

from dlcourse.calc.layers import Layer
from dlcourse.calc.receptive_field import FieldRow, Pair, layer_window, layer_windows, receptive_field
from dlcourse.display.explorers import redrawing_output
from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import is_book_build


@inline_figure
def receptive_field_figure(layers: Sequence[Layer],
                           labels: Sequence[str] | None = None) -> Figure:
    """Left: field and jump after every layer; right: the nested fields of one output.

    The right panel draws, on the input's pixels, the field of one output of
    the last layer and, inside it, the field of the middle unit it depends on
    in every earlier layer where the field grew.

    >>> from dlcourse.calc import Conv2d, MaxPool2d
    >>> fig = receptive_field_figure([Conv2d(8, 3), MaxPool2d(2), Conv2d(8, 3)])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['3 (jump 1)', '4 (jump 2)', '8 (jump 2)']
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['1. Conv 3x3', '2. MaxPool 2x2 s2', '3. Conv 3x3']
    """
    rows = receptive_field(layers)
    if labels is None:
        labels = [_short_label(layer, i) for i, layer in enumerate(layers, 1)]
    if len(labels) != len(rows):
        raise ValueError(f"labels has {len(labels)} entries for {len(rows)} layers")
    fields = [row.field[0] for row in rows]
    fig = Figure(figsize=(9, max(3.6, 0.3 * len(rows) + 1.6)))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    places = list(range(len(rows)))
    left.barh(places, fields, color="#9ecae1", edgecolor="#08306b")
    for place, row in zip(places, rows):
        left.text(row.field[0] + 0.02 * max(fields), place,
                  f"{row.field[0]} (jump {row.jump[0]})", va="center", fontsize=8)
    left.set_yticks(places, labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 1.4 * max(fields))
    left.set_xlabel("receptive field (input pixels, one side)")
    left.set_title("after each layer", fontsize=10)

    first_reached = {}  # the field of every size, drawn once, named after the layer that reached it
    for label, (corner, size) in zip(labels, _nested_fields(layers, rows)):
        first_reached.setdefault(size, (label, corner))
    colours = colormaps["viridis"](np.linspace(0, 0.85, len(first_reached)))
    for colour, ((height, width), (label, (top, first))) in zip(colours, reversed(first_reached.items())):
        right.add_patch(Rectangle((first, top), width, height, fill=False, linewidth=1.6, edgecolor=colour,
                                  label=f"{height} x {width}: {label}"))
    height, width = rows[-1].field
    right.set_xlim(-0.5, width + 0.5)
    right.set_ylim(height + 0.5, -0.5)  # rows go down, as in an image
    right.set_aspect("equal")
    if max(height, width) <= 40:
        right.set_xticks(range(0, width + 1), minor=True)
        right.set_yticks(range(0, height + 1), minor=True)
        right.grid(which="minor", color="#d9d9d9", linewidth=0.4)
        right.tick_params(which="minor", length=0)
    right.set_xlabel("input column (pixels)")
    right.set_ylabel("input row (pixels)")
    right.set_title("nested fields of one output", fontsize=10)
    right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def _short_label(layer: Any, position: int) -> str:
    """``"3. Conv 3x3 s2"``: the layer's place in the stack, kind, kernel, stride and dilation."""
    window = layer_window(layer, position)
    kind = type(layer).__name__.replace("2d", "")
    if window is None:
        return f"{position}. {kind}"
    text = f"{position}. {kind} {window.kernel[0]}x{window.kernel[1]}"
    if window.stride != (1, 1):
        text += f" s{window.stride[0]}" if window.stride[0] == window.stride[1] else f" s{window.stride}"
    if window.dilation != (1, 1):
        text += f" d{window.dilation[0]}" if window.dilation[0] == window.dilation[1] else f" d{window.dilation}"
    return text


def _nested_fields(layers: Sequence[Layer], rows: list[FieldRow]) -> list[tuple[Pair, Pair]]:
    """For output 0 of the last layer and, in every earlier layer, the middle one of the units it
    depends on: where its field starts and its size, in input pixels from the last field's start."""
    windows = layer_windows(layers)
    low, high = [0, 0], [0, 0]  # the units of the current layer that output 0 depends on
    placed = []
    for index in range(len(rows) - 1, -1, -1):
        row = rows[index]
        middle = [(low[axis] + high[axis]) // 2 for axis in (0, 1)]
        first = tuple(row.start[axis] + middle[axis] * row.jump[axis] - rows[-1].start[axis] for axis in (0, 1))
        placed.append((first, row.field))
        window = windows[index]
        if window is not None:
            for axis in (0, 1):
                low[axis] = low[axis] * window.stride[axis] - window.padding[axis]
                high[axis] = (high[axis] * window.stride[axis] - window.padding[axis]
                              + window.dilation[axis] * (window.kernel[axis] - 1))
    return placed[::-1]


@inline_figure
def nested_fields_figure() -> Figure:
    """Artificial intelligence contains machine learning, which contains deep learning.

    Each label sits in its own ring: inside its ellipse and outside the next one in.

    >>> fig = nested_fields_figure()
    >>> [t.get_text().split("\\n")[0] for t in fig.axes[0].texts]
    ['Artificial intelligence', 'Machine learning', 'Deep learning']
    """
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    bottom = 1.25
    fields = [  # label, width, height, colour: outermost first
        ("Artificial intelligence\n(trí tuệ nhân tạo)", 5.6, 3.4, "#dbe9f6"),
        ("Machine learning\n(học máy)", 4.0, 2.3, "#9ecae1"),
        ("Deep learning\n(học sâu)", 2.3, 1.2, "#4292c6"),
    ]
    tops = [bottom + height for _, _, height, _ in fields] + [bottom]
    for index, (label, width, height, colour) in enumerate(fields):
        ax.add_patch(Ellipse((3, bottom + height / 2), width, height, facecolor=colour, edgecolor="#08306b"))
        inner_top = tops[index + 1] if index + 1 < len(fields) else bottom
        ax.text(3, (tops[index] + inner_top) / 2, label, ha="center", va="center", fontsize=10)
    ax.set_xlim(0, 6)
    ax.set_ylim(1.1, 4.8)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


@inline_figure
def conv_grid_figure(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     position: tuple[int, int] = (0, 0)) -> Figure:
    """A convolution's input grid (padding shaded), the window for one output, and the output grid.

    ``position`` is the (row, column) of the highlighted output value.

    >>> fig = conv_grid_figure(5, 3, stride=2, padding=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['input 5 x 5, padding 1', 'output 3 x 3']
    """
    from matplotlib.patches import Rectangle

    from dlcourse.calc import conv_output_size

    out = conv_output_size(size, kernel, stride, padding, dilation)
    row, col = position
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"position {position} is outside the {out} x {out} output")
    padded = size + 2 * padding
    fig = Figure(figsize=(8, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [padded, max(out, 1)]})
    for r in range(padded):
        for c in range(padded):
            inside = padding <= r < padding + size and padding <= c < padding + size
            left.add_patch(Rectangle((c, padded - 1 - r), 1, 1, facecolor="#deebf7" if inside else "#f0f0f0",
                                     edgecolor="#6b6b6b", linewidth=0.6))
    for i in range(kernel):
        for j in range(kernel):
            r, c = row * stride + i * dilation, col * stride + j * dilation
            left.add_patch(Rectangle((c, padded - 1 - r), 1, 1, facecolor="#fd8d3c", alpha=0.8, edgecolor="black"))
    for r in range(out):
        for c in range(out):
            chosen = (r, c) == (row, col)
            right.add_patch(Rectangle((c, out - 1 - r), 1, 1, facecolor="#fd8d3c" if chosen else "#c7e9c0",
                                      edgecolor="#6b6b6b", linewidth=0.6))
    left.set_title(f"input {size} x {size}, padding {padding}")
    right.set_title(f"output {out} x {out}")
    for ax, n in ((left, padded), (right, out)):
        ax.set_xlim(0, n)
        ax.set_ylim(0, n)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"kernel {kernel} x {kernel}, stride {stride}, dilation {dilation}: "
                 f"floor(({size} + 2*{padding} - {dilation}*({kernel} - 1) - 1) / {stride}) + 1 = {out}")
    fig.tight_layout()
    return fig


def conv_explorer(size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 1, dilation: int = 1) -> Any:
    """Sliders for input size, kernel, stride, padding and dilation; the grids redraw.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    from dlcourse.lessons.conv_arithmetic import conv_grid_figure

    if is_book_build():
        return conv_grid_figure(size, kernel, stride, padding, dilation)
    import ipywidgets

    sliders = {
        "size": ipywidgets.IntSlider(value=size, min=1, max=12, description="input"),
        "kernel": ipywidgets.IntSlider(value=kernel, min=1, max=7, description="kernel"),
        "stride": ipywidgets.IntSlider(value=stride, min=1, max=4, description="stride"),
        "padding": ipywidgets.IntSlider(value=padding, min=0, max=3, description="padding"),
        "dilation": ipywidgets.IntSlider(value=dilation, min=1, max=3, description="dilation"),
    }
    output = redrawing_output(sliders, conv_grid_figure)
    rows = list(sliders.values())
    return ipywidgets.VBox([ipywidgets.HBox(rows[:3]), ipywidgets.HBox(rows[3:]), output])
