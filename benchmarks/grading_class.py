"""Time the autograding of a large class with the pool of nbgrader workers, and of a resumed run.

A simulated class of assignment 01 (500 submissions by default) of mixed quality, in turn: the
instructor's solution, the honest variants of ``tests/student_answers.py``, the mistakes of
``tests/data/mistakes/01_neural_nets``, the blank notebook; every 50th submission (2 %) is one of
the hostile notebooks of ``benchmarks/grading.py`` (an endless loop, ``os._exit``, an hour's
sleep, a flood of output, a file that is not JSON).  In a temporary copy of the course:

1. **the class**: ``collect``, then ``autograde`` with the sandbox on and all cores (the pool of
   ``dlcourse.grading.pool``): total wall time and seconds per submission (target: at most 2 s on
   two cores); every honest, mistaken and blank submission's score is checked against the points
   its answers deserve.
2. **a resumed run**: the same class collected in a second course; ``python -m dlcourse.grading
   autograde`` is killed (SIGKILL) once half the submissions are recorded as graded, then run
   again: the rerun's time and how many it graded (only the rest).

Run: ``.venv/bin/python benchmarks/grading_class.py`` (``--class-size N``, ``--jobs N``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from grading import HOSTILE  # noqa: E402  (benchmarks/grading.py: the same hostile notebooks)
from student_answers import HONEST, MISTAKES  # noqa: E402
from test_grading import A1, FULL, POINTS, _cell, make_course  # noqa: E402  (the same course as the tests)

from dlcourse.grading import commands as grading  # noqa: E402
from dlcourse.grading import pool  # noqa: E402

HOSTILE_EVERY = 50   # one submission in 50 is hostile (2 %)


def kinds(size: int) -> list[str]:
    """The kind of each submission: honest ones, mistakes and blanks in turn, every 50th hostile.

    >>> kinds(7)[:2], kinds(7)[6]
    (['solution', 'honest:float32 and loops'], 'solution')
    >>> kinds(100)[49], kinds(100)[99], sum(kind.startswith("hostile:") for kind in kinds(500))
    ('hostile:loop', 'hostile:os_exit', 10)
    """
    plain = ["solution", *(f"honest:{v}" for v in HONEST[A1]), *(f"mistake:{m}" for m in MISTAKES[A1]), "blank"]
    hostile = [f"hostile:{kind}" for kind in HOSTILE]
    return [hostile[(index // HOSTILE_EVERY) % len(hostile)] if index % HOSTILE_EVERY == HOSTILE_EVERY - 1
            else plain[index % len(plain)] for index in range(size)]


def expected_score(kind: str) -> float | None:
    """The points a submission of ``kind`` deserves (None for the hostile ones: not checked)."""
    if kind == "solution" or kind.startswith("honest:"):
        return FULL
    if kind.startswith("mistake:"):
        test_id = MISTAKES[A1][kind.split(":", 1)[1]][0]
        return FULL - POINTS[test_id.removesuffix("_tests")]
    return 0 if kind == "blank" else None


def build(course: Path, folder: Path, size: int) -> dict[str, str]:
    """One submission per kind in ``folder``; returns {student: kind}."""
    solution = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    blank = nbformat.read(course / "release" / A1 / f"{A1}.ipynb", as_version=4)
    folder.mkdir()
    students = {}
    for index, kind in enumerate(kinds(size)):
        student = f"s{index:04d}"
        students[student] = kind
        path = folder / f"{student}.ipynb"
        group, _, which = kind.partition(":")
        if kind == "hostile:not_json":
            path.write_text("{ not json", encoding="utf-8")
            continue
        notebook = nbformat.from_dict(blank if kind == "blank" else solution)
        answers: dict[str, str] = {}
        if group == "honest":
            answers = HONEST[A1][which]
        elif group == "mistake":
            _test_id, answer_id, source = MISTAKES[A1][which]
            answers = {answer_id: source}
        elif group == "hostile":
            grade_id, source = HOSTILE[which]
            answers = {grade_id: source}
        for grade_id, source in answers.items():
            _cell(notebook, grade_id).source = source.strip() + "\n"
        nbformat.write(notebook, path)
    return students


def scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: float(s.score) for s in gradebook.assignment_submissions(A1)}


def records(course: Path) -> int:
    folder = course / pool.STATE / A1
    return sum(1 for _ in folder.glob("*.json")) if folder.exists() else 0


def resumed(course: Path, size: int, jobs: int | None) -> tuple[float, int, float, int]:
    """Kill the command once half the class is recorded, run it again: (seconds until the kill, recorded then,
    seconds of the rerun, graded by the rerun)."""
    command = [sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", A1, "--no-progress",
               *(["--jobs", str(jobs)] if jobs else [])]
    start = time.perf_counter()
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while records(course) < size // 2 and run.poll() is None:
        time.sleep(0.2)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    killed_after, recorded = time.perf_counter() - start, records(course)
    lines: list[str] = []
    start = time.perf_counter()
    grading.autograde(course, A1, jobs=jobs, progress=False, report=lines.append)
    rerun = time.perf_counter() - start
    graded_now = int(lines[-1].split(" graded now")[0].rsplit(" ", 1)[-1])
    return killed_after, recorded, rerun, graded_now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class-size", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=None, help="nbgrader workers (default: the cores)")
    args = parser.parse_args()
    size = args.class_size
    with tempfile.TemporaryDirectory() as folder:
        course = make_course(Path(folder) / "course", [A1])
        students = build(course, Path(folder) / "inbox", size)
        start = time.perf_counter()
        grading.collect(course, A1, Path(folder) / "inbox")
        collected = time.perf_counter() - start
        second = Path(shutil.copytree(course, Path(folder) / "resumed", symlinks=True))
        start = time.perf_counter()
        grading.autograde(course, A1, jobs=args.jobs, progress=sys.stderr.isatty())
        graded = time.perf_counter() - start
        got = scores(course)
        wrong = sorted(s for s, kind in students.items() if expected_score(kind) is not None
                       and got.get(s) != expected_score(kind))
        checked = sum(expected_score(kind) is not None for kind in students.values())
        hostile = sum(kind.startswith("hostile:") for kind in students.values())
        per = graded / size
        print(f"class of {size} ({hostile} hostile), {args.jobs or os.cpu_count()} workers: collect {collected:.1f} s, "
              f"autograde {graded:.1f} s, {per:.2f} s per submission (target <= 2 s): "
              f"{'met' if per <= 2 else 'MISSED'}")
        print(f"scores as deserved: {checked - len(wrong)} of {checked} checked"
              + (f"; WRONG: {', '.join(wrong[:10])}" if wrong else ""))
        killed_after, recorded, rerun, graded_now = resumed(second, size, args.jobs)
        print(f"resumed: killed after {killed_after:.1f} s with {recorded} of {size} graded; the rerun graded "
              f"{graded_now} in {rerun:.1f} s ({rerun / max(graded_now, 1):.2f} s per submission it graded; "
              f"{'only the rest' if graded_now == size - recorded else 'NOT only the rest'})")


if __name__ == "__main__":
    main()
