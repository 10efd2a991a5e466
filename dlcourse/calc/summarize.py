"""``summarize``: rows and totals for any ``torch.nn.Module``, computed on the meta device.

The module is never touched: ``summarize`` runs a copy of it whose parameters,
buffers and tensor attributes are meta tensors of the same shapes (shared ones stay
shared, so tied weights count once), and puts its hooks on that copy.  Shapes flow
through every operator but no memory is allocated, so a 34 GB activation map costs
nothing, and pruned, parametrized, hooked or lazy modules come out exactly as they
went in (a lazy module is initialised in the copy only).

Each operator call is counted with the rules in ``op_rules`` and charged to
the innermost module running it.  A leaf module always gets a row; a container
gets a row only for work done in its own ``forward`` (``nn.MultiheadAttention``
calls its projections without calling ``out_proj``), or for parameters no
called submodule claimed.  The summary's ``output_shape`` is what the forward
returns (a tuple or a dict of shapes when it returns several tensors), and
``Summary.modules`` records every module's class and output shape, which
``group_rows`` uses.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from dlcourse.calc import meta_shortcuts, op_rules
from dlcourse.calc.report import Row, Summary
from dlcourse.validation import checked_int

InputSize = Sequence[int] | Sequence[Sequence[int]]


@dataclass
class ModuleCall:
    """One module call in progress: its name, the module, its input tensors, and the MACs (and operators
    without a MAC rule) charged to it so far."""

    name: str
    module: nn.Module
    inputs: list[torch.Tensor]
    macs: int = 0
    unknown_ops: set[str] = field(default_factory=set)


class MacCounter(TorchDispatchMode):
    """Charges each operator's MACs to the innermost running module."""

    def __init__(self, stack: list[ModuleCall]) -> None:
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
    Shared parameters count once.  Nothing is allocated and the module is not
    changed: a copy of it runs on the meta device.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
    ...                     nn.Linear(8 * 32 * 32, 10))
    >>> s = summarize(net, (2, 3, 32, 32))
    >>> s.output_shape, s.params, s.macs     # 2*8*32*32*27 + 2*8192*10
    ((2, 10), 82154, 606208)
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"summarize needs a torch.nn.Module, got {type(module).__name__}")
    refuse_torchscript(module)
    sizes = check_sizes(input_size)
    inputs = [torch.empty(size, dtype=dtype, device="meta") for size in sizes]
    model = meta_copy(module)
    calls: list[ModuleCall] = []
    rows: list[Row] = []
    claimed: set[int] = set()
    seen: dict[str, tuple[str, Any]] = {}
    names: dict[nn.Module, str] = {}
    for name, sub in model.named_modules(remove_duplicate=False):
        names.setdefault(sub, name)

    def before(sub: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        calls.append(ModuleCall(names.get(sub, ""), sub, list(tensors_in((args, kwargs)))))

    def after(sub: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        call = calls.pop()
        seen.setdefault(call.name, (type(sub).__name__, shape_of(output)))
        params = 0
        for parameter in sub.parameters():
            if id(parameter) not in claimed and not isinstance(parameter, nn.parameter.UninitializedParameter):
                claimed.add(id(parameter))
                params += parameter.numel()
        is_leaf = next(sub.children(), None) is None
        if is_leaf or call.macs or call.unknown_ops or params:
            rows.append(_row(call, output, params, is_leaf))

    for sub in model.modules():
        sub.register_forward_pre_hook(before, with_kwargs=True)
        sub.register_forward_hook(after, with_kwargs=True)
    try:
        with torch.no_grad(), MacCounter(calls), distributions_unchecked():
            output = model(*inputs, **forward_kwargs)
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError, NotImplementedError) as error:
        raise ValueError(explain_failure(error, module, calls, sizes)) from None
    total_params = sum(p.numel() for p in model.parameters())
    notes = [f"totals are for the whole input of size {', '.join(str(s) for s in sizes)}"]
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in module.parameters()):
        notes.append("a lazy module: its parameters were counted in a copy initialised by this input; "
                     "the module itself is still uninitialised")
    summary = Summary(sizes[0], rows, params=total_params, notes=notes, output_shape=shape_of(output))
    summary.modules = seen
    if len(sizes) > 1:
        summary.notes.append(f"{len(sizes)} inputs: {', '.join(str(s) for s in sizes)}")
        summary.input_values = sum(math.prod(size) for size in sizes)
    return summary


def meta_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with every tensor in it replaced by a meta tensor of its shape.

    Parameters stay parameters (a lazy one stays uninitialised, on the meta device),
    buffers stay buffers, and a tensor reachable under two names is one tensor in the
    copy too.  No tensor data is copied.

    >>> from torch import nn
    >>> shared = nn.Linear(4, 4)
    >>> copied = meta_copy(nn.Sequential(shared, nn.ReLU(), shared))
    >>> copied[0] is copied[2], copied[0].weight.device.type, shared.weight.device.type
    (True, 'meta', 'cpu')
    """
    memo: dict[int, Any] = {}
    for sub in module.modules():
        for value in [*vars(sub).values(), *sub._parameters.values(), *sub._buffers.values()]:
            if isinstance(value, torch.Tensor) and id(value) not in memo:
                memo[id(value)] = _meta_twin(value)
    return copy.deepcopy(module, memo)


def _meta_twin(tensor: torch.Tensor) -> torch.Tensor:
    # torch's type stubs leave out the device and dtype these classes' constructors take
    if isinstance(tensor, nn.parameter.UninitializedParameter):
        return nn.parameter.UninitializedParameter(requires_grad=tensor.requires_grad, device="meta",  # type: ignore[call-arg]
                                                   dtype=tensor.dtype)
    if isinstance(tensor, nn.parameter.UninitializedBuffer):
        return nn.parameter.UninitializedBuffer(requires_grad=tensor.requires_grad, device="meta",  # type: ignore[call-arg]
                                                dtype=tensor.dtype)
    twin = torch.empty(tensor.shape, dtype=tensor.dtype, device="meta")
    if isinstance(tensor, nn.Parameter):
        return nn.Parameter(twin, requires_grad=tensor.requires_grad)
    return twin


def shape_of(value: Any) -> Any:
    """The shape of a forward's result: a tuple for a tensor; a tuple or dict of shapes for several.

    A ``torch.distributions`` object has the shape of one sample of it; ``None`` (an
    output left out, as ``need_weights=False`` does) stays ``None``; anything else has
    the shape ``()``.
    """
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return tuple(shape_of(item) for item in value)
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, torch.distributions.Distribution):
        return tuple(value.batch_shape) + tuple(value.event_shape)
    return ()


@contextlib.contextmanager
def distributions_unchecked() -> Iterator[None]:
    """Distributions check their arguments' values by default, which meta tensors do not have."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(previous)


def refuse_torchscript(module: nn.Module) -> None:
    """Raise ValueError, with what to do instead, when ``module`` holds a TorchScript module (meta tensors
    cannot run through one).

    >>> refuse_torchscript(nn.Linear(2, 3))   # a plain module passes
    """
    for name, sub in module.named_modules():
        if isinstance(sub, torch.jit.ScriptModule):
            where = f"its submodule {name!r}" if name else "it"
            raise ValueError(f"{type(module).__name__} cannot be summarized: {where} is a TorchScript module, "
                             "which runs compiled code that summarize cannot follow; summarize the Python module "
                             "it was scripted or traced from")


def explain_failure(error: BaseException, module: nn.Module, calls: list[ModuleCall],
                    sizes: list[tuple[int, ...]]) -> str:
    """A message that says which module failed, why, and what to do."""
    shapes = ", ".join(str(tuple(size)) for size in sizes)
    where = (f"its module {calls[-1].name!r} ({type(calls[-1].module).__name__})" if calls and calls[-1].name
             else "its forward")
    text = str(error)
    if "item() cannot be called on meta tensors" in text or "Cannot copy out of meta tensor" in text \
            and "item" in text or "data-dependent" in text:
        return (f"{type(module).__name__} cannot be summarized on the meta device: {where} reads a value of a tensor "
                "(.item(), a Python if on a tensor, or similar), and summarize knows only shapes. "
                "Summarize the parts of the model before and after that step separately.")
    if "meta" in text and ("device" in text or "copy out" in text.lower()):
        return (f"{type(module).__name__} cannot be summarized on the meta device: {where} moves data to another "
                f"device or mixes devices ({text.splitlines()[0]}). Remove the .to(...)/.cuda() call from the "
                "forward, or summarize the part of the model that does not move data.")
    return f"{type(module).__name__} cannot run on input of size {shapes} (batch dimension first): {text}"


def _row(call: ModuleCall, output: Any, params: int, is_leaf: bool) -> Row:
    kind = type(call.module).__name__
    name = f"{call.name} ({kind})" if call.name else kind
    first = next(tensors_in(output), None)
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
    return Row(name, shape, params, macs, stored, "; ".join(notes), path=call.name, kind=kind)


def _aliases(tensor: torch.Tensor, inputs: Sequence[torch.Tensor]) -> bool:
    """True if ``tensor`` is an input itself (in place) or a view of one."""
    base = tensor._base
    for candidate in inputs:
        if tensor is candidate:
            return True
        if base is not None and (base is candidate or base is candidate._base):
            return True
    return False


def tensors_in(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``: a tensor, or lists, tuples and dicts of them, nested; in order.

    >>> [t.item() for t in tensors_in((torch.tensor(1), [torch.tensor(2)], {"a": torch.tensor(3)}, "x"))]
    [1, 2, 3]
    """
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)


def check_sizes(input_size: InputSize) -> list[tuple[int, ...]]:
    """The input size(s) as a list of shapes; ValueError, saying what was expected, for anything else.

    >>> check_sizes((8, 3, 32, 32))
    [(8, 3, 32, 32)]
    """
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
    """The same summary with rows merged by the first ``depth`` parts of their module paths.

    A ResNet-50 summary has 158 rows; grouped at depth 1 it has one row per stage
    (conv1, bn1, relu, maxpool, layer1 … layer4, avgpool, fc), with parameters, MACs and
    stored values summed.  A group is named by its path and the class of the module it
    stands for, and has that module's output shape (a block whose branches are
    concatenated has the shape of the concatenation, not of its last branch).  Totals are
    unchanged.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 2))
    >>> [(row.name, row.output_shape, row.params) for row in group_rows(summarize(net, (1, 4))).rows]
    [('0 (Sequential)', (1, 8), 40), ('1 (Linear)', (1, 2), 18)]
    """
    checked_int("depth", depth)
    groups: dict[str, list[Row]] = {}
    for row in summary.rows:
        key = ".".join(row.path.split(".")[:depth]) if row.path else row.name
        groups.setdefault(key, []).append(row)
    rows = []
    for key, members in groups.items():
        unknown = any(member.macs is None for member in members)
        kind, shape = summary.modules.get(key, (members[-1].kind, members[-1].output_shape))
        if len(members) == 1 and members[0].path == key:
            name, note = members[0].name, members[0].note
        else:
            name, note = (f"{key} ({kind})" if kind else key), f"{len(members)} rows"
        rows.append(Row(
            name,
            shape,
            sum(member.params for member in members),
            None if unknown else sum(member.macs or 0 for member in members),
            sum(member.activations for member in members),
            note,
            path=key if members[0].path else "",
            kind=kind,
        ))
    grouped = Summary(summary.input_shape, rows, params=summary.params, notes=summary.notes,
                      output_shape=summary._output_shape)
    grouped.input_values = summary.input_values
    grouped.modules = summary.modules
    return grouped
