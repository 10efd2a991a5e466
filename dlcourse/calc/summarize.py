"""``summarize``: rows and totals for any ``torch.nn.Module``, computed on the meta device.

The module runs once with meta tensors in place of its parameters, buffers and
input: shapes flow through every operator but no memory is allocated, so a
34 GB activation map costs nothing.  ``torch.func.functional_call`` swaps the
tensors in for the call and puts the originals back; hooks are removed
afterwards, so the module is left exactly as it was.

Each operator call is counted with the rules in ``op_rules`` and charged to
the innermost module running it.  A leaf module always gets a row; a container
gets a row only for work done in its own ``forward`` (``nn.MultiheadAttention``
calls its projections without calling ``out_proj``), or for parameters no
called submodule claimed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Sequence, Set, Tuple, Union

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from . import meta_shortcuts, op_rules
from .report import Row, Summary

InputSize = Union[Sequence[int], Sequence[Sequence[int]]]


@dataclass
class _Call:
    """One module call in progress."""

    name: str
    module: nn.Module
    inputs: List[torch.Tensor]
    macs: int = 0
    unknown_ops: Set[str] = field(default_factory=set)


class _Counter(TorchDispatchMode):
    """Charges each operator's MACs to the innermost running module."""

    def __init__(self, stack: List[_Call]) -> None:
        super().__init__()
        self.stack = stack

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # By default torch wraps __torch_dispatch__ so that torch.compile skips it,
        # which imports torch._dynamo (about 0.8 s) on the first operator.  Nothing
        # is compiled under this mode, so the wrapper buys nothing here.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        out = meta_shortcuts.shortcut(func, args, kwargs or {})
        if out is NotImplemented:
            out = func(*args, **(kwargs or {}))
        if self.stack:
            macs = op_rules.op_macs(func, args, out)
            if macs is None:
                self.stack[-1].unknown_ops.add(op_rules.op_name(func))
            else:
                self.stack[-1].macs += macs
        return out


def summarize(
    module: nn.Module,
    input_size: InputSize,
    dtype: torch.dtype = torch.float32,
    **forward_kwargs: Any,
) -> Summary:
    """Shapes, parameters, MACs and memory of ``module`` for an input of ``input_size``.

    ``input_size`` includes the batch dimension, as in torchinfo, and the
    totals are for that batch; pass a list of sizes for a module that takes
    several inputs.  Extra keyword arguments go to ``module.forward``.
    Shared parameters count once.  Nothing is allocated: the call runs on the
    meta device.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
    ...                     nn.Linear(8 * 32 * 32, 10))
    >>> s = summarize(net, (2, 3, 32, 32))
    >>> s.output_shape, s.params, s.macs     # 2*8*32*32*27 + 2*8192*10
    ((2, 10), 82154, 606208)
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"summarize needs a torch.nn.Module, got {type(module).__name__}")
    sizes = _check_sizes(input_size)
    inputs = [torch.empty(size, dtype=dtype, device="meta") for size in sizes]
    calls: List[_Call] = []
    rows: List[Row] = []
    claimed: Set[int] = set()
    subtree = {sub: [(id(p), p.numel()) for p in sub.parameters()] for sub in module.modules()}
    names = {sub: name for name, sub in module.named_modules(remove_duplicate=False)}
    handles = []

    def before(sub: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        calls.append(_Call(names.get(sub, ""), sub, list(_tensors((args, kwargs)))))

    def after(sub: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any], output: Any) -> None:
        call = calls.pop()
        params = 0
        for key, count in subtree[sub]:
            if key not in claimed:
                claimed.add(key)
                params += count
        is_leaf = next(sub.children(), None) is None
        if is_leaf or call.macs or call.unknown_ops or params:
            rows.append(_row(call, output, params, is_leaf))

    for sub in module.modules():
        handles.append(sub.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(sub.register_forward_hook(after, with_kwargs=True))
    meta_tensors = {
        # torch.empty, not empty_like: on a module already on the meta device,
        # empty_like runs a Python reference that imports sympy
        name: torch.empty(tensor.shape, dtype=tensor.dtype, device="meta")
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers())
    }
    try:
        with torch.no_grad(), _Counter(calls):
            torch.func.functional_call(module, meta_tensors, tuple(inputs), forward_kwargs)
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError) as error:
        shapes = ", ".join(str(tuple(size)) for size in sizes)
        raise ValueError(
            f"{type(module).__name__} cannot run on input of size {shapes} "
            f"(batch dimension first): {error}"
        ) from None
    finally:
        for handle in handles:
            handle.remove()
    total_params = sum(p.numel() for p in module.parameters())
    notes = [f"totals are for the whole input of size {', '.join(str(s) for s in sizes)}"]
    summary = Summary(sizes[0], rows, params=total_params, notes=notes)
    if len(sizes) > 1:
        summary.notes.append(f"{len(sizes)} inputs: {', '.join(str(s) for s in sizes)}")
        summary.input_values = sum(math.prod(size) for size in sizes)
    return summary


def _row(call: _Call, output: Any, params: int, is_leaf: bool) -> Row:
    kind = type(call.module).__name__
    name = f"{call.name} ({kind})" if call.name else kind
    first = next(_tensors(output), None)
    shape = tuple(first.shape) if first is not None else ()
    stored = 0
    if is_leaf and first is not None and not _aliases(first, call.inputs):
        stored = first.numel()
    notes = []
    if call.unknown_ops:
        notes.append("MACs unknown: no rule for " + ", ".join(sorted(call.unknown_ops)))
    if not is_leaf:
        notes.append("own forward")
    macs = None if call.unknown_ops else call.macs
    return Row(name, shape, params, macs, stored, "; ".join(notes))


def _aliases(tensor: torch.Tensor, inputs: Sequence[torch.Tensor]) -> bool:
    """True if ``tensor`` is an input itself (in place) or a view of one."""
    base = tensor._base
    for candidate in inputs:
        if tensor is candidate:
            return True
        if base is not None and (base is candidate or base is candidate._base):
            return True
    return False


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _check_sizes(input_size: InputSize) -> List[Tuple[int, ...]]:
    def valid(size: Any) -> bool:
        return (
            isinstance(size, (tuple, list, torch.Size))
            and len(size) >= 1
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size)
        )

    if valid(input_size):
        return [tuple(input_size)]  # type: ignore[arg-type]
    if isinstance(input_size, (tuple, list)) and input_size and all(valid(s) for s in input_size):
        return [tuple(size) for size in input_size]  # type: ignore[union-attr]
    raise ValueError(
        "input_size must be a shape with the batch first, such as (1, 3, 224, 224), "
        f"or a list of such shapes; got {input_size!r}"
    )


def group_rows(summary: Summary, depth: int = 1) -> Summary:
    """The same summary with rows merged by the first ``depth`` parts of their module names.

    A ResNet-50 summary has 158 rows; grouped at depth 1 it has one row per stage
    (conv1, bn1, relu, maxpool, layer1 … layer4, avgpool, fc), with parameters, MACs and
    stored values summed and the output shape of the group's last row.  Totals are unchanged.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 2))
    >>> [(row.name, row.params) for row in group_rows(summarize(net, (1, 4))).rows]
    [('0', 40), ('1', 18)]
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    groups: Dict[str, List[Row]] = {}
    for row in summary.rows:
        path = row.name.split(" (")[0]
        key = ".".join(path.split(".")[:depth]) if path else row.name
        groups.setdefault(key, []).append(row)
    rows = []
    for key, members in groups.items():
        unknown = any(member.macs is None for member in members)
        rows.append(Row(
            key,
            members[-1].output_shape,
            sum(member.params for member in members),
            None if unknown else sum(member.macs or 0 for member in members),
            sum(member.activations for member in members),
            f"{len(members)} rows" if len(members) > 1 else members[0].note,
        ))
    grouped = Summary(summary.input_shape, rows, params=summary.params, notes=summary.notes)
    grouped.input_values = summary.input_values
    return grouped
