"""``Network``: a list of layer specs applied to one sample."""

from __future__ import annotations

from collections.abc import Sequence

from dlcourse.calc.layers import Layer
from dlcourse.calc.report import Row, Summary


class Network(Summary):
    """Shapes, parameters, MACs and memory of a network written as a list of layers.

    ``input_shape`` is per sample, without a batch dimension: ``(C, H, W)``,
    ``(features,)`` or ``(seq_len, features)``.  Every total is per sample.

    >>> from dlcourse.calc import Conv2d, MaxPool2d, Flatten, Linear
    >>> net = Network((3, 32, 32), [Conv2d(6, 5, activation="relu"), MaxPool2d(2),
    ...                             Flatten(), Linear(10)])
    >>> net.params        # (6*3*5*5 + 6) + (6*14*14*10 + 10)
    12226
    >>> net.macs          # 6*28*28 * 3*5*5 + 6*14*14 * 10
    364560
    >>> net.activation_count()   # 3*32*32 input + 6*28*28 + 6*14*14 + 10 (Flatten is a view)
    8962
    """

    def __init__(self, input_shape: Sequence[int], layers: Sequence[Layer]) -> None:
        shape = _check_input_shape(input_shape)
        rows = []
        for position, layer in enumerate(layers, start=1):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"layer {position} is {layer!r}, not a layer spec such as Conv2d(16, 3)"
                )
            try:
                result = layer.apply(shape)
            except ValueError as error:
                raise ValueError(
                    f"layer {position} ({layer.name}) cannot follow input of shape {shape}: {error}"
                ) from None
            stored = _count(result.output_shape) if result.stores_output else 0
            rows.append(Row(layer.name, result.output_shape, result.params, result.macs, stored,
                            kind=type(layer).__name__))
            shape = result.output_shape
        super().__init__(_check_input_shape(input_shape), rows)
        self.layers = list(layers)


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def _check_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(
            f"input_shape must be a tuple such as (3, 128, 128), got {input_shape!r}"
        ) from None
    if not 1 <= len(shape) <= 3 or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 1 for size in shape
    ):
        raise ValueError(
            "input_shape must be 1 to 3 positive ints per sample, no batch: (C, H, W), "
            f"(features,) or (seq_len, features); got {input_shape!r}"
        )
    return shape
