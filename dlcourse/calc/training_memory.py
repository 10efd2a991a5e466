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
    check_sizes,
    distributions_unchecked,
    explain_failure,
    meta_copy,
    refuse_torchscript,
)
from dlcourse.validation import checked_int

OPTIMIZER_STATE_BUFFERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2}
SampleShape = Sequence[int] | Sequence[Sequence[int]]


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes held by one training step: parameters, gradients, optimiser state and saved activations."""

    params: int
    gradients: int
    optimizer_state: int
    activations: int
    optimizer: str = "sgd"
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
    **forward_kwargs: Any,
) -> TrainingMemory:
    """Bytes of parameters, gradients, optimiser state and saved activations for one training step.

    ``input_size`` includes the batch, as in ``summarize``; ``dtype`` is the input's
    (``torch.long`` for token ids).  ``optimizer`` is ``"sgd"``, ``"momentum"`` or
    ``"adam"``.  See the module's docstring for what is counted and how.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    >>> m = training_memory(net, (8, 10), optimizer="adam")
    >>> m.params, m.gradients, m.optimizer_state    # 325 parameters, 4 B each; Adam keeps 2 per parameter
    (1300, 1300, 2600)
    >>> m.activations   # saved: the input (8x10), the ReLU's output (8x20), which the second Linear also saves
    960
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"training_memory needs a torch.nn.Module, got {type(module).__name__}")
    buffers = _check_optimizer(optimizer)
    _check_bytes_per_value(bytes_per_value)
    refuse_torchscript(module)
    sizes = check_sizes(input_size)
    model = meta_copy(module)
    model.train()
    inputs = [torch.empty(size, dtype=dtype, device="meta") for size in sizes]
    saved: dict[int, tuple[int, int, int]] = {}  # storage -> (nbytes, element size, bytes counted per element)
    kept: list[torch.Tensor] = []  # keeps every saved tensor alive, so no storage key is reused

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        kept.append(tensor)
        storage = tensor.untyped_storage()
        saved[_storage_key(tensor)] = (storage.nbytes(), tensor.element_size(), _value_bytes(tensor, bytes_per_value))
        return tensor

    try:
        with torch.enable_grad(), MacCounter([]), distributions_unchecked(), \
                torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
            output = model(*inputs, **forward_kwargs)
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError, NotImplementedError) as error:
        raise ValueError(explain_failure(error, module, [], sizes)) from None
    del output
    parameters = list(model.parameters())  # a lazy module's parameters exist now
    trainable = [p for p in parameters if p.requires_grad]
    params = sum(p.numel() * _value_bytes(p, bytes_per_value) for p in parameters)
    gradients = sum(p.numel() * _value_bytes(p, bytes_per_value) for p in trainable)
    # nbytes of a storage in its tensor's element size, rescaled to ``bytes_per_value`` for floats
    for key in {_storage_key(p) for p in parameters}:
        saved.pop(key, None)
    activations = sum(nbytes // element * counted for nbytes, element, counted in saved.values())
    return TrainingMemory(params, gradients, buffers * gradients, activations, optimizer)


def max_batch_size(
    module: nn.Module,
    sample_shape: SampleShape,
    memory_bytes: int,
    optimizer: str = "sgd",
    dtype: torch.dtype = torch.float32,
    bytes_per_value: int | None = 4,
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
                               **forward_kwargs).total

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
    """
    parts = [("parameters", memory.params), ("gradients", memory.gradients),
             ("optimizer state", memory.optimizer_state), ("saved activations", memory.activations),
             ("total", memory.total)]
    width = max(len(f"{value:,}") for _, value in parts)
    lines = [f"training memory for one {memory.optimizer} step:"]
    lines += [f"  {name:<18} {value:>{width},} B{_human(value, '  ({})')}" for name, value in parts]
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
