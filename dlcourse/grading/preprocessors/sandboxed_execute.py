"""nbgrader's Execute step, with the notebook in the sandbox and the tests in the grader.

The course's ``nbgrader_config.py`` puts ``SandboxedExecute`` in place of nbgrader's
``Execute`` in the autograde steps, so ``nbgrader autograde``, formgrader's button and
``python -m dlcourse.grading`` all grade the same way:

1. **The notebook runs in the sandbox** (``dlcourse.grading.sandbox``): every code cell but the
   test cells, top to bottom, in a kernel that sees nothing of the course.  A cell that
   ends the kernel (``os._exit``), or that cannot be interrupted after the time limit, is
   skipped in a new kernel, and its output says so; the rest is graded as usual.
2. **Each test runs here, where it stands** (``dlcourse.grading.runner``): when the run reaches
   a test cell, the test runs in the grader's process, against the notebook as it is at that
   point (the cells above it have run, the cells below it not yet), as ``nbgrader validate``
   and the student's own Jupyter see it.  Its namespace is built from the instructor's locked
   cells as the gradebook holds them, never as the submission has them.  A name the tests
   use that those cells do not define belongs to the student: it is looked up in the
   sandboxed kernel (``dlcourse.grading.notebook_proxy``) and comes back as plain data; functions and
   torch modules stay in the sandbox and are called there.  Expected values and hidden
   tests never enter the sandbox.  A mistake costs the question it is in: while a test
   runs, the reference functions of each earlier question that failed its test stand in
   for the notebook's own (``dlcourse.grading.references.References``), called back here from the sandbox.
3. **Each test cell's outcome becomes its output**: none when the test ran to its end
   (full points), an error otherwise (0 points): a failed check, an exception of the
   student's code, a time-out, an answer that is not plain data, or a test that never
   reached the student's code at all.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer
from traitlets import List as ListTrait

from dlcourse.grading import cells, sandbox
from dlcourse.grading.notebook_proxy import NotebookNames, Session
from dlcourse.grading.notes import NO_SANDBOX_NOTE, grader_note_cell
from dlcourse.grading.references import assignment_settings
from dlcourse.grading.runner import OUTPUT_LIMIT, TestPlan, TestRound, error_output

BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
SKIPPED = "SkippedCell"      # ename of a cell that ended or froze the kernel
KEPT_MIMETYPES = ("text/plain", "image/png", "image/jpeg")  # what a notebook's output may show the grader
NOTEBOOK_OUTPUT_LIMIT = 5_000_000   # characters of output kept per notebook
OUT_OF_TIME = "NotebookOutOfTime"   # ename of cells and tests the notebook's time budget did not reach


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is the sandbox's launcher (no kernel spec to install)."""

    launch_argv = ListTrait()  # type: ignore[var-annotated]  # a traitlets trait
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

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any], retries: Any = None):
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
            grade_id = cells.grade_id(cell)
            if cells.is_test(cell) and grade_id in outcomes:
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
    def _grade(self, nb, resources, plan: TestPlan, settings: dict[str, Any]) -> dict[str, list]:
        skipped: set = set()
        outcomes: dict[str, list] = {}
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

    def _run_in_order(self, nb, plan: TestPlan, skipped: set, outcomes: dict[str, list]) -> int | None:
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
        round_ = TestRound(plan, names, session, float(self.timeout or 30), self._identity, self.log,
                           self._references.standing_in_for)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if self._out_of_time():
                self._stop_for_time(nb, index, plan, outcomes)
                return None
            if cells.is_test(cell):
                grade_id = cells.grade_id(cell)
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

    def _stop_for_time(self, nb, index: int, plan: TestPlan, outcomes: dict[str, list]) -> None:
        """The notebook's time is spent: the cells from ``index`` on are not run, the undecided tests score 0."""
        why = (f"the notebook used up its {self.notebook_budget} s of grading time (cells that wait or loop, "
               "restarts included) before this point")
        for cell in nb.cells[index:]:
            if cell.cell_type == "code" and not cells.is_test(cell):
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


async def _await(coroutine: Any) -> Any:
    return await coroutine


def _remove(folder: Path) -> None:
    def allow(function, path, _):
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)

    shutil.rmtree(folder, onerror=allow)
