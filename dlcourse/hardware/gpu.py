"""What a device can do, measured and published: matmul FLOP/s, memory bandwidth, the roofline.

Every measurement names the machine it ran on (``describe_device``), so a page built on a
laptop's CPU never passes for a GPU figure.  ``PUBLISHED_GPUS`` holds vendors' peak figures,
labelled with their sources; they are data to compare with, never measurements.  The device
is chosen and described in ``dlcourse.hardware.device`` and timed in
``dlcourse.hardware.timing``; their ``device``, ``describe_device``, ``time_it``, ``Timing``
and ``synchronize`` are also names of this module, which the GPU chapter calls.

>>> dev = torch.device("cpu")
>>> describe_device(dev).startswith("CPU: ")
True
>>> timing = time_it(lambda: sum(range(100)), repeats=3, warmup=1)
>>> len(timing.samples), timing.min <= timing.median <= timing.max
(3, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

# device, describe_device, Timing, time_it and synchronize are this module's names too (the chapter calls gpu.device())
from dlcourse.hardware.device import DeviceLike, as_device
from dlcourse.hardware.device import describe_device as describe_device
from dlcourse.hardware.device import device as device
from dlcourse.hardware.timing import Stopwatch, check_budget
from dlcourse.hardware.timing import Timing as Timing
from dlcourse.hardware.timing import synchronize as synchronize
from dlcourse.hardware.timing import time_it as time_it
from dlcourse.validation import checked_int

DtypeLike = torch.dtype | str

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


# --- measured: matmul FLOP/s and memory bandwidth ---------------------------------------------------------------

def matmul_flops(n: int) -> int:
    """FLOPs of one n x n by n x n matrix product: n^2 outputs, each n multiplies and n adds.

    >>> matmul_flops(1024)
    2147483648
    """
    checked_int("n", n, minimum=1)
    return 2 * n**3


@dataclass(frozen=True)
class MatmulResult:
    """One size and dtype of ``matmul_throughput``.

    ``timing`` is None where the size was not timed; ``note`` says why: the dtype is not
    supported, or timing it would have overrun the time budget (``skipped`` is then True).
    """

    size: int
    dtype: str
    flops: int
    timing: Timing | None
    note: str = ""
    skipped: bool = False

    @property
    def flops_per_s(self) -> float | None:
        """FLOPs / median seconds; None when not measured."""
        return None if self.timing is None else self.flops / self.timing.median


def dtype_name(dtype: DtypeLike) -> str:
    """The name of one of the dtypes measured here: float32, bfloat16 or float16.

    >>> dtype_name(torch.bfloat16), dtype_name("float16")
    ('bfloat16', 'float16')
    """
    for name, value in DTYPES.items():
        if dtype in (name, value):
            return name
    raise ValueError(f"unknown dtype {dtype!r}: expected one of {', '.join(DTYPES)} (a string or the torch dtype)")


#: The size of the untimed product ``matmul_throughput`` makes first, under a budget, to learn a dtype's speed.
PROBE_SIZE = 64


def matmul_throughput(
    sizes: Sequence[int] = (256, 512, 1024),
    dtypes: Sequence[DtypeLike] = ("float32", "bfloat16"),
    device: DeviceLike | None = None,
    repeats: int = 5,
    warmup: int = 1,
    budget_s: float | None = None,
) -> list[MatmulResult]:
    """Achieved FLOP/s of n x n matrix products, for each size and dtype, on ``device`` (default ``device()``).

    Tensors are made in the dtype itself, so a GPU uses its tensor cores for float16 and
    bfloat16.  A dtype the device cannot multiply (float16 on some CPUs, bfloat16 on a T4 or
    V100) is reported with ``timing=None`` and a note, not raised.

    ``budget_s`` bounds the whole measurement by time, not by an assumed speed: each dtype
    gets an equal share of what is left.  A dtype starts with one product of ``PROBE_SIZE``;
    before each size the time of its calls is extrapolated from the last size measured (a
    product costs n^3), and a size that would overrun the share is skipped, with the larger
    ones, and reported with ``skipped=True`` and a note.  A CPU that emulates float16 (about
    1 GFLOP/s, where float32 reaches tens or hundreds) so gets its small sizes measured in
    well under a second instead of minutes for the large ones.

    >>> [result] = matmul_throughput([64], ["float32"], "cpu", repeats=2)
    >>> result.flops, result.flops_per_s > 0
    (524288, True)
    >>> big = matmul_throughput([64, 4096], ["float32"], "cpu", repeats=2, budget_s=0.01)
    >>> big[1].skipped, big[1].timing is None
    (True, True)
    """
    sizes = list(sizes)
    if not sizes:
        raise ValueError("matmul_throughput needs at least one matrix size, e.g. sizes=(256, 512, 1024)")
    for n in sizes:
        checked_int("each size", n, minimum=1)
    names = [dtype_name(dtype) for dtype in dtypes]
    if not names:
        raise ValueError("matmul_throughput needs at least one dtype, e.g. dtypes=('float32', 'bfloat16')")
    check_budget(budget_s)
    dev = as_device(device)
    begun = time.perf_counter()
    results = []
    for index, name in enumerate(names):
        supported, why = _dtype_supported(name, dev)
        if not supported:
            results += [MatmulResult(n, name, matmul_flops(n), None, why) for n in sizes]
            continue
        share = None if budget_s is None else (budget_s - (time.perf_counter() - begun)) / (len(names) - index)
        results += _matmul_sizes(sizes, name, dev, repeats, warmup, share)
    return results


def _matmul_sizes(sizes: Sequence[int], name: str, dev: torch.device, repeats: int, warmup: int,
                  budget_s: float | None) -> list[MatmulResult]:
    """One dtype's sizes, smallest first, within ``budget_s`` (None: no limit); returned in ``sizes``' order."""
    begun = time.perf_counter()
    done: dict[int, MatmulResult] = {}
    last: tuple[int, float] | None = None            # (size, seconds per call) of the last size timed
    if budget_s is not None:
        last = (PROBE_SIZE, _one_call_seconds(PROBE_SIZE, name, dev))
    stop_note = ""
    for n in sorted(set(sizes)):
        if budget_s is not None and not stop_note:
            left = budget_s - (time.perf_counter() - begun)
            per_call = last[1] * (n / last[0]) ** 3
            needed = per_call * (warmup + min(repeats, 3))
            if needed > left:
                rate = matmul_flops(last[0]) / last[1] / 1e9
                stop_note = (f"skipped: at the {rate:.3g} GFLOP/s measured for n = {last[0]} one product of "
                             f"n = {n} would take about {per_call:.2g} s, over the time left of the "
                             f"{budget_s:.3g} s budget")
        if stop_note:
            done[n] = MatmulResult(n, name, matmul_flops(n), None, stop_note, skipped=True)
            continue
        a = torch.randn(n, n, device=dev).to(DTYPES[name])
        b = torch.randn(n, n, device=dev).to(DTYPES[name])
        left = None if budget_s is None else max(budget_s - (time.perf_counter() - begun), 1e-9)
        timing = time_it(lambda a=a, b=b: torch.mm(a, b), repeats=repeats, warmup=warmup, device=dev, budget_s=left)
        done[n] = MatmulResult(n, name, matmul_flops(n), timing)
        last = (n, timing.median)
    return [done[n] for n in sizes]


def _one_call_seconds(n: int, name: str, dev: torch.device) -> float:
    """Seconds of one n x n product in dtype ``name`` (the first call, untimed by ``time_it``)."""
    a = torch.randn(n, n, device=dev).to(DTYPES[name])
    with Stopwatch(dev) as watch:
        torch.mm(a, a)
    return max(watch.seconds, 1e-9)


def slowdown(results: Sequence[MatmulResult], dtype: DtypeLike, reference: DtypeLike = "float32") -> float | None:
    """How many times slower ``dtype``'s products ran than ``reference``'s, at the largest size both measured.

    Far above 1 (float16 on a CPU without float16 arithmetic: about 100) means the device has
    no fast product in that dtype; below 1, that it is faster (tensor cores).  None when no
    size was measured in both.

    >>> t = lambda s: Timing((s,), "CPU: test")
    >>> rows = [MatmulResult(64, "float32", 524288, t(0.001)), MatmulResult(64, "float16", 524288, t(0.1)),
    ...         MatmulResult(128, "float32", 4194304, t(0.008)), MatmulResult(128, "float16", 4194304, None)]
    >>> slowdown(rows, "float16")              # compared at n = 64, the largest size both have
    100.0
    """
    rates: dict[tuple[str, int], float] = {(r.dtype, r.size): r.flops_per_s for r in results if r.timing is not None}
    name, base = dtype_name(dtype), dtype_name(reference)
    common = [n for (d, n) in rates if d == name and (base, n) in rates]
    if not common:
        return None
    n = max(common)
    return rates[base, n] / rates[name, n]


def _dtype_supported(name: str, dev: torch.device) -> tuple[bool, str]:
    """Whether a small matmul in this dtype runs on ``dev``, and why not if it does not."""
    if dev.type == "cuda" and name == "bfloat16" and not torch.cuda.is_bf16_supported():
        return False, f"not supported: {torch.cuda.get_device_name(dev)} has no bfloat16"
    try:
        a = torch.ones(8, 8, device=dev, dtype=DTYPES[name])
        torch.mm(a, a)
        synchronize(dev)
    except (RuntimeError, NotImplementedError, TypeError) as error:
        return False, f"not supported on {dev.type}: {str(error).splitlines()[0]}"
    return True, ""


@dataclass(frozen=True)
class BandwidthResult:
    """A tensor copy of ``nbytes``: it reads ``nbytes`` and writes ``nbytes``."""

    nbytes: int
    timing: Timing

    @property
    def bytes_moved(self) -> int:
        """Bytes read plus bytes written by one copy."""
        return 2 * self.nbytes

    @property
    def bytes_per_s(self) -> float:
        """Bytes moved / median seconds."""
        return self.bytes_moved / self.timing.median


def memory_bandwidth(
    nbytes: int = 128 * 2**20, device: DeviceLike | None = None, repeats: int = 5, warmup: int = 1,
    budget_s: float | None = None,
) -> BandwidthResult:
    """Memory bandwidth from copying a tensor of ``nbytes`` into another: (bytes read + written) / time.

    Pick ``nbytes`` well above the last-level cache, or the figure is the cache's bandwidth.
    ``budget_s`` caps the time of the copies as in ``time_it`` (at least one copy is timed).

    >>> result = memory_bandwidth(2**20, "cpu", repeats=2)
    >>> result.bytes_moved, result.bytes_per_s > 0
    (2097152, True)
    """
    checked_int("nbytes", nbytes, unit="bytes to copy, e.g. 128 * 2**20")
    dev = as_device(device)
    source = torch.ones(nbytes, dtype=torch.uint8, device=dev)
    target = torch.empty_like(source)
    timing = time_it(lambda: target.copy_(source), repeats=repeats, warmup=warmup, device=dev, budget_s=budget_s)
    return BandwidthResult(nbytes, timing)


def fraction_of_peak(achieved: float, peak: float) -> float:
    """Achieved / peak: 0.5 means half of the peak.

    >>> fraction_of_peak(156e12, 312e12)
    0.5
    """
    if not peak > 0:
        raise ValueError(f"peak must be positive, got {peak!r}")
    if not achieved >= 0:
        raise ValueError(f"achieved must be non-negative, got {achieved!r}")
    return achieved / peak


# --- published peaks ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GpuSpec:
    """A GPU's published peaks (vendor figures, not measured here).

    Tensor figures are dense, without 2:4 sparsity; ``None`` where the GPU has no such tensor
    cores.  ``source`` names the document and says what each figure is.
    """

    name: str
    fp32_tflops: float
    fp16_tensor_tflops: float | None
    bf16_tensor_tflops: float | None
    memory_gb: float
    bandwidth_gbs: float
    source: str

    def peak_flops(self, dtype: DtypeLike = "float32") -> float | None:
        """Peak FLOP/s for a dtype (float16/bfloat16: tensor cores, dense); None if it has none.

        >>> PUBLISHED_GPUS["A100 SXM 80 GB"].peak_flops("bfloat16")
        312000000000000.0
        """
        tflops = {"float32": self.fp32_tflops, "float16": self.fp16_tensor_tflops,
                  "bfloat16": self.bf16_tensor_tflops}[dtype_name(dtype)]
        return None if tflops is None else tflops * 1e12

    @property
    def bandwidth(self) -> float:
        """Peak memory bandwidth in bytes/s."""
        return self.bandwidth_gbs * 1e9

    def ridge_point(self, dtype: DtypeLike = "float32") -> float | None:
        """FLOP/byte where the roofline bends: layers left of it are memory-bound.

        >>> round(PUBLISHED_GPUS["T4"].ridge_point("float32"), 2)   # 8.1e12 / 320e9
        25.31
        """
        peak = self.peak_flops(dtype)
        return None if peak is None else peak / self.bandwidth


PUBLISHED_GPUS: dict[str, GpuSpec] = {spec.name: spec for spec in [
    GpuSpec("GTX 1060 6 GB", 4.4, None, None, 6, 192,
            "NVIDIA GeForce GTX 1060 specifications (2016): FP32 = 1280 CUDA cores x 2 x 1708 MHz boost; "
            "192 GB/s GDDR5; Pascal has no tensor cores (FP16 runs at 1/64 of FP32)"),
    GpuSpec("T4", 8.1, 65, None, 16, 320,
            "NVIDIA T4 Tensor Core GPU datasheet (2019): FP32 8.1 TFLOPS; mixed precision FP16/FP32 tensor "
            "65 TFLOPS; 320 GB/s GDDR6; Turing tensor cores have no bfloat16"),
    GpuSpec("V100 SXM2 (16/32 GB)", 15.7, 125, None, 32, 900,
            "NVIDIA Tesla V100 datasheet (2018): SXM2 FP32 15.7 TFLOPS; tensor (FP16 in, FP32 accumulate) "
            "125 TFLOPS; 900 GB/s HBM2; 16 GB and 32 GB versions share these figures (32 GB listed); "
            "Volta tensor cores have no bfloat16"),
    GpuSpec("A100 SXM 80 GB", 19.5, 312, 312, 80, 2039,
            "NVIDIA A100 Tensor Core GPU datasheet (2021): SXM 80 GB FP32 19.5 TFLOPS; FP16 and BF16 tensor "
            "312 TFLOPS dense (624 with sparsity); 2,039 GB/s HBM2e"),
    GpuSpec("H100 SXM 80 GB", 67, 989, 989, 80, 3350,
            "NVIDIA H100 Tensor Core GPU datasheet (2023): SXM FP32 67 TFLOPS; FP16 and BF16 tensor "
            "1,979 TFLOPS with sparsity, i.e. 989 dense; 3.35 TB/s HBM3"),
    GpuSpec("RTX 4090", 82.6, 165.2, 165.2, 24, 1008,
            "NVIDIA Ada Lovelace GPU architecture whitepaper (2022), appendix A: FP32 82.6 TFLOPS; FP16 and BF16 "
            "tensor with FP32 accumulate 165.2 TFLOPS dense (FP16 with FP16 accumulate: 330.3); "
            "1,008 GB/s GDDR6X, 24 GB"),
]}


# --- the roofline -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RooflinePoint:
    """One layer on the roofline: its FLOPs, the bytes it must move, and their ratio.

    ``bytes_moved`` = (input values + output values + parameters) x bytes per value, each
    read or written once: the least traffic the layer needs.
    """

    name: str
    kind: str
    flops: int
    bytes_moved: int

    @property
    def intensity(self) -> float:
        """Arithmetic intensity in FLOP/byte."""
        return self.flops / self.bytes_moved


def roofline_points(module: nn.Module, input_size: Sequence[int], bytes_per_value: int = 4) -> list[RooflinePoint]:
    """Every layer of ``module`` that does arithmetic (MACs > 0), placed by FLOPs and bytes moved.

    FLOPs, parameters and output shapes come from ``dlcourse.calc.summarize``; the input shapes
    from hooks on a meta copy of the module (nothing is allocated).  ``kind`` tells a depthwise
    convolution ("depthwise 3x3 conv") from an ordinary one ("3x3 conv") and a "linear" layer.

    >>> [point] = roofline_points(nn.Linear(100, 10, bias=False), (1, 100))
    >>> point.flops, point.bytes_moved          # 2*100*10; (100 + 10 + 1000) * 4
    (2000, 4440)
    """
    from dlcourse.calc import summarize
    from dlcourse.calc.summarize import meta_copy

    checked_int("bytes_per_value", bytes_per_value, unit="4 for float32, 2 for float16")
    summary = summarize(module, input_size)
    copy = meta_copy(module)
    inputs: dict[str, int] = {}
    kinds: dict[str, str] = {}
    handles = []
    for path, sub in copy.named_modules():
        def record(sub: nn.Module, args: tuple[object, ...], path: str = path) -> None:
            inputs.setdefault(path, sum(arg.numel() for arg in args if isinstance(arg, torch.Tensor)))
            kinds.setdefault(path, _layer_kind(sub))
        handles.append(sub.register_forward_pre_hook(record))
    with torch.no_grad():
        copy(torch.empty(tuple(input_size), device="meta"))
    for handle in handles:
        handle.remove()
    points = []
    for row in summary.rows:
        if not row.macs or row.path not in inputs:
            continue
        values = inputs[row.path] + math.prod(row.output_shape) + row.params
        points.append(RooflinePoint(row.name, kinds[row.path], row.flops, values * bytes_per_value))
    return points


def _layer_kind(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        size = "x".join(str(k) for k in module.kernel_size)
        depthwise = module.groups > 1 and module.groups == module.in_channels
        return f"{'depthwise ' if depthwise else ''}{size} conv"
    if isinstance(module, nn.Linear):
        return "linear"
    return type(module).__name__


def attainable(intensity: float, peak_flops: float, peak_bandwidth: float) -> float:
    """The roofline: min(peak FLOP/s, intensity x bandwidth).

    >>> attainable(5.0, 19.5e12, 2039e9)       # memory-bound: 5 FLOP/B x 2039 GB/s
    10195000000000.0
    >>> attainable(100.0, 19.5e12, 2039e9)     # compute-bound: the peak
    19500000000000.0
    """
    return min(peak_flops, intensity * peak_bandwidth)


