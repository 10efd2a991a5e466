"""Every measurement a chapter runs keeps to its time budget on slow hardware.

This machine may have fast float16 (or be idle); the book must also build where an operation
is a hundred times slower.  So each budgeted demo runs here against a deliberately slow
operation (a sleep standing in for the work) and must return within its budget plus one call,
and say what it skipped.  The sleeps make the figures exact, whatever the machine.
"""

import time

import pytest
import torch

from dlcourse.hardware import gpu, parallel

#: Allowance beyond a budget: the one call that may start before the budget is spent, and Python.
ONE_SLOW_CALL = 0.5


def test_time_it_stops_repeating_when_its_budget_is_spent():
    start = time.perf_counter()
    timing = gpu.time_it(lambda: time.sleep(0.1), repeats=1000, warmup=1, budget_s=0.5)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5 + 0.1 + ONE_SLOW_CALL
    assert 1 <= len(timing.samples) <= 5                 # 0.1 s of warm-up, then at most 0.4 s of samples
    assert timing.median == pytest.approx(0.1, abs=0.05)


def test_time_it_always_times_one_call_even_when_the_warm_up_spent_the_budget():
    timing = gpu.time_it(lambda: time.sleep(0.05), repeats=5, warmup=1, budget_s=0.01)
    assert len(timing.samples) == 1


class SlowHalfMatmul:
    """torch.mm where float16 runs at 1 GFLOP/s and float32 at 1 TFLOP/s (sleeps of 2 n^3 / rate s).

    Both are sleeps, so the test means the same on a fast, a slow or a busy machine (a real
    float32 product of 2048 x 2048 can itself overrun the budget on a loaded CPU).
    """

    RATES = {torch.float16: 1e9, torch.float32: 1e12}

    def __init__(self):
        self.calls = []

    def __call__(self, a, b):
        self.calls.append((a.shape[0], a.dtype))
        time.sleep(2 * a.shape[0] ** 3 / self.RATES[a.dtype])
        return torch.empty(a.shape[0], b.shape[1], dtype=a.dtype)


def test_matmul_throughput_probes_extrapolates_and_skips_what_would_overrun(monkeypatch):
    slow = SlowHalfMatmul()
    monkeypatch.setattr(torch, "mm", slow)
    sizes = [128, 256, 512, 1024, 2048]     # float16 at 2048: 17 s a call at 1 GFLOP/s
    start = time.perf_counter()
    results = gpu.matmul_throughput(sizes, ["float32", "float16"], "cpu", repeats=5, budget_s=2.0)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0 + ONE_SLOW_CALL
    half = {r.size: r for r in results if r.dtype == "float16"}
    assert half[128].timing is not None and half[2048].timing is None
    assert half[128].flops_per_s == pytest.approx(1e9, rel=0.5)        # the sleep's rate, measured
    skipped = [n for n, r in half.items() if r.skipped]
    assert skipped == sizes[sizes.index(skipped[0]):]                  # once a size is skipped, so are the larger
    assert all("skipped" in half[n].note and "budget" in half[n].note for n in skipped)
    assert (2048, torch.float16) not in slow.calls and (1024, torch.float16) not in slow.calls
    assert gpu.slowdown(results, "float16") > 10                       # reported as slow, not hidden
    assert all(r.timing is not None for r in results if r.dtype == "float32")


def test_matmul_throughput_without_a_budget_measures_every_size(monkeypatch):
    slow = SlowHalfMatmul()
    monkeypatch.setattr(torch, "mm", slow)
    results = gpu.matmul_throughput([16, 32], ["float16"], "cpu", repeats=2, warmup=0)
    assert all(r.timing is not None and not r.skipped for r in results)


def test_memory_bandwidth_keeps_to_its_budget_with_a_slow_copy(monkeypatch):
    real_copy = torch.Tensor.copy_

    def slow_copy(self, source, *args, **kwargs):
        time.sleep(0.2)
        return real_copy(self, source, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "copy_", slow_copy)
    start = time.perf_counter()
    result = gpu.memory_bandwidth(2**20, "cpu", repeats=100, budget_s=0.8)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.8 + ONE_SLOW_CALL
    assert 1 <= len(result.timing.samples) < 100


def test_processes_that_overrun_their_budget_are_stopped_with_a_message():
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"2 processes of sleep did not finish within their budget of 3 s"):
        parallel.run_local(time.sleep, 2, 600.0, budget_s=3)
    assert time.perf_counter() - start < 3 + 2 * ONE_SLOW_CALL


def test_the_pipeline_demo_keeps_to_its_budget():
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="did not finish within their budget of 0.2 s"):
        parallel.pipeline_local(parallel.PipelineConfig(), stages=2, budget_s=0.2)   # starting 2 processes alone
    assert time.perf_counter() - start < 0.2 + 2 * ONE_SLOW_CALL                     # takes longer


@pytest.mark.parametrize("budget", [0, -1.0, float("inf"), "5", True])
def test_budgets_must_be_positive_seconds(budget):
    with pytest.raises(ValueError, match="budget_s must be a positive number of seconds"):
        gpu.time_it(lambda: None, budget_s=budget)
    with pytest.raises(ValueError, match="budget_s must be a positive number of seconds"):
        gpu.matmul_throughput([8], ["float32"], "cpu", budget_s=budget)
    with pytest.raises(ValueError, match="budget_s must be a positive number of seconds"):
        parallel.run_local(time.sleep, 1, 0.0, budget_s=budget)
