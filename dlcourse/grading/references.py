"""What the grading reads from the instructor's notebook: its rules and its reference answers.

``assignment_settings`` reads the grading rules in the notebook's metadata (what a graded
notebook may import) and its cell order; ``References`` holds its reference answers, question by
question, which stand in for a student's answers that failed their tests.  Both run in the
grader, never in the sandbox.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from dlcourse.grading import cells, sandbox
from dlcourse.grading.runner import python_only


@dataclass
class References:
    """The instructor's reference answers, question by question; they run in the grader, never in the sandbox.

    A mistake costs the question it is in: while a later question's test runs, the functions
    the reference answers of each question that *failed* its test define stand in for the
    notebook's own (a later answer that calls the student's broken ``lstm_cell`` calls the
    reference ``lstm_cell`` instead).  A question that passed keeps the student's functions.
    """

    functions: dict[str, list[str]]       # test grade id -> the functions its question's answers define
    code: list[tuple[str, str]]           # (grade id, source): locked setup cells and answers that define functions
    _space: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, notebook: nbformat.NotebookNode) -> References:
        """Read the instructor's notebook (with its solutions): which question defines which function.

        >>> notebook = nbformat.v4.new_notebook(cells=[
        ...     nbformat.v4.new_code_cell("import math", metadata={"nbgrader": {"grade_id": "setup", "locked": True}}),
        ...     nbformat.v4.new_code_cell("def area(r): return math.pi * r * r",
        ...                               metadata={"nbgrader": {"grade_id": "q1", "solution": True}}),
        ...     nbformat.v4.new_code_cell("assert area(1) > 3", metadata={"nbgrader": {"grade_id": "q1_tests",
        ...                                                                         "grade": True}})])
        >>> references = References.of(notebook)
        >>> references.functions
        {'q1_tests': ['area']}
        >>> round(references.standing_in_for(["q1_tests"])["area"](2), 3)
        12.566
        """
        functions: dict[str, list[str]] = {}
        code: list[tuple[str, str]] = []
        pending: list[str] = []
        for cell in notebook.cells:
            grade_id = cells.grade_id(cell)
            if cell.cell_type != "code" or not grade_id:
                continue
            if cells.is_solution(cell):
                source = python_only(cell.source)
                try:
                    defined = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
                except SyntaxError:
                    defined = []
                if defined:
                    code.append((grade_id, source))
                    pending += [name for name in defined if name not in pending]
            elif cells.is_grade(cell):
                functions[grade_id] = pending
                pending = []
            else:  # the instructor's locked cells: imports, data, helpers
                code.append((grade_id, python_only(cell.source)))
        return cls(functions, code)

    def standing_in_for(self, failed_tests: Sequence[str]) -> dict[str, Callable]:
        """The reference functions of the questions whose tests failed, by name."""
        names = [name for test in failed_tests for name in self.functions.get(test, [])]
        if not names:
            return {}
        if self._space is None:
            space: dict[str, Any] = {"__name__": "__reference__"}
            for grade_id, source in self.code:
                exec(compile(source, f"<reference {grade_id}>", "exec"), space)  # noqa: S102 (the instructor's code)
            self._space = space
        return {name: self._space[name] for name in names if callable(self._space.get(name))}


def assignment_settings(source_notebook: Path) -> dict[str, Any]:
    """The grading rules in the instructor's notebook's metadata (``dlcourse: grading:``), and its cell order.

    ``allow``: what the notebook may import while it is graded, besides the standard library
    (packages such as ``numpy`` or ``torch``, parts of dlcourse such as ``dlcourse.models``);
    ``["numpy"]`` when the notebook does not say.  ``order``: the grade ids of its cells,
    first to last.  ``references``: its reference answers (``References``).
    """
    if not source_notebook.exists():
        raise RuntimeError(f"cannot read the assignment's source notebook {source_notebook}: "
                           "grading needs its rules (run `python -m dlcourse.grading release` first)")
    notebook = nbformat.read(source_notebook, as_version=4)
    order = [cells.grade_id(cell) for cell in notebook.cells]
    settings = notebook.metadata.get("dlcourse", {}).get("grading", {})
    try:
        allow = sandbox.check_allow(settings.get("allow", ["numpy"]))
    except ValueError as error:
        raise ValueError(f"{source_notebook}: dlcourse.grading.allow: {error}") from None
    return {"allow": allow, "order": [name for name in order if name], "references": References.of(notebook)}
