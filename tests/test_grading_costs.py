"""Every cost of grading one notebook is bounded: time, output, cells, memory and processes together, disk, copies.

Each bound meets the attack that found it missing: a notebook of sleeping cells (303 s where an
honest one takes 6), output flooding many cells, a module description that makes the grader
build 30,000 layers, processes that each stay under the per-process limit, files written into
the one folder the kernel shares with the host, a group of notebooks that never finishes.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from sandboxed import SandboxedKernel
from test_grading import A1, FULL, POINTS, _cell, make_course

from dlcourse.grading import commands as grading
from dlcourse.grading import notebook_proxy as remote
from dlcourse.grading import pool, sandbox
from dlcourse.grading.preprocessors import sandboxed_execute

pytestmark = pytest.mark.slow

# ---------------------------------------------------------------- copies of a notebook's module

def _tree(nodes):
    return [{"path": "", "class": "Sequential", "base": "Sequential", "config": {}, "params": []}] + nodes


def test_a_module_description_cannot_make_the_grader_build_thousands_of_layers():
    session = SimpleNamespace(generation=0)
    huge = _tree([{"path": "0", "class": "LSTM", "base": "LSTM",
                   "config": {"input_size": 4, "hidden_size": 4, "num_layers": 30_000}, "params": []}])
    start = time.monotonic()
    with pytest.raises(remote.NotebookError, match="num_layers=30000 is more than the grader copies"):
        remote.build_replica(session, "h", huge)
    many = _tree([{"path": str(i), "class": "ReLU", "base": "ReLU", "config": {}, "params": []}
                  for i in range(remote.MAX_REPLICA_MODULES + 1)])
    with pytest.raises(remote.NotebookError, match="more than the 2,000 the grader copies"):
        remote.build_replica(session, "h", many)
    assert time.monotonic() - start < 2          # refused before building (109 s before)
    small = remote.build_replica(session, "h", _tree([{"path": "0", "class": "LSTM", "base": "LSTM", "config": {
        "input_size": 4, "hidden_size": 4, "num_layers": 2}, "params": []}]))
    assert type(small[0]).__name__ == "LSTM" and small[0].num_layers == 2


# ---------------------------------------------------------------- output and cells

def test_output_is_capped_per_notebook_as_well_as_per_cell(monkeypatch):
    """Twelve cells of 900,000 characters each: the notebook keeps 5,000,000 in all, and says so."""
    monkeypatch.setattr(sandboxed_execute.Execute, "output",
                        lambda self, outs, msg, display_id, cell_index: outs.append({"text": msg["content"]["text"]}))
    executor = sandboxed_execute.SandboxedExecute()
    executor._notebook_kept = 0
    outs: list = []
    for _ in range(12):
        executor._kept = 0
        executor.output(outs, {"content": {"name": "stdout", "text": "x" * 900_000}}, None, 0)
    kept = sum(len(out["text"]) for out in outs if "grader keeps" not in out["text"])
    assert kept <= sandboxed_execute.NOTEBOOK_OUTPUT_LIMIT < 12 * 900_000
    assert sum("grader keeps 5,000,000 characters of output per notebook" in out["text"] for out in outs) == 1


# ---------------------------------------------------------------- time

def test_a_notebook_that_waits_in_every_cell_stops_at_its_time_budget(tmp_path):
    root = make_course(tmp_path / "course", [A1])
    notebook = nbformat.read(root / "source" / A1 / f"{A1}.ipynb", as_version=4)
    for index in range(len(notebook.cells), 0, -1):      # a cell that waits 4 s before every cell
        notebook.cells.insert(index, nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(notebook, inbox / "sleeper.ipynb")
    grading.collect(root, A1, inbox)
    start = time.monotonic()
    result = grading.nbgrader(root, "autograde", A1, "--force", "--Execute.timeout=5",
                              "--SandboxedExecute.notebook_budget=12")
    elapsed = time.monotonic() - start
    assert result.returncode == 0
    assert elapsed < 12 + 4 + 20            # the budget, one cell, and nbgrader's own start and finish
    graded = nbformat.read(root / "autograded" / "sleeper" / A1 / f"{A1}.ipynb", as_version=4)
    assert "used up its grading time" in grading.grading_notes(graded)
    assert sandboxed_execute.OUT_OF_TIME in str(_cell(graded, "q3_tests").outputs)


def test_the_watchdog_stops_a_chunk_that_never_finishes(tmp_path, monkeypatch):
    started = []

    def never_finishes(course, *args):
        run = subprocess.Popen(["sleep", "600"], start_new_session=True)
        started.append(run)
        return run

    monkeypatch.setattr(pool, "start_nbgrader", never_finishes)
    start = time.monotonic()
    stopped = pool.Pool(tmp_path, "generate_feedback", A1, jobs=2, seconds_per_notebook=0.5,
                        progress=False).run(["a", "b", "c"]).stopped
    assert time.monotonic() - start < 5
    assert sorted(stopped) == ["a", "b", "c"]
    assert all(run.poll() is not None for run in started)


# ---------------------------------------------------------------- memory, processes, disk together

needs_host_limits = pytest.mark.skipif(bool(sandbox.HostLimits.available()),
                                       reason=sandbox.HostLimits.available() or "")


@needs_host_limits
def test_processes_that_each_stay_under_their_limit_are_bounded_together():
    limits = sandbox.Limits(total_memory=512 << 20)
    code = ("import os, time\n"
            "children = []\n"
            "for _ in range(3):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        block = bytearray(300 << 20)\n"          # each child under its own 4 GiB
            "        for i in range(0, len(block), 4096):\n"
            "            block[i] = 1\n"
            "        time.sleep(2)\n"
            "        os._exit(0)\n"
            "    children.append(pid)\n"
            "codes = [os.waitpid(pid, 0)[1] for pid in children]\n"
            "print('CODES', codes)\n")
    with SandboxedKernel(limits=limits, host_limits=True) as kernel:
        out = kernel.run(code, timeout=60)
        cgroups = list(kernel.layout.cgroups)
    codes = eval(out.split("CODES", 1)[1])
    assert any(code != 0 for code in codes), out    # 900 MiB together is over the 512 MiB of the notebook
    assert not any(Path(folder).exists() for folder in cgroups)   # removed with the kernel


@needs_host_limits
def test_the_kernel_folder_shared_with_the_host_is_size_limited():
    limits = sandbox.Limits(kernel_folder_size=4 << 20)
    with SandboxedKernel(limits=limits, host_limits=True) as kernel:
        folder = kernel.layout.kernel
        out = kernel.run(f"written = 0\n"
                         f"try:\n"
                         f"    for i in range(64):\n"
                         f"        open('{folder}/fill%d' % i, 'wb').write(b'x' * (1 << 20))\n"
                         f"        written += 1\n"
                         f"except OSError as error:\n"
                         f"    print('STOPPED', written, error.strerror)\n")
    assert "STOPPED" in out and int(out.split()[1]) <= 4, out
    assert not os.path.ismount(folder)


def test_grading_stops_when_whole_notebook_limits_are_required_but_impossible(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.HostLimits, "available", classmethod(lambda cls: "no cgroups here (a test)"))
    with pytest.raises(sandbox.SandboxUnavailable, match="no-host-limits"):
        sandbox.check_available(require_host_limits=True)


def test_a_class_with_a_sleeper_and_a_flood_still_grades_everyone_else_in_full(tmp_path):
    """The costs of hostile notebooks stay theirs: the honest student's grade is the usual one."""
    root = make_course(tmp_path / "course", [A1])
    solution = nbformat.read(root / "source" / A1 / f"{A1}.ipynb", as_version=4)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(solution, inbox / "honest.ipynb")
    flood = nbformat.read(root / "source" / A1 / f"{A1}.ipynb", as_version=4)
    _cell(flood, "q2_answer").source += "\nfor _ in range(30):\n    print('y' * 400_000)\n"
    nbformat.write(flood, inbox / "flood.ipynb")
    grading.collect(root, A1, inbox)
    grading.autograde(root, A1, timeout=5)
    with open(grading.export(root), newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == {"honest": FULL, "flood": FULL}
    graded = nbformat.read(root / "autograded" / "flood" / A1 / f"{A1}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert len(text) <= sandboxed_execute.NOTEBOOK_OUTPUT_LIMIT + 1000 and POINTS
    assert sys.getsizeof(text) < 2 * sandboxed_execute.NOTEBOOK_OUTPUT_LIMIT
