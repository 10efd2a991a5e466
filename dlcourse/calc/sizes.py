"""Output-size arithmetic for convolution and pooling windows.

One formula serves convolution and pooling along one spatial axis::

    out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

With ``ceil_mode=True`` the floor becomes a ceiling, and PyTorch then drops
the last window if it would start inside the right-hand padding, i.e. when
``(out - 1) * stride >= size + padding``.  We follow that rule exactly.

A window larger than the padded input is an error here, even where PyTorch's
``ceil_mode=True`` pooling would accept it and let the window hang off the edge.

PyTorch refuses pooling padding larger than half the kernel; exam questions
sometimes ask for it anyway (``AvgPool2d(2, stride=2, padding=2)``).  These
functions answer with the formula and do not enforce PyTorch's limit.
"""

from __future__ import annotations

IntOrPair = int | tuple[int, int]


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Length of a convolution or pooling output along one axis.

    Same result as ``torch.nn.Conv2d`` (``ceil_mode=False``) and
    ``torch.nn.MaxPool2d`` for every input PyTorch accepts.

    >>> conv_output_size(128, 7, padding=1)          # 128 + 2 - 7 + 1
    124
    >>> conv_output_size(124, 3, stride=2)           # floor(121 / 2) + 1
    61
    >>> conv_output_size(124, 3, stride=2, ceil_mode=True)
    62
    >>> conv_output_size(57, 2, stride=2, padding=2) # PyTorch refuses this pooling padding
    30
    >>> conv_output_size(5, 7)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: effective kernel 7 is larger than the padded input 5 (size 5 + 2*padding 0);
        shrink the kernel or add padding
    """
    _check_at_least("size", size, 1)
    _check_at_least("kernel_size", kernel_size, 1)
    _check_at_least("stride", stride, 1)
    _check_at_least("padding", padding, 0)
    _check_at_least("dilation", dilation, 1)
    effective_kernel = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if effective_kernel > padded:
        raise ValueError(
            f"effective kernel {effective_kernel} is larger than the padded input "
            f"{padded} (size {size} + 2*padding {padding}); shrink the kernel or add padding"
        )
    span = padded - effective_kernel
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def as_pair(value: IntOrPair, name: str) -> tuple[int, int]:
    """Turn ``3`` or ``(3, 5)`` into an ``(h, w)`` pair of ints.

    >>> as_pair(3, "kernel_size")
    (3, 3)
    >>> as_pair((3, 5), "kernel_size")
    (3, 5)
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return (value[0], value[1])
    raise ValueError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")


def _check_at_least(name: str, value: int, lowest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < lowest:
        raise ValueError(f"{name} must be at least {lowest}, got {value}")
