"""Shape-only answers for common operators, used by ``summarize`` on the meta device.

Many of PyTorch's meta kernels are Python functions wrapped so that
torch.compile skips them; the wrapper imports ``torch._dynamo`` on first use,
which costs about 0.8 s once per process (a ResNet-50 summary takes 0.01 s
once warm).  For the operators that common networks use, the output's shape
and dtype are easy to state, so ``summarize`` answers them here and calls the
real kernel for everything else, including every case a shortcut is unsure
of (it returns ``NotImplemented``).  A test checks every shortcut against the
real meta kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from dlcourse.calc.sizes import conv_output_size

aten = torch.ops.aten
Shortcut = Callable[..., Any]


def _new(shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=like.dtype, device="meta")


def _like(x: torch.Tensor) -> torch.Tensor:
    # torch.empty_like on meta runs a Python reference that imports sympy (0.3 s);
    # a contiguous tensor of the same shape and dtype is all summarize needs
    return _new(x.shape, x)


def _mm(a: torch.Tensor, b: torch.Tensor) -> Any:
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0] or a.dtype != b.dtype:
        return NotImplemented  # let PyTorch's kernel word the error
    return _new((a.shape[0], b.shape[1]), a)


def _addmm(bias: torch.Tensor, a: torch.Tensor, b: torch.Tensor, **_: Any) -> Any:
    out = _mm(a, b)
    if out is NotImplemented or bias.dim() > 2 or any(
        size not in (1, full) for size, full in zip(reversed(bias.shape), reversed(out.shape))
    ):
        return NotImplemented
    return out


def _bmm(a: torch.Tensor, b: torch.Tensor) -> Any:
    if a.dim() != 3 or b.dim() != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1] or a.dtype != b.dtype:
        return NotImplemented
    return _new((a.shape[0], a.shape[1], b.shape[2]), a)


def _batch_norm(x: torch.Tensor, *_: Any) -> Any:
    stats = _new((x.shape[1],), x)
    return _like(x), stats, _like(stats)


def _layer_norm(x: torch.Tensor, normalized_shape: Sequence[int], *_: Any) -> Any:
    kept = x.dim() - len(normalized_shape)
    stats = _new(tuple(x.shape[:kept]) + (1,) * len(normalized_shape), x)
    return _like(x), stats, _like(stats)


def _mean(x: torch.Tensor, dim: Sequence[int] | None, keepdim: bool = False, dtype: Any = None) -> Any:
    if dtype is not None or not x.dtype.is_floating_point:
        return NotImplemented
    dims = {d % x.dim() for d in (dim if dim else range(x.dim()))}
    shape = [1 if i in dims else size for i, size in enumerate(x.shape) if keepdim or i not in dims]
    return _new(shape, x)


def _stack(tensors: Sequence[torch.Tensor], dim: int = 0) -> Any:
    first = tensors[0]
    if any(t.shape != first.shape or t.dtype != first.dtype for t in tensors):
        return NotImplemented
    shape = list(first.shape)
    shape.insert(dim % (first.dim() + 1), len(tensors))
    return _new(shape, first)


def _convolution(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Any:
    spatial = weight.dim() - 2
    if x.dim() != weight.dim() or not (len(stride) == len(padding) == len(dilation) == spatial):
        return NotImplemented
    kernel = weight.shape[2:]
    if transposed:
        if x.shape[1] != weight.shape[0]:
            return NotImplemented  # let PyTorch's kernel word the channel error
        channels = weight.shape[1] * groups
        sizes = [
            (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            for n, k, s, p, d, op in zip(x.shape[2:], kernel, stride, padding, dilation, output_padding)
        ]
    else:
        if x.shape[1] != weight.shape[1] * groups:
            return NotImplemented
        channels = weight.shape[0]
        sizes = [
            conv_output_size(n, k, s, p, d)
            for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)
        ]
    return _new((x.shape[0], channels, *sizes), x)


def _pool_size(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
) -> Any:
    pairs = [list(v) * 2 if len(v) == 1 else list(v) for v in (kernel, stride or kernel, padding, dilation)]
    if x.dim() not in (3, 4) or any(len(v) != 2 for v in pairs):
        return NotImplemented
    kernel, stride, padding, dilation = pairs
    sizes = []
    for n, k, s, p, d in zip(x.shape[-2:], kernel, stride, padding, dilation):
        if p > k // 2 or d * (k - 1) + 1 > n + 2 * p:
            return NotImplemented  # PyTorch's own checks and messages apply
        sizes.append(conv_output_size(n, k, s, p, d, ceil_mode))
    return _new((*x.shape[:-2], *sizes), x)


def _max_pool2d(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int] = (),
    padding: Sequence[int] = (0,),
    dilation: Sequence[int] = (1,),
    ceil_mode: bool = False,
) -> Any:
    out = _pool_size(x, kernel, stride, padding, dilation, ceil_mode)
    if out is NotImplemented:
        return out
    return out, torch.empty(out.shape, dtype=torch.int64, device="meta")


def _avg_pool2d(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int] = (),
    padding: Sequence[int] = (0,),
    ceil_mode: bool = False,
    *_: Any,
) -> Any:
    return _pool_size(x, kernel, stride, padding, (1,), ceil_mode)


def _empty_like(x: torch.Tensor, **kwargs: Any) -> Any:
    device = kwargs.get("device")
    if device is not None and torch.device(device).type != "meta":
        return NotImplemented
    return torch.empty(x.shape, dtype=kwargs.get("dtype") or x.dtype, device="meta")


def _same_as_input(x: torch.Tensor, *_: Any, **__: Any) -> torch.Tensor:
    return _like(x)


SHORTCUTS: dict[Any, Shortcut] = {
    aten.convolution.default: _convolution,
    aten.empty_like.default: _empty_like,
    aten.max_pool2d_with_indices.default: _max_pool2d,
    aten.avg_pool2d.default: _avg_pool2d,
    aten.mm.default: _mm,
    aten.addmm.default: _addmm,
    aten.bmm.default: _bmm,
    aten.native_batch_norm.default: _batch_norm,
    aten.native_layer_norm.default: _layer_norm,
    aten.mean.dim: _mean,
    aten.stack.default: _stack,
    aten._softmax.default: _same_as_input,
    aten._safe_softmax.default: _same_as_input,
    aten._log_softmax.default: _same_as_input,
    aten.hardswish.default: _same_as_input,
    aten.hardsigmoid.default: _same_as_input,
}

# Pointwise operators whose result is not simply "the inputs' floating dtype".
_OTHER_DTYPE = frozenset(
    "eq ne lt le gt ge logical_and logical_or logical_not logical_xor isnan isinf isfinite "
    "isneginf isposinf signbit bitwise_and bitwise_or bitwise_not bitwise_xor where "
    "masked_fill _to_copy copy clone".split()
)


def shortcut(func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """The operator's output by shape alone, or ``NotImplemented`` to run the real kernel."""
    rule = SHORTCUTS.get(func)
    if rule is not None:
        return rule(*args, **kwargs)
    if torch.Tag.pointwise in func.tags and not kwargs:
        return _pointwise(func, args)
    return NotImplemented


def _broadcast(shapes: Sequence[Sequence[int]]) -> tuple | None:
    """NumPy broadcasting (torch.broadcast_shapes imports sympy); ``None`` if incompatible."""
    rank = max(len(shape) for shape in shapes)
    result = [1] * rank
    for shape in shapes:
        for axis, size in enumerate(shape, start=rank - len(shape)):
            if size != 1:
                if result[axis] not in (1, size):
                    return None
                result[axis] = size
    return tuple(result)


def _pointwise(func: Any, args: Sequence[Any]) -> Any:
    name = func.overloadpacket.__name__
    if name.rstrip("_") in _OTHER_DTYPE:
        return NotImplemented
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors or any(isinstance(a, bool) or not isinstance(a, (torch.Tensor, int, float)) for a in args):
        return NotImplemented
    dtype = tensors[0].dtype
    if not dtype.is_floating_point or any(t.dtype != dtype for t in tensors):
        return NotImplemented
    shape = _broadcast([tuple(t.shape) for t in tensors])
    if shape is None:
        return NotImplemented
    if func._schema.is_mutable:  # in place: the result is the first argument itself
        return args[0] if name.endswith("_") and tuple(shape) == tuple(args[0].shape) else NotImplemented
    return _new(shape, tensors[0])
