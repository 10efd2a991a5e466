"""Where torch runs: which device, described for a reader, and how many CPU threads it may use.

``device()`` picks the best device here; ``pick_device`` the device of one process among
several on a machine (its own GPU, or the CPU); ``as_device`` reads what a caller passed;
``describe_device`` says what a measurement ran on.  ``set_threads`` sets the number of
torch's CPU threads for the whole process (a fresh worker process), ``torch_threads`` for a
block of code, restoring it after.

>>> device().type in {"cuda", "mps", "cpu"}
True
>>> describe_device("cpu").startswith("CPU: ")
True
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator

import torch

from dlcourse.validation import checked_int

DeviceLike = torch.device | str

#: What a configuration or a command line may ask for: the best device here ("auto"), or one kind.
DEVICE_CHOICES = ("auto", "cpu", "cuda")


# --- which device ----------------------------------------------------------------------------------------------

def device() -> torch.device:
    """The best device here: CUDA, then Apple's MPS, then the CPU.

    >>> device().type in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_choice(choice: str) -> str:
    """``choice`` if it is one of ``DEVICE_CHOICES``, else a ValueError that lists them.

    >>> check_choice("auto")
    'auto'
    >>> check_choice("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device must be 'auto', 'cpu' or 'cuda', got 'gpu'
    """
    if choice not in DEVICE_CHOICES:
        listed = ", ".join(repr(c) for c in DEVICE_CHOICES[:-1]) + f" or {DEVICE_CHOICES[-1]!r}"
        raise ValueError(f"device must be {listed}, got {choice!r}")
    return choice


def pick_device(local_rank: int = 0, choice: str = "auto") -> torch.device:
    """The device of the process with this local rank, one of several on a machine: its own GPU, else the CPU.

    ``choice`` is one of ``DEVICE_CHOICES``: "auto" takes the GPU ``cuda:local_rank`` when
    ``device()`` finds CUDA and the CPU otherwise (MPS too: the process groups' backends, gloo
    and nccl, do not carry its tensors); "cuda" insists on that GPU.

    >>> pick_device(0, "cpu")
    device(type='cpu')
    """
    if check_choice(choice) == "cpu" or (choice == "auto" and device().type != "cuda"):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no GPU")
    if local_rank >= torch.cuda.device_count():
        raise ValueError(f"local rank {local_rank} has no GPU: only {torch.cuda.device_count()} visible")
    return torch.device("cuda", local_rank)


def as_device(dev: DeviceLike | None) -> torch.device:
    """``dev`` as a ``torch.device`` (None: ``device()``); a ValueError that lists the choices if it names none.

    >>> as_device("cpu"), as_device(torch.device("cpu"))
    (device(type='cpu'), device(type='cpu'))
    """
    if dev is None:
        return device()
    try:
        return torch.device(dev)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {dev!r}: expected 'cpu', 'cuda', 'cuda:0', 'mps' or a torch.device "
                         f"({error})") from None


def describe_device(dev: DeviceLike | None = None) -> str:
    """A human description of ``dev`` (default: ``device()``), to print beside every measurement.

    A GPU is named by its driver; a CPU by its model, with its cores, its hardware threads and
    the threads torch uses.

    >>> text = describe_device("cpu")
    >>> text.startswith("CPU: ") and "threads" in text
    True
    """
    dev = as_device(dev)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return (f"GPU: {torch.cuda.get_device_name(index)} (CUDA device {index}, "
                f"{props.total_memory / 2**30:.0f} GiB)")
    if dev.type == "mps":
        return f"GPU: Apple silicon via MPS ({platform.machine()}, {_cpu_model()})"
    if dev.type == "cpu":
        cores, threads = _cpu_counts()
        cores_text = f"{cores} cores, " if cores is not None else ""
        return f"CPU: {_cpu_model()} ({cores_text}{threads} threads; torch uses {torch.get_num_threads()})"
    return f"{dev.type} device"


def _cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _cpu_counts() -> tuple[int | None, int]:
    """(physical cores or None if unknown, hardware threads this process may use)."""
    try:
        threads = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        threads = os.cpu_count() or 1
    cores = set()
    physical = "0"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "physical id":
                    physical = value.strip()
                elif key.strip() == "core id":
                    cores.add((physical, value.strip()))
    except OSError:
        pass
    return (len(cores) or None), threads


# --- how many CPU threads -----------------------------------------------------------------------------------------

def set_threads(threads: int) -> None:
    """Let torch use ``threads`` CPU threads from now on, in the whole process: for a fresh worker process.

    Anywhere else, ``torch_threads`` sets the number for a block and restores it after.

    >>> before = torch.get_num_threads()
    >>> set_threads(1); torch.get_num_threads()
    1
    >>> set_threads(before)
    """
    torch.set_num_threads(checked_int("threads", threads))


@contextlib.contextmanager
def torch_threads(threads: int = 1) -> Iterator[None]:
    """Run the block with torch on ``threads`` CPU threads, and restore the number after.

    The chapters' models are small: their many tiny matrix products gain little from a second
    thread and lose a lot when another program keeps the other core busy (torch's threads
    wait for each other), so every training experiment runs on one thread, the same on every
    machine.

    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    before = torch.get_num_threads()
    set_threads(threads)
    try:
        yield
    finally:
        set_threads(before)
