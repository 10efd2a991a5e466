"""Time the book as ``make book`` builds it: both editions, cold (empty cache) and warm (nothing changed).

The repository's files (what git tracks, and new files it does not ignore) are copied into a
temporary folder and built there, so the book in ``_build/`` is left alone.  Each build is
``jupyter-book build`` (English; executes the chapters) then ``python -m dlcourse.book.editions vi``
(Vietnamese, from the same cache), as in the Makefile.  Printed: every chapter's execution
time (from the execution cache), the cold and the warm totals, and the targets on two cores
of a CPU without fast float16: a chapter within 60 s, a cold build within 5 minutes, a warm
one within 60 s.

Run: ``make bench-book`` (or ``.venv/bin/python benchmarks/book_build.py``).
``--threads 1`` limits torch in the chapters' kernels to one thread, as CI's build does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dlcourse.hardware.timing import Stopwatch

REPO = Path(__file__).resolve().parents[1]
CHAPTER_TARGET_S = 60
COLD_TARGET_S = 300
WARM_TARGET_S = 60


def copy_sources(target: Path) -> None:
    """The files a fresh clone (with this working tree's changes) would have."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run(command: list[str], root: Path, env: dict[str, str]) -> float:
    with Stopwatch() as watch:
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return watch.seconds


def build_both(root: Path, env: dict[str, str]) -> dict[str, float]:
    bin_dir = Path(sys.executable).parent
    english = run([str(bin_dir / "jupyter-book"), "build", str(root), "--warningiserror", "--keep-going"], root, env)
    vietnamese = run([sys.executable, "-m", "dlcourse.book.editions", "vi"], root, env)
    return {"English": english, "Vietnamese": vietnamese}


def chapter_seconds(root: Path) -> dict[str, float]:
    """Each chapter's execution time, as the execution cache recorded it."""
    from jupyter_cache import get_cache

    records = get_cache(str(root / "_build" / ".jupyter_cache")).list_cache_records()
    return {Path(record.uri).stem: record.data.get("execution_seconds", float("nan")) for record in records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the chapters' kernels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-book-") as folder:
        root = Path(folder)
        copy_sources(root)
        env = dict(os.environ, PYTHONPATH=str(root))
        if args.threads:
            env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        cold = build_both(root, env)
        chapters = chapter_seconds(root)
        warm = build_both(root, env)
        pages = len(list((root / "_build" / "html" / "book").glob("*.html")))
        pages_vi = len(list((root / "_build" / "html" / "vi" / "book").glob("*.html")))
    threads = f"{args.threads} thread(s)" if args.threads else "torch's default threads"
    print(f"book build, both editions ({pages} + {pages_vi} pages), {os.cpu_count()} CPUs, {threads}")
    print()
    print("| chapter | execution (cold) |")
    print("|---|---:|")
    for name, seconds in sorted(chapters.items(), key=lambda item: -item[1]):
        flag = "" if seconds <= CHAPTER_TARGET_S else f"  over the {CHAPTER_TARGET_S} s target"
        print(f"| {name} | {seconds:.1f} s{flag} |")
    print(f"| all chapters | {sum(chapters.values()):.1f} s |")
    print()
    for label, timings, target in (("cold (empty cache)", cold, COLD_TARGET_S), ("warm (no change)", warm,
                                                                                  WARM_TARGET_S)):
        total = sum(timings.values())
        parts = ", ".join(f"{edition} {seconds:.1f} s" for edition, seconds in timings.items())
        verdict = "within" if total <= target else "OVER"
        print(f"{label:19} {total:7.1f} s  ({parts}); {verdict} the {target} s target")


if __name__ == "__main__":
    main()
