"""How long something took, measured right: a stopwatch, and repeated timings of a function.

A GPU runs kernels asynchronously: the call returns when the work is queued, not done.  So
every clock here waits for the device first (``synchronize``), and ``time_it`` times CUDA
calls with CUDA events.  ``Stopwatch`` times one block of code (a training run, a step);
``time_it`` times a function several times after warming up, with an optional time budget,
and returns a ``Timing`` that names the device it ran on.

>>> with Stopwatch() as watch:
...     _ = sum(range(100))
>>> watch.seconds >= 0
True
>>> timing = time_it(lambda: sum(range(100)), repeats=3, warmup=1)
>>> len(timing.samples), timing.min <= timing.median <= timing.max
(3, True)
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from dlcourse.hardware.device import DeviceLike, as_device, describe_device
from dlcourse.validation import checked_int


def synchronize(dev: DeviceLike) -> None:
    """Wait until every kernel queued on ``dev`` has finished (nothing to wait for on the CPU).

    >>> synchronize("cpu")
    """
    dev = as_device(dev)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "synchronize"):
            mps.synchronize()


class Stopwatch:
    """Wall-clock seconds (``time.perf_counter``) of a block of code, waiting for ``device`` if one is given.

    Used as ``with Stopwatch() as watch: ...``: ``watch.seconds`` is the block's time once it
    has ended, and the time so far while it runs.  Or started by hand, ``watch =
    Stopwatch().start()``, and read when the work is done.  With a ``device`` (a GPU), the
    device is synchronised when the watch starts, stops and is read, so that the time is the
    work's and not only its queuing.

    >>> with Stopwatch("cpu") as watch:
    ...     _ = sum(range(1000))
    >>> took = watch.seconds
    >>> took >= 0 and watch.seconds == took        # stopped: it reads the same
    True
    >>> Stopwatch().start().seconds >= 0
    True
    """

    def __init__(self, device: DeviceLike | None = None) -> None:
        self.device = None if device is None else as_device(device)
        self._started: float | None = None
        self._stopped: float | None = None

    def _now(self) -> float:
        if self.device is not None:
            synchronize(self.device)
        return time.perf_counter()

    def start(self) -> Stopwatch:
        """Start (or restart) the watch; returns it."""
        self._stopped = None
        self._started = self._now()
        return self

    def stop(self) -> float:
        """Stop the watch; returns the seconds since it started."""
        self._stopped = self._now()
        return self.seconds

    @property
    def seconds(self) -> float:
        """Seconds from start to stop, or to now while the watch runs."""
        if self._started is None:
            raise RuntimeError("the stopwatch was never started: use it in a with block, or call start()")
        end = self._now() if self._stopped is None else self._stopped
        return end - self._started

    def __enter__(self) -> Stopwatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Timing:
    """Seconds per call of a timed function, one sample per repeat, and where it ran.

    >>> t = Timing((0.3, 0.1, 0.2), "CPU: test")
    >>> t.median, t.min, t.max, round(t.spread, 12)
    (0.2, 0.1, 0.3, 0.2)
    """

    samples: tuple[float, ...]
    device: str

    @property
    def median(self) -> float:
        """The median sample: the figure to report (robust to a slow outlier)."""
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        """The fastest sample."""
        return min(self.samples)

    @property
    def max(self) -> float:
        """The slowest sample."""
        return max(self.samples)

    @property
    def spread(self) -> float:
        """max - min, in seconds: how much the samples disagree."""
        return self.max - self.min


def time_it(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, device: DeviceLike = "cpu",
            budget_s: float | None = None) -> Timing:
    """Time ``fn()``: ``warmup`` calls not timed, then ``repeats`` timed calls.

    ``device`` is where ``fn``'s work runs.  A GPU runs kernels asynchronously, so on CUDA each
    call is timed with CUDA events and the device is synchronised before reading them; on MPS
    the device is synchronised before the clock is read; on the CPU ``time.perf_counter`` times
    each call.

    ``budget_s`` caps the wall-clock time: once the calls so far (warm-up included) have used
    it, no further call starts.  At least one call is timed, so a single call longer than the
    budget still overruns it: probe with a small case first (``matmul_throughput`` does).
    ``Timing.samples`` then holds fewer than ``repeats`` samples.

    >>> timing = time_it(lambda: torch.ones(100).sum(), repeats=4, warmup=2)
    >>> len(timing.samples), timing.device.startswith("CPU")
    (4, True)
    >>> import time
    >>> len(time_it(lambda: time.sleep(0.02), repeats=100, warmup=0, budget_s=0.05).samples) < 100
    True
    """
    if not callable(fn):
        raise ValueError(f"time_it needs a function of no arguments, got {type(fn).__name__}")
    checked_int("repeats", repeats, minimum=1)
    checked_int("warmup", warmup, minimum=0)
    check_budget(budget_s)
    dev = as_device(device)
    begun = time.perf_counter()

    def over_budget() -> bool:
        return budget_s is not None and time.perf_counter() - begun >= budget_s

    for _ in range(warmup):
        if over_budget():
            break
        fn()
    synchronize(dev)
    samples: list[float] = []
    for _ in range(repeats):
        if samples and over_budget():
            break
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(dev)
            samples.append(start.elapsed_time(end) / 1000.0)  # milliseconds -> seconds
        else:
            with Stopwatch(dev) as watch:
                fn()
            samples.append(watch.seconds)
    return Timing(tuple(samples), describe_device(dev))


def check_budget(budget_s: object) -> None:
    """A time budget is a positive, finite number of seconds, or None for no limit; anything else: ValueError.

    >>> check_budget(None), check_budget(2.5)
    (None, None)
    >>> check_budget(0)
    Traceback (most recent call last):
    ...
    ValueError: budget_s must be a positive number of seconds (or None for no limit), got 0
    """
    if budget_s is not None and (isinstance(budget_s, bool) or not isinstance(budget_s, (int, float))
                                 or not budget_s > 0 or math.isinf(budget_s)):
        raise ValueError(f"budget_s must be a positive number of seconds (or None for no limit), got {budget_s!r}")
