"""Time the autograding of a class of 30, honest only and with hostile submissions.

Two classes of assignment 01 are graded with the course's own commands (collect, autograde,
feedback, export) in a temporary copy of the course, each notebook in its bubblewrap
sandbox, the tests in the grader:

- **honest**: 30 submissions, the instructor's solution and the honest variants of
  ``tests/student_answers.py`` in turn.  Target: at most 2 s per submission on two cores.
- **hostile**: the same class with 5 of them replaced by hostile notebooks (an endless
  loop, a cell that ends the kernel, sleeping in every cell, a flood of output, a file that
  is not JSON).  Each hostile notebook may cost at most its budget, the notebook budget
  (``SandboxedExecute.notebook_budget``, 120 s), so the class may take at most that much
  longer per hostile submission; what they cost is printed against it.

Run: ``.venv/bin/python benchmarks/grading.py`` (``--class-size N``, ``--hostile K``).
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

from student_answers import HONEST  # noqa: E402
from test_grading import A1, _cell, make_course  # noqa: E402  (the same submissions as the tests)

from dlcourse.grading import commands as grading  # noqa: E402
from dlcourse.grading.preprocessors.sandboxed_execute import SandboxedExecute  # noqa: E402

HOSTILE = {
    "loop": ("q2_answer", "while True:\n    pass\n"),
    "os_exit": ("q3_answer", "import os\nos._exit(0)\n"),
    "sleeper": ("q1_answer", "import time\ntime.sleep(3600)\n"),
    "flood": ("q1_answer", "for _ in range(2000):\n    print('x' * 500_000)\n"),
    "not_json": None,
}


def build(course: Path, folder: Path, kinds: list[str]) -> None:
    """One submission per entry of ``kinds``: "honest" (solution and honest variants in turn) or a hostile kind."""
    solution = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    variants = [{}, *HONEST.get(A1, {}).values()]
    folder.mkdir()
    for index, kind in enumerate(kinds):
        path = folder / f"s{index:02d}_{kind}.ipynb"
        if kind == "not_json":
            path.write_text("{ not json", encoding="utf-8")
            continue
        notebook = nbformat.from_dict(solution)
        answers = variants[index % len(variants)] if kind == "honest" else dict([HOSTILE[kind]])
        for grade_id, source in answers.items():
            _cell(notebook, grade_id).source = source
        nbformat.write(notebook, path)


def grade(kinds: list[str]) -> float:
    """Seconds to collect, autograde, give feedback to and export a class of ``kinds``."""
    with tempfile.TemporaryDirectory() as folder:
        root = make_course(Path(folder) / "course", [A1])
        inbox = Path(folder) / "inbox"
        build(root, inbox, kinds)
        start = time.perf_counter()
        grading.collect(root, A1, inbox)
        grading.autograde(root, A1)
        grading.feedback(root, A1)
        grading.export(root)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--hostile", type=int, default=5)
    args = parser.parse_args()
    size, hostile = args.class_size, min(args.hostile, args.class_size)
    honest = grade(["honest"] * size)
    per_honest = honest / size
    print(f"honest class of {size}: {honest:6.1f} s, {per_honest:.2f} s per submission (target <= 2 s): "
          f"{'met' if per_honest <= 2 else 'MISSED'}")
    kinds = list(HOSTILE)
    mixed_kinds = ["honest"] * (size - hostile) + [kinds[i % len(kinds)] for i in range(hostile)]
    mixed = grade(mixed_kinds)
    extra = (mixed - per_honest * (size - hostile)) / max(hostile, 1)
    budget = SandboxedExecute.notebook_budget.default_value
    print(f"with {hostile} hostile ({', '.join(mixed_kinds[size - hostile:])}): {mixed:6.1f} s; "
          f"each hostile one cost {extra:.1f} s of the class's time (its budget: {budget} s): "
          f"{'within' if extra <= budget else 'OVER'}")


if __name__ == "__main__":
    main()
