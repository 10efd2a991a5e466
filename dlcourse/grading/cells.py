"""What each cell of an assignment notebook is to nbgrader: its role, its grade id, its points.

The one place that reads a cell's ``nbgrader`` metadata.  The roles are nbgrader's own
(``nbgrader.utils``), so the grading reads a cell as nbgrader does:

- ``is_solution``: an answer the student writes (nbgrader clears its solution when it releases);
- ``is_grade``: a cell that gives points: a test cell, or an answer graded by hand;
- ``is_locked``: a cell nbgrader restores from the gradebook (every test cell, never an answer);
- ``is_task``: a task cell (a written task graded by hand, with no answer cell of its own).

and a few of the course's own: ``is_test`` (a test cell, run by the grader), ``is_graded_by_hand``
(an answer that gives points), ``grade_id``, ``points``, and ``HIDDEN_TESTS`` (the part of a test
cell students never see).  These read a notebook nbgrader would accept; a submission's metadata,
still unchecked, is read with ``submitted_metadata`` and kept only when ``is_valid_metadata``
says it is what nbgrader writes.

>>> import nbformat
>>> test = nbformat.v4.new_code_cell("assert f(1) == 2", metadata={"nbgrader": {
...     "grade_id": "q1_tests", "grade": True, "solution": False, "locked": True, "points": 2}})
>>> grade_id(test), points(test), is_test(test), is_locked(test), is_graded_by_hand(test)
('q1_tests', 2.0, True, True, False)
>>> plain = nbformat.v4.new_markdown_cell("Some text")
>>> grade_id(plain), grade_id(plain, "a cell"), points(plain), bool(is_grade(plain))
(None, 'a cell', 0.0, False)
"""

from __future__ import annotations

import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.utils import is_grade, is_locked, is_solution, is_task

__all__ = ["GRADE_ID", "HIDDEN_TESTS", "grade_id", "is_grade", "is_graded_by_hand", "is_locked", "is_solution",
           "is_task", "is_test", "is_valid_metadata", "marked_locked", "metadata", "points", "submitted_metadata"]

GRADE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")   # a grade id as the course accepts it from a submission
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)  # a test cell's hidden tests


def metadata(cell: NotebookNode) -> dict[str, Any]:
    """The cell's ``nbgrader`` metadata (the dict itself, so a change to it stays), or {} when it has none."""
    return cell.metadata.get("nbgrader", {})


def grade_id(cell: NotebookNode, default: str | None = None) -> str | None:
    """The cell's nbgrader grade id, or ``default`` when it has none."""
    return metadata(cell).get("grade_id", default)


def points(cell: NotebookNode) -> float:
    """The points the cell gives (0 for a cell that gives none)."""
    return float(metadata(cell).get("points") or 0)


def is_test(cell: NotebookNode) -> bool:
    """A test cell: code that gives points and is not an answer (the grader runs it outside the sandbox)."""
    return cell.cell_type == "code" and bool(is_grade(cell)) and not is_solution(cell)


def is_graded_by_hand(cell: NotebookNode) -> bool:
    """An answer that gives points: the grader (a person) scores it."""
    return bool(is_grade(cell)) and bool(is_solution(cell))


def marked_locked(cell: NotebookNode) -> bool:
    """The cell's own ``locked`` flag, as written (``is_locked`` also counts every test cell, and no answer)."""
    return bool(metadata(cell).get("locked"))


def submitted_metadata(cell: Any) -> Any:
    """A submitted cell's ``nbgrader`` metadata, unchecked: anything at all, or None when it has none.

    A cell of a submission may hold anything; check what this returns with ``is_valid_metadata``.

    >>> submitted_metadata({"metadata": {"nbgrader": ["not", "a", "dict"]}}), submitted_metadata("a cell?")
    (['not', 'a', 'dict'], None)
    """
    if not isinstance(cell, dict) or not isinstance(cell.get("metadata"), dict):
        return None
    return cell["metadata"].get("nbgrader")


def is_valid_metadata(meta: Any) -> bool:
    """nbgrader's cell metadata as nbgrader writes it: a dict, a grade id, boolean flags, numeric points.

    >>> is_valid_metadata({"grade_id": "q1", "solution": True}), is_valid_metadata({"grade_id": "q1", "grade": "yes"})
    (True, False)
    """
    if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
        return False
    if not GRADE_ID.fullmatch(meta["grade_id"]):
        return False
    if any(key in meta and not isinstance(meta[key], bool) for key in ("grade", "solution", "locked", "task")):
        return False
    value = meta.get("points", 0)
    return isinstance(value, (int, float)) and not isinstance(value, bool)
