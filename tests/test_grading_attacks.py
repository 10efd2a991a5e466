"""Every attack on grading, through both entry points: it earns nothing and leaves no trace.

A class of assignment 03 is graded once with ``python -m dlcourse.grading grade`` and
once with plain ``nbgrader autograde`` run in the course folder (what formgrader's button
runs).  First a classmate hands in the instructor's solution and is graded; then an honest
student whose answers are stubs and one student per attack of ``attacks.py`` (each with
the same stubs) are graded.  Afterwards: every attacker has the stubs' 0 points; the
package, the course's sources, the repository's sources and the classmate's files are
byte for byte as before; the classmate's and the attackers' rows of the gradebook hold
what grading put there; no process of a submission is left; the test's loopback and
Unix listeners got no connection; no file was written outside the submission's folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from attacks import A3, ATTACKS, STUBS, attack_source
from sandboxed import processes_with
from test_grading import _cell, make_course

import dlcourse
from dlcourse.grading import cells
from dlcourse.grading import commands as grading

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(dlcourse.__file__).resolve().parent
ANSWER_CELL = "q1_answer"  # the attack and every stub go in the first answer cell


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


class Listeners:
    """A TCP listener on the host's loopback and a Unix socket in the host's /tmp, counting connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.port = self.tcp.getsockname()[1]
        self.unix_path = tempfile.mktemp(prefix="dlcourse-attack-", suffix=".sock", dir="/tmp")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.unix.listen(8)
        self.threads = [threading.Thread(target=self._accept, args=(s,), daemon=True) for s in (self.tcp, self.unix)]
        for thread in self.threads:
            thread.start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.tcp.close()
        self.unix.close()
        os.unlink(self.unix_path)


def build_class(course: Path, inbox: Path, places: dict[str, str]) -> None:
    """An honest student whose answers are stubs, and one student per attack."""
    blank = nbformat.read(course / "release" / A3 / f"{A3}.ipynb", as_version=4)
    inbox.mkdir()
    nbformat.write(_answered(blank, STUBS), inbox / "stubs.ipynb")
    for kind in ATTACKS:
        nbformat.write(_answered(blank, attack_source(kind, **places)), inbox / f"attack_{kind}.ipynb")


def _answered(blank: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """The blank notebook with ``source`` as its first answer and the other answer cells emptied."""
    notebook = nbformat.from_dict(blank)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cells.is_solution(cell) and not cells.is_grade(cell):
            cell.source = source if cells.grade_id(cell) == ANSWER_CELL else "# answered in the first cell\n"
    return notebook


def gradebook_rows(course: Path, student: str) -> list:
    """Everything the gradebook holds about one student's submission: grades and comments."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(A3, student)
        return sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                      for nb in submission.notebooks for g in nb.grades) + \
            sorted((c.name, c.auto_comment, c.manual_comment) for nb in submission.notebooks for c in nb.comments)


def scores(course: Path) -> dict[str, dict[str, float]]:
    """{student: {"auto": autograded points, "manual": hand-graded points}} from the gradebook."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(A3):
            auto = sum(g.auto_score or 0 for nb in submission.notebooks for g in nb.grades if g.cell_type == "code")
            manual = sum(g.manual_score or 0 for nb in submission.notebooks for g in nb.grades)
            result[submission.student.id] = {"auto": auto, "manual": manual}
    return result


def grade(entry_point: str, course: Path, inbox: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if entry_point == "dlcourse.grading":
        return subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(course), "grade", A3,
                               str(inbox)],
                              capture_output=True, text=True, env=env)
    grading.collect(course, A3, inbox)
    return subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", A3, "--force"],
                          cwd=course, capture_output=True, text=True, env=env)


def run_attacks(entry_point: str, root: Path) -> dict[str, Any]:
    """Grade the class of attacks in a new course under ``root``; everything the tests look at."""
    course = make_course(root / "course", [A3])
    outside = root / "outside"
    outside.mkdir()
    elsewhere = root / "elsewhere"  # another checkout of the course, outside the course folder
    shutil.copytree(REPO / "exercises" / "source" / A3, elsewhere)
    marker = f"dlcourse-attack-{os.getpid()}-{time.time_ns()}"
    listeners = Listeners()
    places = {"marker": marker, "port": listeners.port, "unix": listeners.unix_path, "outside": outside,
              "course": course, "repo": REPO, "package": PACKAGE, "elsewhere": elsewhere}
    first = root / "first"  # a classmate graded before the attackers hand in
    first.mkdir()
    shutil.copy(course / "source" / A3 / f"{A3}.ipynb", first / "classmate.ipynb")
    first_result = grade(entry_point, course, first)
    classmate_rows = gradebook_rows(course, "classmate")
    classmate_file = (course / "submitted" / "classmate" / A3 / f"{A3}.ipynb").read_bytes()
    inbox = root / "inbox"
    build_class(course, inbox, places)
    before = {"package": _tree_hashes(PACKAGE), "course source": _tree_hashes(course / "source"),
              "repository source": _tree_hashes(REPO / "exercises" / "source"), "elsewhere": _tree_hashes(elsewhere)}
    start = time.perf_counter()
    result = grade(entry_point, course, inbox)
    seconds = time.perf_counter() - start
    graded = scores(course)
    time.sleep(2)  # time for anything left behind to act
    listeners.close()
    return {"root": root, "course": course, "outside": outside, "marker": marker, "connections": listeners.connections,
            "before": before, "scores": graded, "scores_later": scores(course), "classmate_file": classmate_file,
            "classmate_rows": classmate_rows, "classmate_rows_after": gradebook_rows(course, "classmate"),
            "elsewhere": elsewhere, "result": result, "first_result": first_result, "seconds": seconds,
            "left_running": processes_with(marker)}


@pytest.fixture(scope="module", params=["dlcourse.grading", "nbgrader"])
def attacked(request, tmp_path_factory):
    outcome = run_attacks(request.param, tmp_path_factory.mktemp(f"attacks-{request.param.replace('.', '-')}"))
    for result in (outcome["first_result"], outcome["result"]):
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return outcome


def full_points(course: Path) -> float:
    notebook = nbformat.read(course / "source" / A3 / f"{A3}.ipynb", as_version=4)
    return sum(cells.points(c) for c in notebook.cells if c.cell_type == "code" and cells.is_grade(c))


def test_every_attack_earns_what_its_stubs_earn_honestly(attacked):
    graded = attacked["scores"]
    assert graded["classmate"]["auto"] == full_points(attacked["course"])
    assert graded["stubs"]["auto"] == 0
    earned = {student: value["auto"] for student, value in graded.items() if student.startswith("attack_")}
    assert earned == {f"attack_{kind}": 0 for kind in ATTACKS}


def test_no_grade_changes_after_grading_and_the_classmates_rows_are_untouched(attacked):
    assert attacked["scores_later"] == attacked["scores"]
    assert all(value["manual"] == 0 for value in attacked["scores"].values())
    assert attacked["classmate_rows_after"] == attacked["classmate_rows"]


def test_package_sources_and_other_students_files_are_byte_identical(attacked):
    course = attacked["course"]
    after = {"package": _tree_hashes(PACKAGE), "course source": _tree_hashes(course / "source"),
             "repository source": _tree_hashes(REPO / "exercises" / "source"),
             "elsewhere": _tree_hashes(attacked["elsewhere"])}
    assert after == attacked["before"]
    assert (course / "submitted" / "classmate" / A3 / f"{A3}.ipynb").read_bytes() == attacked["classmate_file"]


def test_no_process_of_a_submission_is_left(attacked):
    assert attacked["left_running"] == []
    assert processes_with(attacked["marker"]) == []


def test_no_connection_reached_the_hosts_listeners(attacked):
    assert attacked["connections"] == 0


def test_no_file_was_written_outside_the_submissions_folder(attacked):
    marker = attacked["marker"]
    candidates = [attacked["outside"], Path("/tmp"), Path.home(), Path("/root"), attacked["course"],
                  attacked["course"] / "source", REPO, PACKAGE, Path("/work"), Path("/")]
    written = [str(folder / f"wrote-{marker}") for folder in candidates if (folder / f"wrote-{marker}").exists()]
    written += [str(path) for path in attacked["outside"].iterdir()]
    written += [str(path) for path in attacked["root"].rglob(f"*{marker}*")]
    assert written == []


def _printed(course: Path, student: str) -> str:
    notebook = nbformat.read(course / "autograded" / student / A3 / f"{A3}.ipynb", as_version=4)
    return "".join(o.get("text", "") for o in _cell(notebook, ANSWER_CELL).outputs)


def test_what_the_attacks_saw_from_inside(attacked):
    course = attacked["course"]
    snooped = _printed(course, "attack_snoop")
    assert "READ" not in snooped and "BEGIN SOLUTION" not in snooped and "SQLite" not in snooped
    assert "PIDS [1, 2]" in snooped  # its own kernel and bwrap's init, nothing of the host
    tampered = _printed(course, "attack_tamper_package")
    assert "WROTE" not in tampered and "DENIED" in tampered
    assert _printed(course, "attack_network").count("REFUSED") == 2
    wrote = [line.split()[1] for line in _printed(course, "attack_write_outside").splitlines()
             if line.startswith("WROTE")]
    # only the sandbox's own private /tmp and home take files (a folder of the repository shows up under the
    # private /tmp when the virtual environment lives there), and they vanish with the sandbox
    assert wrote and all(path.startswith(("/tmp/", "/home/student/")) for path in wrote), wrote
