"""What a chapter needs to know about where it runs: whether the book is being built (no kernel
behind the page), and a progress bar that stays quiet in the built book.
"""

from __future__ import annotations

import os
from collections.abc import Iterator


def progress_range(total: int, desc: str, unit: str = "epoch", progress: bool = True) -> Iterator[int]:
    """``range(total)`` with a tqdm bar: live in Jupyter, printed once in its final state when the
    book is built (a static page cannot redraw a bar).  The final line is printed when the loop
    runs to the end.

    >>> list(progress_range(3, "demo", progress=False))
    [0, 1, 2]
    """
    import sys

    from tqdm import tqdm

    from dlcourse.display.notebook import is_book_build
    from dlcourse.hardware.timing import Stopwatch

    live = progress and not is_book_build()
    watch = Stopwatch().start()
    yield from tqdm(range(total), desc=desc, unit=unit, file=sys.stdout, disable=not live, ncols=80)
    if progress and not live:
        print(tqdm.format_meter(total, total, watch.seconds, ncols=80, prefix=desc, unit=unit))


def is_book_build() -> bool:
    """True while the book is being built (no live kernel behind the page)."""
    return os.environ.get("DLCOURSE_BOOK_BUILD") == "1"
