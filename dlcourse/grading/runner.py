"""The tests, run in the grader's process: never in the sandbox, against the notebook in it.

``SandboxedExecute`` runs a notebook's cells in the sandbox; when it reaches a test cell, the
test runs here (``TestRound``), in a namespace built from the instructor's locked cells as the
gradebook holds them (``TestPlan``), never as the submission has them.  A name the tests use
that those cells do not define belongs to the student: it is looked up in the sandboxed kernel
(``dlcourse.grading.notebook_proxy``) and comes back as plain data.  Each test's outcome is a
test cell's outputs (``run_test``): none when it ran to its end, an error otherwise.  Every
test gets the same random inputs for the same student each time (``seed_everything``).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nbformat
import numpy as np
from nbgrader.api import Gradebook

from dlcourse.grading import checks
from dlcourse.grading.notebook_proxy import (
    KernelLost,
    NotebookError,
    NotebookNames,
    NotebookTimeout,
    RaisedInNotebook,
    Session,
)

OUTPUT_LIMIT = 1_000_000     # characters of output kept per cell


@dataclass
class TestPlan:
    """The instructor's code cells of one notebook, in order, from the gradebook."""

    cells: list[tuple[str, str, bool]] = field(default_factory=list)  # (grade_id, source, is_test)

    @property
    def tests(self) -> list[str]:
        return [name for name, _, is_test in self.cells if is_test]

    def imported_modules(self) -> list[str]:
        """The modules the instructor's cells import, in order of first use.

        The grader imports them before the first test starts its time budget, so a test's
        budget measures the student's code, not the first ``import torch`` in the grader.

        >>> TestPlan([("q1", "import numpy as np; from torch import nn; import numpy", True)]).imported_modules()
        ['numpy', 'torch']
        """
        modules: list[str] = []
        for _, source, _ in self.cells:
            try:
                tree = ast.parse(source)
            except SyntaxError:  # a cell with IPython syntax: its imports are found when it runs
                continue
            for node in ast.walk(tree):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [])
                modules += [name for name in names if name not in modules]
        return modules

    @classmethod
    def from_gradebook(cls, db_url: str, assignment: str, notebook: str, order: Sequence[str] = ()) -> TestPlan:
        """The gradebook's copy of each cell (what nbgrader restores), in the order of ``order``.

        ``order`` is the grade ids of the instructor's notebook, first to last; a cell it
        does not name comes after the others.
        """
        with Gradebook(db_url) as gradebook:
            record = gradebook.find_notebook(notebook, assignment)
            solutions = {cell.name for cell in record.solution_cells}
            tests = {cell.name for cell in record.grade_cells if cell.cell_type == "code"}
            cells = [(cell.name, cell.source, cell.name in tests) for cell in record.source_cells
                     if cell.cell_type == "code" and cell.locked and cell.name not in solutions]
        position = {name: index for index, name in enumerate(order)}
        cells.sort(key=lambda cell: position.get(cell[0], len(position)))
        return cls(cells)


def _no_stand_ins(failed_tests: Sequence[str]) -> dict[str, Callable]:
    return {}


class TestRound:
    """The tests of one kernel's round: the instructor's cells run here, in plan order, as tests are reached.

    ``stand_ins(failed_tests)`` gives the functions that stand in for the notebook's own while a
    test runs: the reference answers of the earlier questions that failed their tests
    (``References.standing_in_for``); none by default.
    """

    def __init__(self, plan: TestPlan, names: NotebookNames, session: Session, budget: float,
                 identity: tuple[str, str], log: Any,
                 stand_ins: Callable[[Sequence[str]], dict[str, Callable]] = _no_stand_ins) -> None:
        self.plan, self.names, self.session, self.budget, self.log = plan, names, session, budget, log
        self.stand_ins = stand_ins
        self.assignment, self.student = identity
        self.positions = {name: index for index, (name, _, is_test) in enumerate(plan.cells) if is_test}
        self.next_cell = 0           # the first instructor cell not run here yet
        for module in plan.imported_modules():
            try:
                importlib.import_module(module)
            except ImportError as error:  # the test that imports it fails and says so
                log.info("dlcourse: the tests import %s, which is not installed here: %s", module, error)

    def decide(self, name: str, outcomes: dict[str, list]) -> bool:
        """Run the instructor's cells up to test ``name``, then the test unless decided in an earlier round.

        False when the kernel was lost (the test's outcome is recorded; a new round must start).
        """
        try:
            while self.next_cell <= self.positions[name]:
                cell_name, source, is_test = self.plan.cells[self.next_cell]
                self.next_cell += 1
                if not is_test:
                    self._setup(cell_name, source)
        except KernelLost:
            return False
        if name in outcomes:
            return True
        seed_everything(self.assignment, name, self.student)
        self.names.forget_notebook_names()
        self.session.begin(self.budget)
        source = self.plan.cells[self.positions[name]][1]
        try:
            self._stand_in(name, outcomes)
            try:
                outcomes[name] = run_test(source, self.names, name, reached=lambda: self.session.calls > 0)
            finally:
                self.session.unbind()
        except KernelLost as error:
            outcomes[name] = [error_output("KernelLost", f"{error}; this test scored 0 and the notebook was "
                                                         "started again for the remaining tests")]
            return False
        return True

    def _stand_in(self, name: str, outcomes: dict[str, list]) -> None:
        """Bind the reference functions of the earlier questions that failed their tests, for test ``name``."""
        earlier = self.plan.tests[:self.plan.tests.index(name)]
        failed = [test for test in earlier if any(o.get("output_type") == "error" for o in outcomes.get(test, []))]
        try:
            functions = self.stand_ins(failed)
        except Exception as error:  # the instructor's reference does not run here: the student's own stay
            self.log.warning("dlcourse: the reference answers could not be run in the grader: %s", error)
            functions = {}
        try:
            self.session.bind(functions)
        except KernelLost:
            raise
        except NotebookError as error:  # the notebook broke the grader's probe: its own functions stay
            self.log.info("dlcourse: the reference answers could not be bound in the notebook: %s", error)

    def _setup(self, name: str, source: str) -> None:
        seed_everything(self.assignment, name, self.student)
        self.session.begin(self.budget)
        try:
            run_trusted(source, self.names, f"<{name}>")
        except KernelLost:
            raise
        except Exception as error:  # a setup cell that uses the student's code may fail; the tests will say
            self.log.info("dlcourse: setup cell %s raised %s", name, error)


def run_trusted(source: str, names: NotebookNames, label: str) -> str:
    """Run instructor code in ``names``; return what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(python_only(source), label, "exec"), names)  # noqa: S102 (the instructor's own cell)
    return printed.getvalue()


def python_only(source: str) -> str:
    """The cell without IPython's magics and shell lines (they run in the notebook, not here)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("pass  # (a notebook magic)" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def seed_everything(assignment: str, question: str, student: str) -> None:
    """The same random inputs for the same student, question and assignment, every time.

    Sets the context of ``dlcourse.grading.checks.rng`` and seeds NumPy's and torch's global
    generators, for tests that use them directly.
    """
    checks.grading_context(assignment, student)
    value = checks.seed(question)
    np.random.seed(value % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(value % 2**63)


def run_test(source: str, names: dict[str, Any], name: str,
             reached: Callable[[], bool] = lambda: True) -> list[nbformat.NotebookNode]:
    """One test cell run in ``names``: its outputs, with an error output when it failed.

    ``reached()`` says whether the test called the student's code at all; a test that
    did not scores 0 (an empty or neutered test is a failure, not a pass).
    """
    printed = io.StringIO()
    outputs: list[nbformat.NotebookNode] = []
    failure = None
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(python_only(source), f"<{name}>", "exec"), names)  # noqa: S102
        if not reached():
            failure = error_output("AssertionError", "this test never reached your code, so it cannot give points")
    except KernelLost:
        raise
    except RaisedInNotebook as error:
        failure = error_output(error.kind, str(error), ["Your code raised this when the grader called it "
                                                        "(most recent call last):", error.notebook_traceback])
    except NotebookTimeout as error:
        failure = error_output("CellTimeoutError", str(error))
    except NotebookError as error:
        failure = error_output("NotebookError", str(error))
    except Exception as error:  # a check failed, or the student's answer broke the test's own code
        failure = error_output(type(error).__name__, str(error)[:4000])
    text = printed.getvalue()
    if text:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text[:OUTPUT_LIMIT]))
    if failure is not None:
        outputs.append(failure)
    return outputs


def error_output(ename: str, evalue: str, lines: Sequence[str] = ()) -> nbformat.NotebookNode:
    """An error output with no trace of the grader's code."""
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[*[line for line in lines if line], f"{ename}: {evalue}"])
