"""dlcourse.hardware.gpu, device and timing: device choice, threads, timing on a fake clock, FLOP and byte counts
by hand, the roofline, published peaks."""

import re
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from dlcourse.hardware import gpu
from dlcourse.hardware.device import pick_device, set_threads, torch_threads
from dlcourse.hardware.timing import Stopwatch
from dlcourse.lessons.gpus import roofline_figure
from dlcourse.models import build


class FakeClock:
    """time.perf_counter that only moves when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- device ---------------------------------------------------------------------------------------------------

def test_device_is_the_cpu_here():
    assert gpu.device() == torch.device("cpu")
    assert gpu.describe_device("cpu").startswith("CPU: ")


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"),    # CUDA first, even where MPS exists
    (False, True, "mps"),
    (False, False, "cpu"),
])
def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert gpu.device().type == expected


def test_describe_device_names_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: "NVIDIA A100-SXM4-80GB")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(total_memory=80 * 2**30))
    text = gpu.describe_device("cuda")
    assert text.startswith("GPU: NVIDIA A100-SXM4-80GB")
    assert "80 GiB" in text


def test_describe_device_counts_the_cpus_threads():
    text = gpu.describe_device("cpu")
    threads = int(re.search(r"(\d+) threads;", text).group(1))
    assert threads >= 1
    assert f"torch uses {torch.get_num_threads()}" in text


@pytest.mark.parametrize("choice, cuda, expected", [
    ("auto", False, "cpu"), ("cpu", True, "cpu"), ("auto", True, "cuda:1"), ("cuda", True, "cuda:1"),
])
def test_pick_device_gives_a_local_rank_its_own_gpu_or_the_cpu(monkeypatch, choice, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)     # never for a process group
    assert pick_device(1, choice) == torch.device(expected)


def test_pick_device_refuses_what_it_cannot_give(monkeypatch):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda', got 'gpu'"):
        pick_device(0, "gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="torch sees no GPU"):
        pick_device(0, "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="local rank 1 has no GPU: only 1 visible"):
        pick_device(1, "auto")


def test_set_threads_is_checked_and_torch_threads_restores(monkeypatch):
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be a positive int, got 0"):
        set_threads(0)


# --- timing ---------------------------------------------------------------------------------------------------

def test_stopwatch_times_a_block_and_waits_for_the_device(monkeypatch):
    clock, syncs = FakeClock(), []
    monkeypatch.setattr(gpu.time, "perf_counter", clock)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: syncs.append(dev))
    with Stopwatch("cuda") as watch:
        clock.now += 0.25
        assert watch.seconds == 0.25            # the time so far, while it runs
        clock.now += 0.5
    clock.now += 10.0
    assert watch.seconds == 0.75                 # stopped with the block
    assert len(syncs) == 3                       # at the start, at the reading while it ran, at the stop
    plain = Stopwatch().start()
    clock.now += 2.0
    assert plain.seconds == 2.0 and len(syncs) == 3   # no device: nothing to wait for
    with pytest.raises(RuntimeError, match="never started"):
        _ = Stopwatch().seconds


def test_time_it_warms_up_then_times_each_repeat_on_a_fake_clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(gpu.time, "perf_counter", clock)
    durations = iter([8.0, 8.0, 0.5, 0.125, 0.25, 1.0, 0.75])  # two warm-up calls, then five timed ones
    calls = []

    def fn():
        calls.append(1)
        clock.now += next(durations)

    timing = gpu.time_it(fn, repeats=5, warmup=2)
    assert len(calls) == 2 + 5
    assert timing.samples == (0.5, 0.125, 0.25, 1.0, 0.75)
    assert timing.median == 0.5      # sorted: 0.125 0.25 [0.5] 0.75 1.0
    assert timing.min == 0.125
    assert timing.max == 1.0
    assert timing.spread == 0.875
    assert timing.device.startswith("CPU")


def test_median_of_an_even_number_of_samples_is_the_mean_of_the_middle_two(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(gpu.time, "perf_counter", clock)
    durations = iter([0.25, 1.0, 0.5, 4.0])

    def fn():
        clock.now += next(durations)

    assert gpu.time_it(fn, repeats=4, warmup=0).median == (0.5 + 1.0) / 2


def test_time_it_on_cuda_uses_events_and_synchronises(monkeypatch):
    """The CUDA path, without a GPU: events read a fake clock in milliseconds, as CUDA's do."""
    clock = FakeClock()
    syncs = []

    class Event:
        def __init__(self, enable_timing: bool = False) -> None:
            assert enable_timing
            self.at = None

        def record(self) -> None:
            self.at = clock.now

        def elapsed_time(self, end: "Event") -> float:
            return (end.at - self.at) * 1000.0

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: syncs.append(dev))
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(total_memory=16 * 2**30))
    durations = iter([1.0, 0.25, 0.5, 0.125])

    def fn():
        clock.now += next(durations)

    timing = gpu.time_it(fn, repeats=3, warmup=1, device="cuda")
    assert timing.samples == (0.25, 0.5, 0.125)
    assert len(syncs) == 1 + 3     # after the warm-up, and after each timed call
    assert "Tesla T4" in timing.device


@pytest.mark.parametrize("kwargs, message", [({"repeats": 0}, "repeats must be a positive int, got 0"),
                                             ({"warmup": -1}, "warmup must be an int >= 0, got -1"),
                                             ({"repeats": 2.5}, "repeats must be a positive int, got 2.5")])
def test_time_it_refuses_bad_counts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gpu.time_it(lambda: None, **kwargs)


# --- matmul and bandwidth ---------------------------------------------------------------------------------------

def test_matmul_flops_by_hand():
    # 3x3 @ 3x3: 9 outputs, each 3 multiplies and 3 adds
    assert gpu.matmul_flops(3) == 9 * (3 + 3)
    assert gpu.matmul_flops(1000) == 2_000_000_000


def test_matmul_throughput_divides_the_flops_by_the_median_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(gpu.time, "perf_counter", clock)
    real_mm = torch.mm

    def slow_mm(a, b):
        clock.now += 0.125
        return real_mm(a, b)

    monkeypatch.setattr(torch, "mm", slow_mm)
    [result] = gpu.matmul_throughput([16], ["float32"], "cpu", repeats=3, warmup=1)
    assert result.size == 16 and result.dtype == "float32"
    assert result.flops == 2 * 16 * 16 * 16 == 8192
    assert result.timing.samples == (0.125, 0.125, 0.125)
    assert result.flops_per_s == 8192 / 0.125


def test_an_unsupported_dtype_is_reported_not_raised(monkeypatch):
    real_mm = torch.mm

    def mm_without_half(a, b):
        if a.dtype == torch.float16:
            raise RuntimeError('"addmm_impl_cpu_" not implemented for \'Half\'')
        return real_mm(a, b)

    monkeypatch.setattr(torch, "mm", mm_without_half)
    results = gpu.matmul_throughput([8, 16], ["float32", torch.float16], "cpu", repeats=1, warmup=0)
    assert [(r.size, r.dtype) for r in results] == [(8, "float32"), (16, "float32"), (8, "float16"), (16, "float16")]
    assert all(r.flops_per_s > 0 for r in results[:2])
    for half in results[2:]:
        assert half.timing is None and half.flops_per_s is None
        assert half.note.startswith("not supported")


def test_bfloat16_matmul_runs_on_this_cpu():
    [result] = gpu.matmul_throughput([32], ["bfloat16"], "cpu", repeats=1, warmup=0)
    assert result.timing is not None and result.flops_per_s > 0


def test_bandwidth_counts_a_read_and_a_write_on_a_fake_clock(monkeypatch):
    ticks = iter(range(1000))

    def moving_clock():  # every reading is 0.5 s after the one before
        return 0.5 * next(ticks)

    monkeypatch.setattr(gpu.time, "perf_counter", moving_clock)
    result = gpu.memory_bandwidth(1024, "cpu", repeats=3, warmup=1)
    assert result.nbytes == 1024
    assert result.bytes_moved == 2048
    assert result.timing.samples == (0.5, 0.5, 0.5)
    assert result.bytes_per_s == 2048 / 0.5 == 4096


def test_fraction_of_peak():
    assert gpu.fraction_of_peak(39e12, 312e12) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="peak must be positive"):
        gpu.fraction_of_peak(1.0, 0.0)


@pytest.mark.parametrize("call, message", [
    (lambda: gpu.matmul_throughput([], ["float32"], "cpu"), "at least one matrix size"),
    (lambda: gpu.matmul_throughput([0], ["float32"], "cpu"), "each size must be a positive int"),
    (lambda: gpu.matmul_throughput([8], [], "cpu"), "at least one dtype"),
    (lambda: gpu.matmul_throughput([8], ["float64"], "cpu"), "unknown dtype 'float64'"),
    (lambda: gpu.matmul_throughput([8], [torch.int8], "cpu"), "expected one of float32, bfloat16, float16"),
    (lambda: gpu.memory_bandwidth(0, "cpu"), "nbytes must be a positive int"),
    (lambda: gpu.memory_bandwidth(-5, "cpu"), "nbytes must be a positive int"),
    (lambda: gpu.memory_bandwidth(2.5, "cpu"), "nbytes must be a positive int"),
    (lambda: gpu.time_it(lambda: None, device="tpu-please"), "unknown device"),
    (lambda: gpu.PUBLISHED_GPUS["T4"].peak_flops("int4"), "unknown dtype"),
])
def test_value_errors_say_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the roofline -----------------------------------------------------------------------------------------------

def test_roofline_of_one_linear_layer_by_hand():
    [point] = gpu.roofline_points(nn.Linear(100, 10), (8, 100))
    flops = 2 * 8 * 100 * 10                      # 2 x MACs
    values = 8 * 100 + 8 * 10 + (100 * 10 + 10)   # input + output + weights and bias
    assert point.kind == "linear"
    assert point.flops == flops == 16000
    assert point.bytes_moved == values * 4 == 7560
    assert point.intensity == pytest.approx(16000 / 7560)


def test_roofline_of_a_depthwise_conv_by_hand():
    conv = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
    [point] = gpu.roofline_points(conv, (1, 16, 8, 8))
    macs = 16 * 8 * 8 * 9                 # each output value: one 3x3 window of its own channel
    values = 16 * 8 * 8 + 16 * 8 * 8 + 16 * 9
    assert point.kind == "depthwise 3x3 conv"
    assert point.flops == 2 * macs == 18432
    assert point.bytes_moved == values * 4 == 8768
    assert point.intensity == pytest.approx(18432 / 8768)   # about 2 FLOP/B: memory-bound on any GPU


def test_roofline_bytes_scale_with_the_bytes_per_value():
    [point] = gpu.roofline_points(nn.Linear(100, 10), (8, 100), bytes_per_value=2)
    assert point.bytes_moved == 7560 // 2


def test_mobilenet_depthwise_convs_are_less_intense_than_resnet50s_3x3_convs():
    resnet = gpu.roofline_points(build("resnet50", device="meta"), (1, 3, 224, 224))
    mobilenet = gpu.roofline_points(build("mobilenet_v2", device="meta"), (1, 3, 224, 224))
    resnet_3x3 = [p.intensity for p in resnet if p.kind == "3x3 conv"]
    depthwise = [p.intensity for p in mobilenet if p.kind == "depthwise 3x3 conv"]
    assert len(resnet_3x3) == 16      # one per bottleneck block: 3 + 4 + 6 + 3
    assert len(depthwise) == 17       # one per inverted residual block: 1 + 2 + 3 + 4 + 3 + 3 + 1
    assert max(depthwise) < min(resnet_3x3)
    a100_ridge = 19.5e12 / 2039e9
    assert max(depthwise) < a100_ridge   # memory-bound: left of the ridge point


def test_roofline_figure_has_log_axes_labels_and_the_peak():
    points = {"linear": gpu.roofline_points(nn.Linear(64, 64), (8, 64))}
    fig = roofline_figure(19.5e12, 2039e9, points, "A100 SXM 80 GB (published peaks)")
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert "intensity" in ax.get_xlabel() and "FLOP" in ax.get_xlabel()
    assert "TFLOP/s" in ax.get_ylabel()
    assert "A100" in ax.get_title()
    roof = ax.lines[0].get_ydata()
    assert max(roof) == pytest.approx(19.5)   # flat at the peak, in TFLOP/s
    assert min(roof) < 19.5                   # and sloped left of the ridge


def test_roofline_figure_refuses_a_zero_peak():
    with pytest.raises(ValueError, match="must be positive"):
        roofline_figure(0.0, 1e9, {}, "nothing")


# --- published peaks ---------------------------------------------------------------------------------------------

def test_every_published_gpu_has_a_source_with_a_year():
    assert set(gpu.PUBLISHED_GPUS) == {"GTX 1060 6 GB", "T4", "V100 SXM2 (16/32 GB)", "A100 SXM 80 GB",
                                       "H100 SXM 80 GB", "RTX 4090"}
    for name, spec in gpu.PUBLISHED_GPUS.items():
        assert spec.name == name
        assert re.search(r"\((19|20)\d\d\)", spec.source), name
        assert spec.fp32_tflops > 0 and spec.bandwidth_gbs > 0 and spec.memory_gb > 0
        if spec.fp16_tensor_tflops is not None:
            assert spec.fp16_tensor_tflops > spec.fp32_tflops, name


def test_ridge_points_by_hand():
    a100 = gpu.PUBLISHED_GPUS["A100 SXM 80 GB"]
    assert a100.ridge_point("float32") == pytest.approx(19.5e12 / 2039e9)       # about 9.6 FLOP/B
    assert a100.ridge_point(torch.bfloat16) == pytest.approx(312e12 / 2039e9)   # about 153 FLOP/B
    assert gpu.PUBLISHED_GPUS["GTX 1060 6 GB"].ridge_point("float16") is None  # no tensor cores
