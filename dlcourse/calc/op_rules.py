"""MAC rules for PyTorch (aten) operators, used by ``summarize``.

Each rule turns an operator's input and output shapes into multiply-accumulates
(bias additions excluded).  Operators that do no multiply-accumulate work
(pointwise maths, views, copies, reductions, pooling, normalisation, softmax)
count 0.  Any other operator is *unknown*: ``summarize`` reports it by name
instead of counting it as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

MacRule = Callable[[Sequence[Any], Any], int]


def _mm(args: Sequence[Any], out: Any) -> int:
    left, right = args[0], args[1]  # (n, k) @ (k, m)
    return left.shape[0] * left.shape[1] * right.shape[1]


def _addmm(args: Sequence[Any], out: Any) -> int:
    return _mm(args[1:], out)  # bias + (n, k) @ (k, m)


def _bmm(args: Sequence[Any], out: Any) -> int:
    left, right = args[0], args[1]  # (b, n, k) @ (b, k, m)
    return left.shape[0] * left.shape[1] * left.shape[2] * right.shape[2]


def _baddbmm(args: Sequence[Any], out: Any) -> int:
    return _bmm(args[1:], out)


def _mv(args: Sequence[Any], out: Any) -> int:
    return args[0].shape[0] * args[0].shape[1]


def _addmv(args: Sequence[Any], out: Any) -> int:
    return _mv(args[1:], out)


def _dot(args: Sequence[Any], out: Any) -> int:
    return args[0].shape[0]


def _convolution(args: Sequence[Any], out: Any) -> int:
    # convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    inputs, weight, transposed = args[0], args[1], args[6]
    # weight is (out, in/groups, *k), or (in, out/groups, *k) when transposed
    per_value = weight.shape[1] * math.prod(weight.shape[2:])
    # a transposed convolution scatters every input value through the kernel
    return (inputs.numel() if transposed else out.numel()) * per_value


def _attention(args: Sequence[Any], out: Any) -> int:
    query, key, value = args[0], args[1], args[2]  # (..., L, E), (..., S, E), (..., S, Ev)
    batch = math.prod(query.shape[:-2])
    return batch * query.shape[-2] * key.shape[-2] * (query.shape[-1] + value.shape[-1])


RULES: dict[str, MacRule] = {
    "mm": _mm,
    "addmm": _addmm,
    "bmm": _bmm,
    "baddbmm": _baddbmm,
    "mv": _mv,
    "addmv": _addmv,
    "dot": _dot,
    "convolution": _convolution,
    "_convolution": _convolution,
    "_scaled_dot_product_flash_attention": _attention,
    "_scaled_dot_product_flash_attention_for_cpu": _attention,
    "_scaled_dot_product_efficient_attention": _attention,
    "_scaled_dot_product_cudnn_attention": _attention,
    "_scaled_dot_product_attention_math": _attention,
}

# Operators with no multiply-accumulate work that are neither tagged pointwise nor views.
NO_MAC_OPS = frozenset(
    """
    empty empty_like empty_strided zeros zeros_like ones ones_like full full_like fill fill_
    zero zero_ new_empty new_zeros new_ones new_full arange scalar_tensor lift_fresh
    _unsafe_view view reshape expand permute transpose t squeeze unsqueeze flatten
    copy copy_ clone _to_copy detach contiguous alias cat stack split split_with_sizes
    unsafe_split unsafe_split_with_sizes unbind chunk index index_select gather scatter
    scatter_add index_put index_put_ index_add masked_fill masked_fill_ _unsafe_index
    sum mean amax amin max min argmax argmin var var_mean std std_mean norm
    linalg_vector_norm cumsum prod sort topk roll flip repeat tril triu _softmax
    _log_softmax _safe_softmax softmax log_softmax max_pool1d max_pool2d max_pool3d
    max_pool2d_with_indices max_pool3d_with_indices avg_pool1d avg_pool2d avg_pool3d
    adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d _adaptive_avg_pool2d
    _adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d
    native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training
    _native_batch_norm_legit_functional native_layer_norm native_group_norm
    any all embedding upsample_nearest1d upsample_nearest2d upsample_nearest3d
    upsample_bilinear2d upsample_linear1d upsample_bicubic2d constant_pad_nd
    reflection_pad1d reflection_pad2d replication_pad1d replication_pad2d
    bernoulli bernoulli_ native_dropout rand rand_like randn randn_like pixel_shuffle
    pixel_unshuffle channel_shuffle one_hot _local_scalar_dense _prelu_kernel max_unpool2d max_unpool3d
    """.split()
)


def op_name(func: Any) -> str:
    """The operator's name without overload, e.g. ``addmm``."""
    return func.overloadpacket.__name__


def op_macs(func: Any, args: Sequence[Any], out: Any) -> int | None:
    """MACs of one operator call, 0 for work-free operators, ``None`` if unknown.

    >>> import torch
    >>> a, b = torch.empty(4, 5, device="meta"), torch.empty(5, 6, device="meta")
    >>> op_macs(torch.ops.aten.mm.default, (a, b), torch.mm(a, b))
    120
    >>> op_macs(torch.ops.aten.relu.default, (a,), a)
    0
    """
    name = op_name(func)
    rule = RULES.get(name)
    if rule is not None:
        return rule(args, out)
    if name in NO_MAC_OPS or getattr(func, "is_view", False) or torch.Tag.pointwise in func.tags:
        return 0
    if name.endswith("_") and name[:-1] in NO_MAC_OPS:
        return 0
    return None
