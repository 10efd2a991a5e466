"""Autograding with the verdict made outside the student's process.

The course's ``nbgrader_config.py`` puts ``SandboxedExecute`` in place of nbgrader's
``Execute`` in the autograde steps, so ``nbgrader autograde``, formgrader's button and
``python -m dlcourse.grading`` all grade the same way:

1. **The notebook runs in the sandbox** (``dlcourse.grading.sandbox``): every code cell but the
   test cells, top to bottom, in a kernel that sees nothing of the course.  A cell that
   ends the kernel (``os._exit``), or that cannot be interrupted after the time limit, is
   skipped in a new kernel, and its output says so; the rest is graded as usual.
2. **Each test runs here, where it stands**: when the run reaches a test cell, the test
   runs in the grader's process, against the notebook as it is at that point (the cells
   above it have run, the cells below it not yet), as ``nbgrader validate`` and the
   student's own Jupyter see it.  Its namespace is built from the instructor's locked
   cells as the gradebook holds them, never as the submission has them.  A name the tests
   use that those cells do not define belongs to the student: it is looked up in the
   sandboxed kernel (``dlcourse.grading.notebook_proxy``) and comes back as plain data; functions and
   torch modules stay in the sandbox and are called there.  Expected values and hidden
   tests never enter the sandbox.  A mistake costs the question it is in: while a test
   runs, the reference functions of each earlier question that failed its test stand in
   for the notebook's own (``References``), called back here from the sandbox.
3. **Each test cell's outcome becomes its output**: none when the test ran to its end
   (full points), an error otherwise (0 points): a failed check, an exception of the
   student's code, a time-out, an answer that is not plain data, or a test that never
   reached the student's code at all.

``CleanSubmission`` is autograde's first step: the submission reduced to data the rest
may trust (only the notebook, no link; cell metadata nbgrader's own, validated, ids made
unique; no attachments).  ``HideHiddenTests`` and ``GraderNotes`` are steps of
``generate_feedback``: students see which checks failed and their messages, never the
hidden tests' code, and the grader's note on their file in a box no cell can imitate.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import nbformat
import numpy as np
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader import utils as nbgrader_utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Integer
from traitlets import List as ListTrait

from dlcourse.grading import checks, sandbox
from dlcourse.grading.notebook_proxy import (
    KernelLost,
    NotebookError,
    NotebookNames,
    NotebookTimeout,
    RaisedInNotebook,
    Session,
)

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
HIDDEN_NOTE = "# (hidden tests: their code is not shown; their messages are)\n"
NO_SANDBOX_NOTE = ("Graded without a sandbox (--no-sandbox): the notebook ran with the grader's rights. "
                   "Use this only for notebooks you trust, such as your own solutions.")
NOTE_KEY = "dlcourse_grader_note"   # cell metadata of the grader's notes (students' cells lose theirs)
GRADE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
SKIPPED = "SkippedCell"      # ename of a cell that ended or froze the kernel
KEPT_MIMETYPES = ("text/plain", "image/png", "image/jpeg")  # what a notebook's output may show the grader
OUTPUT_LIMIT = 1_000_000     # characters of output kept per cell
NOTEBOOK_OUTPUT_LIMIT = 5_000_000   # characters of output kept per notebook
OUT_OF_TIME = "NotebookOutOfTime"   # ename of cells and tests the notebook's time budget did not reach


@dataclass
class TestPlan:
    """The instructor's code cells of one notebook, in order, from the gradebook."""

    cells: List[Tuple[str, str, bool]] = field(default_factory=list)  # (grade_id, source, is_test)

    @property
    def tests(self) -> List[str]:
        return [name for name, _, is_test in self.cells if is_test]

    def imported_modules(self) -> List[str]:
        """The modules the instructor's cells import, in order of first use.

        The grader imports them before the first test starts its time budget, so a test's
        budget measures the student's code, not the first ``import torch`` in the grader.

        >>> TestPlan([("q1", "import numpy as np; from torch import nn; import numpy", True)]).imported_modules()
        ['numpy', 'torch']
        """
        modules: List[str] = []
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
    def from_gradebook(cls, db_url: str, assignment: str, notebook: str, order: Sequence[str] = ()) -> "TestPlan":
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


@dataclass
class References:
    """The instructor's reference answers, question by question; they run in the grader, never in the sandbox.

    A mistake costs the question it is in: while a later question's test runs, the functions
    the reference answers of each question that *failed* its test define stand in for the
    notebook's own (a later answer that calls the student's broken ``lstm_cell`` calls the
    reference ``lstm_cell`` instead).  A question that passed keeps the student's functions.
    """

    functions: Dict[str, List[str]]       # test grade id -> the functions its question's answers define
    code: List[Tuple[str, str]]           # (grade id, source): locked setup cells and answers that define functions
    _space: Optional[Dict[str, Any]] = field(default=None, repr=False)

    @classmethod
    def of(cls, notebook: nbformat.NotebookNode) -> "References":
        """Read the instructor's notebook (with its solutions): which question defines which function.

        >>> cells = [nbformat.v4.new_code_cell("import math", metadata={"nbgrader": {"grade_id": "setup",
        ...                                                                   "locked": True}}),
        ...          nbformat.v4.new_code_cell("def area(r): return math.pi * r * r",
        ...                                    metadata={"nbgrader": {"grade_id": "q1", "solution": True}}),
        ...          nbformat.v4.new_code_cell("assert area(1) > 3", metadata={"nbgrader": {"grade_id": "q1_tests",
        ...                                                                              "grade": True}})]
        >>> references = References.of(nbformat.v4.new_notebook(cells=cells))
        >>> references.functions
        {'q1_tests': ['area']}
        >>> round(references.standing_in_for(["q1_tests"])["area"](2), 3)
        12.566
        """
        functions: Dict[str, List[str]] = {}
        code: List[Tuple[str, str]] = []
        pending: List[str] = []
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if cell.cell_type != "code" or not grade_id:
                continue
            if meta.get("solution"):
                source = python_only(cell.source)
                try:
                    defined = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
                except SyntaxError:
                    defined = []
                if defined:
                    code.append((grade_id, source))
                    pending += [name for name in defined if name not in pending]
            elif meta.get("grade"):
                functions[grade_id] = pending
                pending = []
            else:  # the instructor's locked cells: imports, data, helpers
                code.append((grade_id, python_only(cell.source)))
        return cls(functions, code)

    def standing_in_for(self, failed_tests: Sequence[str]) -> Dict[str, Callable]:
        """The reference functions of the questions whose tests failed, by name."""
        names = [name for test in failed_tests for name in self.functions.get(test, [])]
        if not names:
            return {}
        if self._space is None:
            space: Dict[str, Any] = {"__name__": "__reference__"}
            for grade_id, source in self.code:
                exec(compile(source, f"<reference {grade_id}>", "exec"), space)  # noqa: S102 (the instructor's code)
            self._space = space
        return {name: self._space[name] for name in names if callable(self._space.get(name))}


def assignment_settings(source_notebook: Path) -> Dict[str, Any]:
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
    order = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    settings = notebook.metadata.get("dlcourse", {}).get("grading", {})
    try:
        allow = sandbox.check_allow(settings.get("allow", ["numpy"]))
    except ValueError as error:
        raise ValueError(f"{source_notebook}: dlcourse.grading.allow: {error}") from None
    return {"allow": allow, "order": [name for name in order if name], "references": References.of(notebook)}


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is the sandbox's launcher (no kernel spec to install)."""

    launch_argv = ListTrait()
    interrupt_by_message = Bool(True)

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(argv=list(self.launch_argv),
                                           display_name="Python 3 (dlcourse grading sandbox)",
                                           language="python", env={},
                                           interrupt_mode="message" if self.interrupt_by_message else "signal")
        return self._kernel_spec


class SandboxedExecute(Execute):
    """nbgrader's Execute step, with the notebook in the sandbox and the tests in the grader."""

    sandbox = Bool(True, help="Run notebooks in the bubblewrap sandbox. Turn off only for trusted notebooks "
                              "(every result then says it was graded without a sandbox).").tag(config=True)
    max_restarts = Integer(4, help="New kernels a notebook may need (each after a cell or a test that "
                                   "ended or froze its kernel) before its remaining tests fail.").tag(config=True)
    notebook_budget = Integer(120, help="Seconds of wall-clock time a whole notebook may take, restarts included: "
                                        "cells and tests not reached by then are not run and score 0.").tag(config=True)
    require_host_limits = Bool(True, help="Bound each notebook's processes together (memory and pids cgroups, a "
                                          "size-limited socket folder); these need root.  Turn off to accept "
                                          "per-process limits only.").tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: Dict[str, Any], retries: Any = None):
        info = resources["nbgrader"]
        if self.sandbox:
            sandbox.check_available(require_host_limits=self.require_host_limits)
        else:
            self.log.warning("dlcourse: grading %s WITHOUT a sandbox (--no-sandbox)", info.get("student"))
        settings = assignment_settings(self._source_notebook(info["assignment"], info["notebook"]))
        plan = TestPlan.from_gradebook(info["db_url"], info["assignment"], info["notebook"], settings["order"])
        NotebookClient.__init__(self, nb, None)  # as nbconvert's ExecutePreprocessor does: fresh state per notebook
        self._check_assign_resources(resources)
        self.reset_execution_trackers()
        self.shutdown_kernel = "immediate"
        self._identity = (info["assignment"], info["student"])
        self._references = settings["references"]
        self._started = time.monotonic()
        self._notebook_kept = 0
        outcomes = self._grade(nb, resources, plan, settings)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if _is_test(cell) and grade_id in outcomes:
                cell.outputs = outcomes[grade_id]
                cell.execution_count = None
        if not self.sandbox:
            nb.cells.insert(0, grader_note_cell(NO_SANDBOX_NOTE))
        return nb, resources

    def _source_notebook(self, assignment: str, notebook: str) -> Path:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"

    # ------------------------------------------------------------ the rounds
    def _grade(self, nb, resources, plan: TestPlan, settings: Dict[str, Any]) -> Dict[str, list]:
        skipped: set = set()
        outcomes: Dict[str, list] = {}
        kernels = 0
        while True:
            kernels += 1
            if kernels > self.max_restarts + 1:
                for name in plan.tests:
                    outcomes.setdefault(name, [error_output("KernelLost", "this test did not run: the notebook's "
                                                            "kernel stopped too many times")])
                return outcomes
            folder = Path(tempfile.mkdtemp(prefix="dlcourse-grade-"))
            host = None
            try:
                layout = sandbox.Layout(folder / "scratch").create(Path(resources["metadata"]["path"]),
                                                                   settings["allow"])
                if self.sandbox and not sandbox.HostLimits.available():
                    host = sandbox.HostLimits(layout, sandbox.Limits()).set_up()
                self._layout = layout
                self.km, self.kc = None, None
                with self.setup_kernel():
                    stopped_at = self._run_in_order(nb, plan, skipped, outcomes)
                if stopped_at is None:
                    return outcomes
                if stopped_at >= 0:
                    skipped.add(stopped_at)
            finally:
                if host is not None:
                    host.release()
                _remove(folder)

    def _run_in_order(self, nb, plan: TestPlan, skipped: set, outcomes: Dict[str, list]) -> Optional[int]:
        """Run the notebook top to bottom, each test where it stands, as ``nbgrader validate`` would.

        Every code cell but the tests runs in the sandboxed kernel; each test runs here when
        its cell is reached, so it sees the notebook's state after the cells above it, not
        after the whole notebook.  The instructor's locked cells run here too, up to the
        test that follows them, to build the tests' namespace.  Returns None when the round
        is complete, the index of a cell that ended or froze the kernel (to be skipped in a
        new kernel), or -1 when a test lost the kernel (its outcome is recorded).
        """
        session = Session(self.kc, self.km, run_sync(_await))
        names = NotebookNames(session)
        round_ = _TestRound(plan, names, session, float(self.timeout or 30), self._identity, self.log,
                            self._references)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if self._out_of_time():
                self._stop_for_time(nb, index, plan, outcomes)
                return None
            if _is_test(cell):
                grade_id = cell.metadata["nbgrader"].get("grade_id")
                if grade_id in round_.positions and not round_.decide(grade_id, outcomes):
                    return -1
                continue
            if index in skipped:
                cell.outputs = [error_output(SKIPPED, "running this cell ended or froze the Python process "
                                                      "(for example with os._exit, or a loop that ignores interrupts); "
                                                      "it was skipped and the rest of the notebook was graded "
                                                      "without it")]
                cell.execution_count = None
                continue
            self._kept = 0
            try:
                self.execute_cell(cell, index, store_history=True)
            except (DeadKernelError, CellTimeoutError):
                return index
        for name in plan.tests:          # tests the notebook lost (restored cells come back in place)
            if self._out_of_time():
                self._stop_for_time(nb, len(nb.cells), plan, outcomes)
                return None
            if not round_.decide(name, outcomes):
                return -1
        return None

    def _out_of_time(self) -> bool:
        return time.monotonic() - self._started > self.notebook_budget

    def _stop_for_time(self, nb, index: int, plan: TestPlan, outcomes: Dict[str, list]) -> None:
        """The notebook's time is spent: the cells from ``index`` on are not run, the undecided tests score 0."""
        why = (f"the notebook used up its {self.notebook_budget} s of grading time (cells that wait or loop, "
               "restarts included) before this point")
        for cell in nb.cells[index:]:
            if cell.cell_type == "code" and not _is_test(cell):
                cell.outputs = [error_output(OUT_OF_TIME, f"this cell was not run: {why}")]
                cell.execution_count = None
        for name in plan.tests:
            outcomes.setdefault(name, [error_output(OUT_OF_TIME, f"this test did not run: {why}")])

    def create_kernel_manager(self):
        layout = self._layout
        limits = sandbox.Limits()
        if self.sandbox:
            command = sandbox.inside_command(limits, "{connection_file}")
            config = sandbox.write_launch_config(layout, limits, command)
            argv = [sys.executable, "-m", "dlcourse.grading.sandbox", "launch", str(config), "{connection_file}"]
        else:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        self.km = SandboxKernelManager(config=self.config, launch_argv=argv, interrupt_by_message=self.sandbox,
                                       transport="ipc", connection_file=str(layout.kernel / "kernel.json"),
                                       ip=str(layout.kernel / "ipc"))
        return self.km

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        kwargs["cwd"] = str(self._layout.submission)
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        import zmq.asyncio

        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, 64 << 20)  # a bigger message ends the connection
        original = self.km.client

        def client(**kwargs):
            return original(context=context, **kwargs)

        self.km.client = client
        self._context = context
        return await super().async_start_new_kernel_client()

    async def _async_cleanup_kernel(self) -> None:
        try:
            await super()._async_cleanup_kernel()
        finally:
            context = getattr(self, "_context", None)
            if context is not None:
                context.destroy(linger=0)
                self._context = None

    _cleanup_kernel = run_sync(_async_cleanup_kernel)  # nbclient binds the sync wrapper to its own method

    def output(self, outs, msg, display_id, cell_index):
        """Keep plain text and images only, and no more than OUTPUT_LIMIT characters per cell.

        An image is kept only when its data is base64 (the page pastes it into an attribute),
        and no output keeps its metadata (the page pastes a width or height unescaped).
        """
        content = msg.get("content", {})
        if isinstance(content.get("data"), dict):
            content["data"] = {k: v for k, v in content["data"].items() if k in KEPT_MIMETYPES and
                               (k == "text/plain" or (isinstance(v, str) and BASE64.fullmatch(v)))}
            if not content["data"]:
                return None
        if "metadata" in content:
            content["metadata"] = {}
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        size += sum(len(str(line)) for line in content.get("traceback", []) or [])
        kept = getattr(self, "_kept", 0)
        if kept >= OUTPUT_LIMIT:
            return None
        notebook_kept = getattr(self, "_notebook_kept", 0)
        if notebook_kept + size > NOTEBOOK_OUTPUT_LIMIT:
            if notebook_kept < NOTEBOOK_OUTPUT_LIMIT:
                self._notebook_kept = NOTEBOOK_OUTPUT_LIMIT
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                    f"[the grader keeps {NOTEBOOK_OUTPUT_LIMIT:,} characters of output per notebook: it dropped the "
                    "rest]\n")))
            return None
        self._notebook_kept = notebook_kept + size
        self._kept = kept + size
        if self._kept > OUTPUT_LIMIT:
            if "text" in content:
                content["text"] = str(content["text"])[: max(0, OUTPUT_LIMIT - kept)] + \
                    f"\n[the grader dropped the rest of the output: more than {OUTPUT_LIMIT:,} characters]\n"
            else:
                return None
        return super().output(outs, msg, display_id, cell_index)

    def handle_comm_msg(self, outs, msg, cell_index):
        return None  # widgets of a graded notebook are not kept


class _TestRound:
    """The tests of one kernel's round: the instructor's cells run here, in plan order, as tests are reached."""

    def __init__(self, plan: TestPlan, names: NotebookNames, session: Session, budget: float,
                 identity: Tuple[str, str], log: Any, references: Optional[References] = None) -> None:
        self.plan, self.names, self.session, self.budget, self.log = plan, names, session, budget, log
        self.references = references or References({}, [])
        self.assignment, self.student = identity
        self.positions = {name: index for index, (name, _, is_test) in enumerate(plan.cells) if is_test}
        self.next_cell = 0           # the first instructor cell not run here yet
        for module in plan.imported_modules():
            try:
                importlib.import_module(module)
            except ImportError as error:  # the test that imports it fails and says so
                log.info("dlcourse: the tests import %s, which is not installed here: %s", module, error)

    def decide(self, name: str, outcomes: Dict[str, list]) -> bool:
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

    def _stand_in(self, name: str, outcomes: Dict[str, list]) -> None:
        """Bind the reference functions of the earlier questions that failed their tests, for test ``name``."""
        earlier = self.plan.tests[:self.plan.tests.index(name)]
        failed = [test for test in earlier if any(o.get("output_type") == "error" for o in outcomes.get(test, []))]
        try:
            functions = self.references.standing_in_for(failed)
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


async def _await(coroutine: Any) -> Any:
    return await coroutine


def _is_test(cell) -> bool:
    return cell.cell_type == "code" and nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


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


def run_test(source: str, names: Dict[str, Any], name: str,
             reached: Callable[[], bool] = lambda: True) -> List[nbformat.NotebookNode]:
    """One test cell run in ``names``: its outputs, with an error output when it failed.

    ``reached()`` says whether the test called the student's code at all; a test that
    did not scores 0 (an empty or neutered test is a failure, not a pass).
    """
    printed = io.StringIO()
    outputs: List[nbformat.NotebookNode] = []
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


def grader_note_cell(note: str) -> nbformat.NotebookNode:
    """A note of the grader's as a cell: the feedback shows it in a box of its own (``NOTE_KEY``).

    Its text is escaped, so it reads as written; a template without the box shows it as a
    plain paragraph.
    """
    from dlcourse.grading.feedback_html import escape_text

    return nbformat.v4.new_markdown_cell(f"**Note from the grader:** {escape_text(note)}", metadata={NOTE_KEY: note})


class SubmissionRefused(Exception):
    """The submission cannot be graded as handed in (a link, extra files, too big): it is graded as blank."""


class CleanSubmission(NbGraderPreprocessor):
    """Autograde's first step: the submission reduced to data the rest of the grading may trust.

    - Only the notebook enters: the submission folder must hold nothing but plain ``.ipynb``
      files (and nbgrader's ``timestamp.txt``), and neither the notebook nor its folder may be
      a link (``grading.keep_only_the_notebook`` moves anything else out first).
    - Bounded: at most ``max_cells`` cells and ``max_characters`` characters of source.
    - Cell metadata is nbgrader's alone, and only when it is what nbgrader writes (a dict
      with a valid ``grade_id`` and boolean flags); anything else is dropped, so an odd
      ``magics_language``, a student's copy of a grader's note or a malformed ``nbgrader``
      field cannot stop or fool a later step.  Notebook metadata keeps its kernel and
      language only.
    - A ``grade_id`` that appears twice (a copied cell) is kept on its last cell, as
      nbgrader does, and the earlier copies become ordinary cells: copying a cell is
      never a reason to grade a notebook as blank.
    - Markdown attachments are removed (a missing one would stop the rendering).

    A refused submission gets a note (``grading.write_note``) and is graded as blank.
    """

    max_cells = Integer(300, help="Cells a submission may have (the assignments have 13 to 28).").tag(config=True)
    max_characters = Integer(2_000_000, help="Characters of source a submission may have.").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        try:
            self._check_files(Path(resources["metadata"]["path"]), info["notebook"])
            if len(nb.cells) > self.max_cells:
                raise SubmissionRefused(f"the notebook has {len(nb.cells):,} cells, more than the "
                                        f"{self.max_cells:,} a submission may have")
            clean_notebook(nb)
            characters = sum(len(cell.source) for cell in nb.cells)
            if characters > self.max_characters:
                raise SubmissionRefused(f"the notebook's cells hold {characters:,} characters, more than the "
                                        f"{self.max_characters:,} a submission may have")
        except SubmissionRefused as refusal:
            from nbgrader.coursedir import CourseDirectory

            from dlcourse.grading.commands import write_note

            root = Path(CourseDirectory(config=self.config).root)
            write_note(root, info["assignment"], info["student"], f"{refusal}; it was graded as blank")
            raise
        return nb, resources

    @staticmethod
    def _check_files(folder: Path, notebook: str) -> None:
        from dlcourse.grading.commands import is_plain_submission_file

        path = folder / f"{notebook}.ipynb"
        if folder.is_symlink() or path.is_symlink() or os.path.realpath(path) != os.path.abspath(path):
            raise SubmissionRefused("the notebook handed in is a link, not a file; only the notebook itself is graded")
        extra = sorted(entry.name for entry in folder.iterdir() if not is_plain_submission_file(entry))
        if extra:
            raise SubmissionRefused(f"the submission holds more than its notebook ({', '.join(extra[:5])}); "
                                    "only the notebook is graded")


def clean_notebook(nb: nbformat.NotebookNode) -> None:
    """The cleaning of ``CleanSubmission`` on a notebook in memory (see there).

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "q1", "solution": True},
    ...                                                   "magics_language": "no-such-lexer"}),
    ...     nbformat.v4.new_code_cell("x = 2", metadata={"nbgrader": {"grade_id": "q1", "solution": True}}),
    ...     nbformat.v4.new_markdown_cell("hi", metadata={"nbgrader": ["not", "a", "dict"]})])
    >>> clean_notebook(nb)
    >>> [cell.metadata for cell in nb.cells]
    [{}, {'nbgrader': {'grade_id': 'q1', 'solution': True}}, {}]
    """
    nb.metadata = nbformat.NotebookNode({key: value for key, value in nb.metadata.items()
                                         if key in ("kernelspec", "language_info") and isinstance(value, dict)})
    seen: set = set()
    for cell in reversed(nb.cells):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        cell.source = source if isinstance(source, str) else ""
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        kept = nbformat.NotebookNode()
        if _valid_nbgrader_metadata(meta) and meta["grade_id"] not in seen:
            seen.add(meta["grade_id"])
            kept["nbgrader"] = nbformat.NotebookNode(meta)
        cell.metadata = kept
        if "attachments" in cell:
            del cell["attachments"]
        if cell.cell_type in ("markdown", "raw"):
            cell.source = re.sub(r"attachment:", "attachment-removed:", cell.source)


def _valid_nbgrader_metadata(meta: Any) -> bool:
    """nbgrader's cell metadata as nbgrader writes it: a dict, a grade id, boolean flags, numeric points."""
    if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
        return False
    if not GRADE_ID.fullmatch(meta["grade_id"]):
        return False
    if any(key in meta and not isinstance(meta[key], bool) for key in ("grade", "solution", "locked", "task")):
        return False
    points = meta.get("points", 0)
    return isinstance(points, (int, float)) and not isinstance(points, bool)


class GraderNotes(NbGraderPreprocessor):
    """Feedback step: the grader's note on this submission (``grading.read_note``) as the first cell.

    The note comes from the course folder (``grader_notes/``), never from the submission, and
    is shown in a box of its own by the course's feedback template; any cell that claims to be
    a note is stripped of the claim first.
    """

    def preprocess(self, nb, resources):
        from nbgrader.coursedir import CourseDirectory

        from dlcourse.grading.commands import read_note

        for cell in nb.cells:
            if NOTE_KEY in cell.metadata and not _is_graders(cell):
                del cell.metadata[NOTE_KEY]
        info = resources["nbgrader"]
        note = read_note(Path(CourseDirectory(config=self.config).root), info["assignment"], info["student"])
        if note:
            nb.cells.insert(0, grader_note_cell(note))
        return nb, resources


def _is_graders(cell) -> bool:
    """A note cell the grader itself wrote into the autograded notebook (``--no-sandbox``)."""
    return cell.cell_type == "markdown" and cell.metadata.get(NOTE_KEY) == NO_SANDBOX_NOTE


def _remove(folder: Path) -> None:
    def allow(function, path, _):
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)

    shutil.rmtree(folder, onerror=allow)


class RestoreLockedCells(OverwriteCells):
    """nbgrader's OverwriteCells, without a warning for a test cell the student left as released.

    A released test cell lacks its hidden tests, so nbgrader took every one of them for a
    changed cell ("Attribute 'checksum' ... has changed").  A cell equal to the released
    version is restored quietly; a cell the student really edited is still reported.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.metadata["nbgrader"].get("locked"):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
            except MissingEntry:
                source = None
            if source is not None and HIDDEN.sub("", source).strip() == cell.source.strip():
                cell.source = source
        return super().preprocess_cell(cell, resources, cell_index)


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback step: replace the code of hidden tests with a note (their messages stay)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
            cell.source = HIDDEN.sub(HIDDEN_NOTE, cell.source)
        return cell, resources


class PendingManualGrades(NbGraderPreprocessor):
    """Feedback step: an answer graded by hand that is not graded yet says so, instead of showing 0.

    Runs after nbgrader's ``GetGrades``: such a cell keeps its text but loses its score
    line, gets a note, and its points leave the notebook's total until it is graded;
    generating the feedback again after grading by hand shows the score.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            ungraded = set()
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade") and meta.get("solution"):
                    grade = gradebook.find_grade(meta["grade_id"], info["notebook"], info["assignment"],
                                                 info["student"])
                    if grade.manual_score is None and grade.auto_score is None:
                        ungraded.add(meta["grade_id"])
        pending = 0.0
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id") in ungraded and meta.get("grade"):
                pending += float(meta.get("points") or 0)
                meta["grade"] = False
                cell.source = (f"*Not graded yet: this answer is graded by hand ({_points(meta.get('points'))}); "
                               "the feedback will be sent again once it is.*\n\n" + cell.source)
        if pending:
            resources["nbgrader"]["max_score"] = float(resources["nbgrader"]["max_score"]) - pending
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                f"*{_points(pending)} of written answers are not graded yet; the score above leaves them out.*"))
        return nb, resources


def _points(value: Any) -> str:
    number = float(value or 0)
    shown = int(number) if number.is_integer() else number
    return f"{shown} point{'' if number == 1 else 's'}"
