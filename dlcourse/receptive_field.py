"""Receptive fields of stacked convolution and pooling layers.

The *receptive field* ``r_l`` of layer ``l`` is how many input pixels, along
one axis, one output value of that layer depends on.  The *jump* ``j_l`` is
the distance, in input pixels, between two neighbouring outputs of layer
``l``.  The input itself has ``r_0 = 1`` (a pixel sees itself) and
``j_0 = 1``.  A layer with kernel ``k``, stride ``s`` and dilation ``d``
looks at ``k`` positions of the layer below, ``d`` positions apart, that is
``d * j_{l-1}`` input pixels apart, so::

    r_l = r_{l-1} + d_l (k_l - 1) j_{l-1}          j_l = j_{l-1} s_l

and, unrolled, ``r_L = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i``.  Padding does
not change the size of a field, only where it sits: ``start`` is the input
index of the first pixel that output 0 sees, negative when the field hangs
over the border into the padding.  Output ``i`` of layer ``l`` sees input
pixels ``start_l + i j_l`` to ``start_l + i j_l + r_l - 1``.

Per-pixel layers (activations, batch norm, dropout) keep the field and the
jump.  Layers that mix every position (``Flatten``, ``Linear``,
``GlobalAvgPool2d``) see the whole input, so they have no receptive field of
their own: :func:`receptive_field` refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .calc.layers import BatchNorm2d, Dropout, Layer, ReLU, Sigmoid, Tanh
from .calc.sizes import as_pair
from .plots import _show_figures_in_notebooks

Pair = Tuple[int, int]

PER_PIXEL = (ReLU, Tanh, Sigmoid, BatchNorm2d, Dropout)


_show_figures_in_notebooks()  # a returned Figure displays itself in Jupyter


@dataclass(frozen=True)
class FieldRow:
    """Receptive field of one layer's outputs, as ``(height, width)`` pairs.

    ``field``: input pixels one output sees; ``jump``: input pixels between
    neighbouring outputs; ``start``: input index of the first pixel output 0
    sees (negative inside the padding).
    """

    name: str
    field: Pair
    jump: Pair
    start: Pair


@dataclass(frozen=True)
class _Window:
    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair


def _window(layer: Any, position: int) -> Optional[_Window]:
    """The window of a layer, or None for a per-pixel layer; ValueError otherwise."""
    if isinstance(layer, PER_PIXEL):
        return None
    if not hasattr(layer, "kernel_size") or not hasattr(layer, "stride"):
        kind = type(layer).__name__
        raise ValueError(
            f"layer {position} ({kind}) has no sliding window: a receptive field "
            "is defined for Conv2d, MaxPool2d, AvgPool2d and per-pixel layers; "
            "Flatten, Linear and global pooling see the whole input"
        )
    try:
        window = _Window(
            as_pair(layer.kernel_size, "kernel_size"),
            as_pair(layer.stride, "stride"),
            as_pair(getattr(layer, "padding", 0), "padding"),
            as_pair(getattr(layer, "dilation", 1), "dilation"),
        )
    except ValueError as error:
        raise ValueError(f"layer {position}: {error}") from None
    for name, lowest in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        if min(getattr(window, name)) < lowest:
            raise ValueError(
                f"layer {position}: {name} must be at least {lowest}, "
                f"got {getattr(window, name)}"
            )
    return window


def _windows(layers: Sequence[Layer]) -> List[Optional[_Window]]:
    """The window of every layer (None for a per-pixel one), after checking the stack."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a list of layer specs, got {layers!r}")
    if len(layers) == 0:
        raise ValueError("layers is empty: give at least one layer")
    return [_window(layer, position) for position, layer in enumerate(layers, start=1)]


def _name(layer: Any) -> str:
    name = getattr(layer, "name", None)
    return name if isinstance(name, str) else repr(layer)


def receptive_field(layers: Sequence[Layer]) -> List[FieldRow]:
    """Receptive field and jump after every layer of a stack, first layer first.

    ``layers`` are ``dlcourse.calc`` specs (``Conv2d``, ``MaxPool2d``,
    ``AvgPool2d`` and per-pixel layers such as ``ReLU``); any object with
    ``kernel_size`` and ``stride`` attributes (and optionally ``padding`` and
    ``dilation``), such as ``torch.nn.Conv2d``, works too.  Three 3x3
    convolutions, the first two with stride 2, see ``1 + 2 + 2*2 + 2*4``
    input pixels:

    >>> from dlcourse.calc import Conv2d, MaxPool2d, ReLU
    >>> rows = receptive_field([Conv2d(8, 3, stride=2), Conv2d(8, 3, stride=2),
    ...                         Conv2d(8, 3)])
    >>> [(row.field[0], row.jump[0]) for row in rows]
    [(3, 2), (7, 4), (15, 4)]

    The first layers of ResNet-50, a 7x7 convolution with stride 2 and a 3x3
    max pooling with stride 2, then a 3x3 convolution:

    >>> rows = receptive_field([Conv2d(64, 7, stride=2, padding=3), ReLU(),
    ...                         MaxPool2d(3, stride=2, padding=1),
    ...                         Conv2d(64, 3, padding=1)])
    >>> [(row.field[0], row.jump[0]) for row in rows]
    [(7, 2), (7, 2), (11, 4), (19, 4)]
    >>> rows[-1].start                  # output 0 sees input rows -9 to 9
    (-9, -9)
    >>> receptive_field([Conv2d(8, 3, dilation=2)])[0].field   # 2*(3-1)+1
    (5, 5)
    >>> from dlcourse.calc import Linear
    >>> receptive_field([Conv2d(8, 3), Linear(10)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: layer 2 (Linear) has no sliding window: ...
    """
    windows = _windows(layers)
    field, jump, start = [1, 1], [1, 1], [0, 0]
    rows = []
    for layer, window in zip(layers, windows):
        if window is not None:
            for axis in (0, 1):
                start[axis] -= window.padding[axis] * jump[axis]
                field[axis] += window.dilation[axis] * (window.kernel[axis] - 1) * jump[axis]
                jump[axis] *= window.stride[axis]
        rows.append(FieldRow(_name(layer), (field[0], field[1]), (jump[0], jump[1]), (start[0], start[1])))
    return rows


def measure_receptive_field(layers: Sequence[Layer], max_size: int = 4096) -> Pair:
    """Measure the receptive field with PyTorch: where the gradient of one output is non-zero.

    Every window layer becomes a one-channel convolution of the same kernel,
    stride, padding and dilation with all weights 1 (a max pooling sends its
    gradient to one input only, so it is measured as a sum over its window,
    which has the same field); per-pixel layers are left out.  All weights
    are positive, so no contribution cancels, and the field's first and last
    pixels always get a gradient: the input pixels with a non-zero gradient
    of the middle output span exactly its field.

    A field with holes (dilation, or a stride larger than the next kernel)
    that hung over the border could look smaller than it is, so the input is
    made four times a crude bound on field, overhang into the padding and
    jump: ``1 + sum_l (d_l (k_l - 1) + p_l) prod_{i<l} s_i + prod_l s_l``.

    >>> from dlcourse.calc import Conv2d, MaxPool2d
    >>> measure_receptive_field([Conv2d(64, 7, stride=2, padding=3),
    ...                          MaxPool2d(3, stride=2, padding=1),
    ...                          Conv2d(64, 3, padding=1)])
    (19, 19)
    """
    import torch

    windows = [window for window in _windows(layers) if window is not None]
    sizes = []
    for axis in (0, 1):
        bound, jump = 1, 1
        for w in windows:
            bound += (w.dilation[axis] * (w.kernel[axis] - 1) + w.padding[axis]) * jump
            jump *= w.stride[axis]
        sizes.append(max(16, 4 * (bound + jump)))
    if max(sizes) > max_size:
        raise ValueError(f"measuring this field needs an input of {max(sizes)} pixels, more than "
                         f"max_size={max_size}")
    image = torch.zeros(1, 1, *sizes, dtype=torch.float64, requires_grad=True)
    out = image
    for w in windows:
        ones = torch.ones(1, 1, *w.kernel, dtype=torch.float64)
        out = torch.nn.functional.conv2d(out, ones, stride=w.stride, padding=w.padding, dilation=w.dilation)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    seen = image.grad[0, 0].nonzero()
    low, high = seen.min(dim=0).values.tolist(), seen.max(dim=0).values.tolist()
    if min(low) == 0 or high[0] == sizes[0] - 1 or high[1] == sizes[1] - 1:  # cannot happen: see the bound
        raise AssertionError(f"the measured field {low}..{high} touches the border of {sizes}")
    return high[0] - low[0] + 1, high[1] - low[1] + 1


def _short_label(layer: Any, position: int) -> str:
    """``"3. Conv 3x3 s2"``: the layer's place in the stack, kind, kernel, stride and dilation."""
    window = _window(layer, position)
    kind = type(layer).__name__.replace("2d", "")
    if window is None:
        return f"{position}. {kind}"
    text = f"{position}. {kind} {window.kernel[0]}x{window.kernel[1]}"
    if window.stride != (1, 1):
        text += f" s{window.stride[0]}" if window.stride[0] == window.stride[1] else f" s{window.stride}"
    if window.dilation != (1, 1):
        text += f" d{window.dilation[0]}" if window.dilation[0] == window.dilation[1] else f" d{window.dilation}"
    return text


def _nested_fields(layers: Sequence[Layer], rows: List[FieldRow]) -> List[Tuple[Pair, Pair]]:
    """For output 0 of the last layer and, in every earlier layer, the middle one of the units it
    depends on: where its field starts and its size, in input pixels from the last field's start."""
    windows = _windows(layers)
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


def receptive_field_figure(layers: Sequence[Layer],
                           labels: Optional[Sequence[str]] = None) -> Figure:
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
