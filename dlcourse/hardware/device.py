"""Where torch runs: the number of CPU threads it may use.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from dlcourse.validation import checked_int


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
    checked_int("threads", threads)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
