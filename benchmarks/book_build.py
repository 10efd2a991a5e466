"""Time a cold book build (empty execution cache) and a warm one (nothing changed).

Builds into a temporary folder, so the book in _build/ is left alone.  Targets on two
cores: cold under 5 minutes, warm under 60 seconds for the first chapters.

Run: ``make bench-book`` (or ``.venv/bin/python benchmarks/book_build.py``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(output: Path) -> float:
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(REPO),
               "--path-output", str(output), "--warningiserror", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"the build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder)
        cold = build(output)
        warm = build(output)
        pages = len(list((output / "_build" / "html" / "book").glob("*.html")))
    print(f"pages built: {pages}")
    print(f"cold build (empty cache): {cold:6.1f} s   target < 300 s")
    print(f"warm build (no change):   {warm:6.1f} s   target <  60 s")
    print(f"cold / warm: {cold / warm:.1f}x")


if __name__ == "__main__":
    main()
