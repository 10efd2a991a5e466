"""``training_memory``: the bytes one training step keeps, found on the meta device; ``max_batch_size``.

One training step holds four things:

* **params**: the parameters, each once (tied or shared weights count once, as in
  ``summarize``);
* **gradients**: one gradient per trainable parameter (``requires_grad``); frozen
  parameters have none;
* **optimizer_state**: nothing for plain SGD, one buffer per trainable parameter for
  SGD with momentum, two for Adam (``exp_avg`` and ``exp_avg_sq``; the scalar ``step``
  is ignored);
* **activations**: the tensors autograd saves for the backward pass.  They are found by
  running the module forward on a meta copy (``summarize.meta_copy``) in training mode
  under ``torch.autograd.graph.saved_tensors_hooks``: nothing is allocated, and the
  module passed in is not changed.  Each storage counts once with its whole size (views
  of one tensor count once, as the memory they keep alive does), and storages of
  parameters are not counted again.  The input counts when a layer saves it; buffers that
  a layer saves (BatchNorm's running statistics) count too.

``bytes_per_value`` is the size of one floating-point value, for every float tensor of
all four parts (4 for float32, 2 for float16/bfloat16 whatever the module's own dtype);
integer and bool tensors (max-pooling indices, token ids) keep their own element size.
``bytes_per_value=None`` counts every tensor at its own element size.

Convention: the saved tensors are those of PyTorch's portable implementations, which
are what the CPU runs except for two fused kernels: a recurrent layer (RNN, LSTM, GRU)
is unrolled into its cells (the CPU without oneDNN; oneDNN on the CPU and cuDNN on a GPU
keep a workspace of their own instead), and ``scaled_dot_product_attention`` runs its
math path (the CPU's choice whenever dropout is on in training; with dropout 0 the CPU's
flash kernel keeps only the output and log-sum-exp).  Peak memory inside the backward
pass (temporaries, allocator rounding) is not counted.

**Activation checkpointing** (``checkpoint=(Block,)``): every call of a module of these
types is counted as ``torch.utils.checkpoint.checkpoint(module, *args, use_reentrant=False)``
runs it.  Such a call saves none of its tensors for the backward pass; it keeps its inputs
instead (when it saved anything at all: otherwise PyTorch lets them go), and the backward
pass runs it again to get its saved tensors back.  So ``activations`` counts the tensors
saved outside checkpointed calls, the checkpointed calls' inputs (each storage once), and,
as the peak, the largest set of tensors one checkpointed call saves anew when it is
recomputed (its inputs and parameters already exist): ``recomputed_activations``.
``recompute_macs`` are the MACs the backward pass does again: PyTorch stops each
recomputation as soon as the last tensor it needs is saved again, so the products after
it (often the block's last linear layer, whose input is saved before it runs) are not
redone.  A checkpointed module inside another one is part of the outer one's call.  The
random-number state that PyTorch keeps per call (about 5 kB on the CPU, with
``preserve_rng_state``) is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from dlcourse.calc.summarize import (
    InputSize,
    MacCounter,
    ModuleCall,
    check_sizes,
    distributions_unchecked,
    explain_failure,
    meta_copy,
    refuse_torchscript,
    tensors_in,
)
from dlcourse.validation import checked_int

OPTIMIZER_STATE_BUFFERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2}
SampleShape = Sequence[int] | Sequence[Sequence[int]]
Checkpointed = type[nn.Module] | Sequence[type[nn.Module]]
Saved = dict[int, tuple[int, int, int]]  # storage -> (nbytes, element size, bytes counted per element)


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes held by one training step: parameters, gradients, optimiser state and saved activations.

    With activation checkpointing, ``checkpointed_calls`` module calls were checkpointed,
    ``activations`` includes ``recomputed_activations`` (the largest call's tensors saved
    again when it is recomputed), and the backward pass recomputes ``recompute_macs`` MACs
    (``None``: an operator with no MAC rule ran).
    """

    params: int
    gradients: int
    optimizer_state: int
    activations: int
    optimizer: str = "sgd"
    checkpointed_calls: int = 0
    recomputed_activations: int = 0
    recompute_macs: int | None = 0
    total: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.params + self.gradients + self.optimizer_state + self.activations)

    def __str__(self) -> str:
        return format_training_memory(self)


@torch.inference_mode(False)  # under a caller's inference_mode autograd would save nothing
def training_memory(
    module: nn.Module,
    input_size: InputSize,
    optimizer: str = "sgd",
    dtype: torch.dtype = torch.float32,
    bytes_per_value: int | None = 4,
    checkpoint: Checkpointed = (),
    **forward_kwargs: Any,
) -> TrainingMemory:
    """Bytes of parameters, gradients, optimiser state and saved activations for one training step.

    ``input_size`` includes the batch, as in ``summarize``; ``dtype`` is the input's
    (``torch.long`` for token ids).  ``optimizer`` is ``"sgd"``, ``"momentum"`` or
    ``"adam"``.  ``checkpoint`` names module classes whose calls are checkpointed
    (``torch.utils.checkpoint``, non-reentrant).  See the module's docstring for what is
    counted and how.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    >>> m = training_memory(net, (8, 10), optimizer="adam")
    >>> m.params, m.gradients, m.optimizer_state    # 325 parameters, 4 B each; Adam keeps 2 per parameter
    (1300, 1300, 2600)
    >>> m.activations   # saved: the input (8x10), the ReLU's output (8x20), which the second Linear also saves
    960

    Checkpointing the blocks of a residual MLP keeps each block's input and recomputes
    one block at a time:

    >>> class Block(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.up, self.down = nn.Linear(16, 64), nn.Linear(64, 16)
    ...     def forward(self, x):
    ...         return x + self.down(torch.relu(self.up(x)))
    >>> deep = nn.Sequential(*[Block() for _ in range(4)])
    >>> plain = training_memory(deep, (8, 16))
    >>> kept = training_memory(deep, (8, 16), checkpoint=(Block,))
    >>> plain.activations, kept.activations, kept.recomputed_activations   # per block: input 512 B, ReLU 2048 B
    (10240, 4096, 2048)
    >>> kept.checkpointed_calls, kept.recompute_macs   # 4 x 8x16x64: each down projection is not redone
    (4, 32768)
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"training_memory needs a torch.nn.Module, got {type(module).__name__}")
    buffers = _check_optimizer(optimizer)
    _check_bytes_per_value(bytes_per_value)
    checkpointed = _check_checkpoint(checkpoint)
    refuse_torchscript(module)
    sizes = check_sizes(input_size)
    model = meta_copy(module)
    model.train()
    inputs = [torch.empty(size, dtype=dtype, device="meta") for size in sizes]
    saved: Saved = {}  # what stays saved until the backward pass needs it
    kept: list[torch.Tensor] = []  # keeps every saved tensor alive, so no storage key is reused
    running: list[ModuleCall] = []  # the checkpointed call now running (MacCounter charges its MACs to it)
    calls: list[_Checkpointed] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        kept.append(tensor)
        storage = tensor.untyped_storage()
        record = (storage.nbytes(), tensor.element_size(), _value_bytes(tensor, bytes_per_value))
        if running:
            call = calls[-1]
            call.saved[_storage_key(tensor)] = record
            call.macs_before_last_save = running[-1].macs  # the product that saves its inputs runs after this
            call.unknown_ops |= running[-1].unknown_ops
        else:
            saved[_storage_key(tensor)] = record
        return tensor

    def enter(sub: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if running:  # a checkpointed module inside a checkpointed call is part of that call
            calls[-1].depth += 1
            return
        arguments = list(tensors_in((args, kwargs)))
        kept.extend(arguments)
        running.append(ModuleCall("", sub, arguments))
        calls.append(_Checkpointed(arguments))

    def leave(sub: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        if calls[-1].depth:
            calls[-1].depth -= 1
            return
        running.pop()

    handles = [hook for sub in model.modules() if checkpointed and isinstance(sub, checkpointed)
               for hook in (sub.register_forward_pre_hook(enter, with_kwargs=True),
                            sub.register_forward_hook(leave, with_kwargs=True))]
    try:
        with torch.enable_grad(), MacCounter(running), distributions_unchecked(), \
                torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
            output = model(*inputs, **forward_kwargs)
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError, NotImplementedError) as error:
        raise ValueError(explain_failure(error, module, [], sizes)) from None
    finally:
        for handle in handles:
            handle.remove()
    del output
    if checkpointed and not calls:
        names = ", ".join(kind.__name__ for kind in checkpointed)
        raise ValueError(f"checkpoint=({names}) matched no module that runs in the forward pass of "
                         f"{type(module).__name__}; expected the classes of modules it calls, such as its blocks")
    parameters = list(model.parameters())  # a lazy module's parameters exist now
    trainable = [p for p in parameters if p.requires_grad]
    params = sum(p.numel() * _value_bytes(p, bytes_per_value) for p in parameters)
    gradients = sum(p.numel() * _value_bytes(p, bytes_per_value) for p in trainable)
    parameter_keys = {_storage_key(p) for p in parameters}
    recomputed = 0
    for call in calls:
        if not call.saved:
            continue  # nothing to recompute: PyTorch keeps neither the inputs nor anything else
        inputs_kept = {_storage_key(t): (t.untyped_storage().nbytes(), t.element_size(),
                                         _value_bytes(t, bytes_per_value)) for t in call.inputs}
        saved.update(inputs_kept)
        again = {key: record for key, record in call.saved.items()
                 if key not in inputs_kept and key not in parameter_keys}
        recomputed = max(recomputed, _bytes(again))
    for key in parameter_keys:
        saved.pop(key, None)
    recompute_macs: int | None = sum(call.macs_before_last_save for call in calls if call.saved)
    if any(call.unknown_ops for call in calls if call.saved):
        recompute_macs = None
    return TrainingMemory(params, gradients, buffers * gradients, _bytes(saved) + recomputed, optimizer,
                          checkpointed_calls=len(calls), recomputed_activations=recomputed,
                          recompute_macs=recompute_macs)


@dataclass
class _Checkpointed:
    """One checkpointed module call: its inputs, the tensors it saves, and the MACs run before its last save."""

    inputs: list[torch.Tensor]
    saved: Saved = field(default_factory=dict)
    macs_before_last_save: int = 0
    unknown_ops: set[str] = field(default_factory=set)
    depth: int = 0  # checkpointed modules running inside this call


def _bytes(saved: Saved) -> int:
    """nbytes of each storage in its tensor's element size, rescaled to the bytes counted per value."""
    return sum(nbytes // element * counted for nbytes, element, counted in saved.values())


def max_batch_size(
    module: nn.Module,
    sample_shape: SampleShape,
    memory_bytes: int,
    optimizer: str = "sgd",
    dtype: torch.dtype = torch.float32,
    bytes_per_value: int | None = 4,
    checkpoint: Checkpointed = (),
    **forward_kwargs: Any,
) -> int:
    """The largest batch whose ``training_memory(...).total`` fits in ``memory_bytes``.

    ``sample_shape`` is one sample's shape, without the batch (``()`` for a module
    that takes a vector of scalars; a list of shapes for several inputs).  The
    per-sample slope comes from batches 1 and 2; the answer is then checked exactly
    (it fits, one more does not), with a search if memory does not grow linearly.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    >>> # 3 x 1300 B fixed (params, gradients, momentum) + 120 B saved per sample
    >>> max_batch_size(net, (10,), 3900 + 120 * 50, optimizer="momentum")
    50
    """
    checked_int("memory_bytes", memory_bytes, unit="bytes")
    shapes = _sample_shapes(sample_shape)

    def total(batch: int) -> int:
        sizes = [(batch, *shape) for shape in shapes]
        return training_memory(module, sizes if len(sizes) > 1 else sizes[0], optimizer, dtype, bytes_per_value,
                               checkpoint, **forward_kwargs).total

    one = total(1)
    if one > memory_bytes:
        raise ValueError(f"even a batch of 1 needs {format_bytes(one)} for one {optimizer} training step, "
                         f"more than the {format_bytes(memory_bytes)} given")
    slope = total(2) - one
    if slope <= 0:
        raise ValueError(f"the memory of {type(module).__name__} does not grow with the batch ({format_bytes(one)} "
                         "at batch 1 and 2), so no largest batch exists; expected activations that grow with it")
    candidate = 1 + (memory_bytes - one) // slope
    if total(candidate) <= memory_bytes and total(candidate + 1) > memory_bytes:
        return candidate
    return _search(total, memory_bytes, candidate)


def format_training_memory(memory: TrainingMemory) -> str:
    """The breakdown as aligned lines, bytes with thousands separators and in MB/GB (powers of 10).

    >>> print(format_training_memory(TrainingMemory(1300, 1300, 2600, 960, "adam")))
    training memory for one adam step:
      parameters         1,300 B  (1.3 kB)
      gradients          1,300 B  (1.3 kB)
      optimizer state    2,600 B  (2.6 kB)
      saved activations    960 B
      total              6,160 B  (6.2 kB)
    >>> print(format_training_memory(TrainingMemory(1300, 1300, 0, 4096, "sgd", 4, 2048, 32768)))
    training memory for one sgd step:
      parameters         1,300 B  (1.3 kB)
      gradients          1,300 B  (1.3 kB)
      optimizer state        0 B
      saved activations  4,096 B  (4.1 kB)
        of which 2,048 B (2.0 kB) recomputed: the largest checkpointed call's, at its turn in the backward pass
      total              6,696 B  (6.7 kB)
      checkpointing: 4 calls keep only their inputs; the backward pass recomputes 32,768 MACs
    """
    parts = [("parameters", memory.params), ("gradients", memory.gradients),
             ("optimizer state", memory.optimizer_state), ("saved activations", memory.activations),
             ("total", memory.total)]
    width = max(len(f"{value:,}") for _, value in parts)
    lines = [f"training memory for one {memory.optimizer} step:"]
    lines += [f"  {name:<18} {value:>{width},} B{_human(value, '  ({})')}" for name, value in parts]
    if memory.checkpointed_calls:
        recomputed = memory.recomputed_activations
        macs = "an unknown number of" if memory.recompute_macs is None else f"{memory.recompute_macs:,}"
        lines.insert(5, f"    of which {recomputed:,} B{_human(recomputed, ' ({})')} recomputed: the largest "
                        "checkpointed call's, at its turn in the backward pass")
        calls = (f"{memory.checkpointed_calls} calls keep only their" if memory.checkpointed_calls > 1
                 else "1 call keeps only its")
        lines.append(f"  checkpointing: {calls} inputs; the backward pass recomputes {macs} MACs")
    return "\n".join(lines)


def format_bytes(count: int) -> str:
    """``count`` bytes with thousands separators and in kB/MB/GB.

    >>> format_bytes(22_656_589_824)
    '22,656,589,824 B (22.7 GB)'
    """
    return f"{count:,} B{_human(count, ' ({})')}"


def _human(count: int, template: str) -> str:
    """``count`` in kB, MB, GB or TB (powers of 10) put into ``template``; "" below 1 kB."""
    for unit, size in (("TB", 10 ** 12), ("GB", 10 ** 9), ("MB", 10 ** 6), ("kB", 10 ** 3)):
        if count >= size:
            return template.format(f"{count / size:.1f} {unit}")
    return ""


def _search(total: Any, memory_bytes: int, candidate: int) -> int:
    """Bisection for a memory that is not linear in the batch: the largest batch that fits."""
    fits, too_big = 1, None
    if total(candidate) <= memory_bytes:
        fits = candidate
    else:
        too_big = candidate
    while too_big is None:
        step = fits * 2
        if step > 2 ** 40:
            raise ValueError("the memory does not reach memory_bytes at any batch up to 2**40")
        if total(step) <= memory_bytes:
            fits = step
        else:
            too_big = step
    while too_big - fits > 1:
        middle = (fits + too_big) // 2
        if total(middle) <= memory_bytes:
            fits = middle
        else:
            too_big = middle
    return fits


def _storage_key(tensor: torch.Tensor) -> int:
    """The identity of the memory under ``tensor``: one per storage, shared by all its views."""
    return tensor.untyped_storage()._cdata


def _value_bytes(tensor: torch.Tensor, bytes_per_value: int | None) -> int:
    """The bytes one value of ``tensor`` is counted at: ``bytes_per_value`` for floats, else its own size."""
    if bytes_per_value is None or not tensor.is_floating_point():
        return tensor.element_size()
    return bytes_per_value


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def _check_optimizer(optimizer: str) -> int:
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZER_STATE_BUFFERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZER_STATE_BUFFERS))}, "
                         f"got {optimizer!r}")
    return OPTIMIZER_STATE_BUFFERS[optimizer]


def _check_checkpoint(checkpoint: Checkpointed) -> tuple[type[nn.Module], ...]:
    """The module classes to checkpoint, as a tuple; one class alone is allowed."""
    classes = (checkpoint,) if isinstance(checkpoint, type) else checkpoint
    if isinstance(classes, (tuple, list)) and all(isinstance(kind, type) and issubclass(kind, nn.Module)
                                                  for kind in classes):
        return tuple(classes)
    raise ValueError("checkpoint must be a tuple of torch.nn.Module classes whose calls are checkpointed, "
                     f"such as (nn.TransformerEncoderLayer,), got {checkpoint!r}")


def _check_bytes_per_value(bytes_per_value: int | None) -> None:
    if bytes_per_value is None:
        return
    if isinstance(bytes_per_value, bool) or not isinstance(bytes_per_value, int) or bytes_per_value < 1:
        raise ValueError("bytes_per_value must be a positive int (bytes per float value, 4 for float32) or None "
                         f"(each tensor's own element size), got {bytes_per_value!r}")


def _sample_shapes(sample_shape: SampleShape) -> list[tuple[int, ...]]:
    def valid(shape: Any) -> bool:
        return isinstance(shape, (tuple, list, torch.Size)) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)

    if valid(sample_shape):
        return [tuple(sample_shape)]  # type: ignore[arg-type]
    if isinstance(sample_shape, (tuple, list)) and sample_shape and all(valid(s) for s in sample_shape):
        return [tuple(shape) for shape in sample_shape]  # type: ignore[union-attr]
    raise ValueError("sample_shape must be one sample's shape without the batch, such as (3, 32, 32), "
                     f"or a list of such shapes; got {sample_shape!r}")
