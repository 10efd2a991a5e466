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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlcourse.calc.layers import BatchNorm2d, Dropout, Layer, ReLU, Sigmoid, Tanh
from dlcourse.calc.sizes import as_pair

Pair = tuple[int, int]

PER_PIXEL = (ReLU, Tanh, Sigmoid, BatchNorm2d, Dropout)




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
class Window:
    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair


def layer_window(layer: Any, position: int) -> Window | None:
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
        window = Window(
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


def layer_windows(layers: Sequence[Layer]) -> list[Window | None]:
    """The window of every layer (None for a per-pixel one), after checking the stack."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a list of layer specs, got {layers!r}")
    if len(layers) == 0:
        raise ValueError("layers is empty: give at least one layer")
    return [layer_window(layer, position) for position, layer in enumerate(layers, start=1)]


def _name(layer: Any) -> str:
    name = getattr(layer, "name", None)
    return name if isinstance(name, str) else repr(layer)


def receptive_field(layers: Sequence[Layer]) -> list[FieldRow]:
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
    windows = layer_windows(layers)
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

    windows = [window for window in layer_windows(layers) if window is not None]
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
    gradient = image.grad
    assert gradient is not None  # backward() has just filled it
    seen = gradient[0, 0].nonzero()
    low, high = seen.min(dim=0).values.tolist(), seen.max(dim=0).values.tolist()
    if min(low) == 0 or high[0] == sizes[0] - 1 or high[1] == sizes[1] - 1:  # cannot happen: see the bound
        raise AssertionError(f"the measured field {low}..{high} touches the border of {sizes}")
    return high[0] - low[0] + 1, high[1] - low[1] + 1






