"""Time the autograding of one submission and of a class of 30.

The class mixes correct (the instructor's version), blank and adversarial submissions
(an infinite loop, sys.exit, os._exit, snooping on the instructor's files, a gigabyte of
output, a file that is not JSON), built like those of tests/test_grading.py, and is graded
with the course's own commands in a temporary copy of the course: each notebook in its
bubblewrap sandbox, the tests in the grader.  Target: at most 5 s per submission on two
cores.

Run: ``.venv/bin/python benchmarks/grading.py`` (``--class-size N`` to change the class).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_grading import A1, _cell, make_course  # noqa: E402  (the same submissions as the tests)

from dlcourse import grading  # noqa: E402

ATTACKS = {
    "loop": ("q2_answer", "while True:\n    pass\n"),
    "exit": ("q1_answer", "import sys\nsys.exit()\n"),
    "os_exit": ("q3_answer", "import os\nos._exit(0)\n"),
    "snoop": ("q1_answer", "print(open('../../../gradebook.db', 'rb').read()[:100])\n"),
    "flood": ("q1_answer", "for _ in range(2000):\n    print('x' * 500_000)\n"),
}


def build(course: Path, folder: Path, size: int) -> None:
    solution = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    blank = nbformat.read(course / "release" / A1 / f"{A1}.ipynb", as_version=4)
    folder.mkdir()
    kinds = ["correct", "blank", *ATTACKS, "not_json"]
    for index in range(size):
        kind = kinds[index % len(kinds)]
        path = folder / f"s{index:02d}_{kind}.ipynb"
        if kind == "not_json":
            path.write_text("{ not json", encoding="utf-8")
            continue
        notebook = nbformat.from_dict(blank if kind == "blank" else solution)
        if kind in ATTACKS:
            grade_id, source = ATTACKS[kind]
            _cell(notebook, grade_id).source = source
        nbformat.write(notebook, path)


def grade(size: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        root = make_course(Path(folder) / "course", [A1])
        inbox = Path(folder) / "inbox"
        build(root, inbox, size)
        start = time.perf_counter()
        grading.collect(root, A1, inbox)
        grading.autograde(root, A1)
        grading.feedback(root, A1)
        grading.export(root)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class-size", type=int, default=30)
    args = parser.parse_args()
    one = grade(1)
    print(f"one correct submission: {one:6.1f} s (collect, autograde, feedback, export)")
    whole = grade(args.class_size)
    print(f"class of {args.class_size}:          {whole:6.1f} s, {whole / args.class_size:.1f} s per submission   "
          "target <= 5 s")
    print("(each infinite loop costs the per-cell timeout, 20 s, by design)")


if __name__ == "__main__":
    main()
