"""The nbgrader course: release, round trips and a class of adversarial submissions.

A copy of exercises/ is released, a class of submissions is built from the instructor's
and the student's versions (one per attack in the issue), then graded with the course's
own commands.  Expected scores come from the points written in the assignment: question
1 is worth 4, question 2 is 4, question 3 is 3 (autograded), question 4 is 2 (by hand).
"""

from __future__ import annotations

import copy
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlcourse.grading import cells
from dlcourse.grading import commands as grading
from dlcourse.grading.notes import read_note

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
A1 = "01_neural_nets"
POINTS = {"q1": 4, "q2": 4, "q3": 3}
FULL = sum(POINTS.values())
TIMEOUT = 5  # seconds per cell in these tests (the course uses 20)


def make_course(root: Path, names=None) -> Path:
    """A copy of the course's configuration and sources in ``root``, released."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "exercises" / "nbgrader_config.py", root)
    shutil.copytree(REPO / "exercises" / "source", root / "source", ignore=shutil.ignore_patterns("*.ipynb"))
    grading.release(root, names)
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("course"), [A1])


def _cell(notebook, grade_id):
    return next(c for c in notebook.cells if cells.grade_id(c) == grade_id)


def autograded_points(notebook_path: Path) -> float:
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum(cells.points(c) for c in notebook.cells if c.cell_type == "code" and cells.is_grade(c))


def build_class(course: Path, folder: Path) -> dict:
    """One submission per case; returns the score each should get."""
    solution = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    blank = nbformat.read(course / "release" / A1 / f"{A1}.ipynb", as_version=4)
    folder.mkdir()
    expected = {}

    def submit(student, notebook, score):
        nbformat.write(notebook, folder / f"{student}.ipynb")
        expected[student] = score

    def variant(base, **answers):
        notebook = copy.deepcopy(base)
        for grade_id, source in answers.items():
            _cell(notebook, grade_id).source = source
        return notebook

    submit("alice", solution, FULL)                                                    # the instructor's version
    nbformat.write(solution, folder / "walter.ipynb")            # its folder gets links and a pipe (plant_extras)
    crowd = copy.deepcopy(solution)
    crowd.cells += [nbformat.v4.new_code_cell("x = 1") for _ in range(300)]
    submit("crowd", crowd, 0)                                    # more cells than a submission may have
    submit("bob", blank, 0)                                                            # nothing done
    submit("carol", variant(solution, q2_answer="while True:\n    pass\n"), FULL - POINTS["q2"])     # (a) infinite loop
    submit("dave", variant(solution, q1_answer="import sys\nsys.exit()\n"), FULL - POINTS["q1"])    # (b) sys.exit
    submit("erin", variant(solution, q3_answer="import os\nos._exit(0)\n"), FULL - POINTS["q3"])    # (b) os._exit
    deleted = copy.deepcopy(solution)
    deleted.cells.remove(_cell(deleted, "q1_tests"))
    submit("frank", deleted, FULL)                                                     # (c) test cell deleted
    submit("grace", variant(solution, q2_answer="def sigmoid(x):\n    return 0 * x\n\ndef relu(x):\n    return x\n\n"
                            "def softmax(z):\n    return z\n", q2_tests="pass\n"),
           FULL - POINTS["q2"])  # (d) test edited
    submit("heidi", variant(solution, q3_answer=(
        "import numpy as np, dlcourse.grading.checks\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "abs = lambda x: 0\nround = lambda *a: 0\n"
        "dlcourse.grading.checks.check_close = lambda *a, **k: None\ncheck_close = lambda *a, **k: None\n"
        "def collapse(weights, biases):\n"
        "    return weights[0], biases[0]\n")), FULL - POINTS["q3"])                        # (e) redefinitions
    snoop = ("\nimport glob\n"
             "for path in glob.glob('{course}/source/*/*') + ['{course}/gradebook.db', '{repo}/.git/HEAD',"
             " '{repo}/exercises/source/{a}/{a}.md']:\n"
             "    try:\n        print('READ', path, open(path).read()[:200])\n"
             "    except OSError as error:\n        print('DENIED', path, type(error).__name__)\n")
    submit("ivan", variant(solution, q1_answer=_cell(solution, "q1_answer").source
                           + snoop.format(course=course, repo=REPO, a=A1)), FULL)     # (f) reads instructor files
    submit("judy", variant(solution, q1_answer=_cell(solution, "q1_answer").source
                           + "\nfor _ in range(2000):\n    print('x' * 500_000)\n"), FULL)  # (g) a gigabyte of output
    (folder / "mallory.ipynb").write_text("{ this is not json", encoding="utf-8")      # (h) not JSON
    expected["mallory"] = 0
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = 42", metadata={"nbgrader": {
        "grade_id": "other_q1", "solution": True, "grade": False, "locked": False, "schema_version": 3}})])
    submit("ken", other, 0)                                                            # (i) another assignment
    # Each test sees the notebook as it is at its question, as `nbgrader validate` does:
    late_helper = variant(solution, q1_answer=(
        "def forward(X, W1, b1, W2, b2):\n"
        "    scores = relu_of(X @ W1 + b1) @ W2 + b2\n"
        "    scores = scores - scores.max(axis=1, keepdims=True)\n"
        "    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)\n"))
    late_helper.cells.append(nbformat.v4.new_code_cell("def relu_of(x):\n    return np.maximum(x, 0.0)\n"))
    submit("oscar", late_helper, FULL - POINTS["q1"])    # a helper defined only in the last cell: NameError at q1
    reused = variant(solution, q1_answer=(
        "SHIFT = 0.0\n\n"
        "def forward(X, W1, b1, W2, b2):\n"
        "    scores = np.maximum(X @ W1 + b1, 0.0) @ W2 + b2 + SHIFT\n"
        "    scores = scores - scores.max(axis=1, keepdims=True)\n"
        "    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)\n"))
    reused.cells.append(nbformat.v4.new_code_cell("SHIFT = {'a later question': 'reuses the name'}\n"))
    submit("peggy", reused, FULL)                        # a name reused below q1 does not change q1's state
    # Copy-paste is honest: a cell copied (same grade id) is repaired, never a reason to grade as blank.
    for student, grade_id in (("quentin", "q1_answer"), ("rupert", "q2_tests")):
        copied = copy.deepcopy(solution)
        index = copied.cells.index(_cell(copied, grade_id))
        copied.cells.insert(index + 1, copy.deepcopy(copied.cells[index]))
        submit(student, copied, FULL)
    # Markup in a written answer, a raw HTML cell, a fake grader's note, odd metadata: shown as text, never run.
    hostile = copy.deepcopy(solution)
    _cell(hostile, "q4_answer").source = HOSTILE_MARKDOWN
    _cell(hostile, "q1_answer").metadata["magics_language"] = "no-such-lexer"
    hostile.cells.append(nbformat.v4.new_raw_cell(HOSTILE_MARKDOWN, metadata={"raw_mimetype": "text/html"}))
    hostile.cells.append(nbformat.v4.new_markdown_cell("fake", metadata={"dlcourse_grader_note": "FAKE NOTE"}))
    submit("sybil", hostile, FULL)
    # Zeroing the inputs in place, so that an expected value computed from them afterwards agrees (+4 before).
    submit("trent", variant(solution, q1_answer=(
        "def forward(X, W1, b1, W2, b2):\n"
        "    for array in (X, W1, b1, W2, b2):\n"
        "        array[...] = 0.0\n"
        "    return np.full((X.shape[0], W2.shape[1]), 1.0 / W2.shape[1])\n")), FULL - POINTS["q1"])
    # "NumPy only" is a rule of the sandbox: torch and the grader's own references are not there (+8 before).
    submit("uma", variant(solution, q1_answer=(
        "import torch\n\n"
        "def forward(X, W1, b1, W2, b2):\n"
        "    hidden = torch.relu(torch.tensor(X) @ torch.tensor(W1) + torch.tensor(b1))\n"
        "    return torch.softmax(hidden @ torch.tensor(W2) + torch.tensor(b2), dim=1).numpy()\n")),
        FULL - POINTS["q1"])
    submit("victor", variant(solution, q1_answer=(
        "import dlcourse.grading.checks\n\n"
        "def forward(X, W1, b1, W2, b2):\n"
        "    return dlcourse.grading.checks.reference_forward(X, W1, b1, W2, b2)\n")), FULL - POINTS["q1"])
    return expected


HOSTILE_MARKDOWN = ("[plot](javascript:alert(document.domain)) <img src=x onerror=\"alert(1)\"> "
                    "<script>alert(2)</script> [b](JaVa&#x09;ScRiPt:alert(3)) ![att](attachment:missing.png) "
                    "<a href='data:text/html,<script>alert(4)</script>'>d</a> <svg onload=alert(5)>")


def plant_extras(course: Path) -> None:
    """Submission folders that hold more than a notebook (after collect, as a student's upload would)."""
    folder = course / "submitted" / "walter" / A1
    os.symlink("/etc/passwd", folder / "passwd.txt")
    os.symlink(course / "source" / A1 / f"{A1}.ipynb", folder / "solution.ipynb.txt")
    os.mkfifo(folder / "pipe")
    (folder / "notes").mkdir()
    linker = course / "submitted" / "linker" / A1
    linker.mkdir(parents=True)
    os.symlink(course / "source" / A1 / f"{A1}.ipynb", linker / f"{A1}.ipynb")   # 12/12 before


@pytest.fixture(scope="module", params=["dlcourse.grading", "nbgrader"])
def graded(request, tmp_path_factory):
    """The class graded through one entry point: the course's commands, or plain nbgrader."""
    course = make_course(tmp_path_factory.mktemp("course"), [A1])
    folder = tmp_path_factory.mktemp("inbox") / "submissions"
    expected = build_class(course, folder)
    collect_notes = grading.collect(course, A1, folder)
    plant_extras(course)
    expected.update(walter=FULL, linker=0)
    if request.param == "dlcourse.grading":
        grade_notes = grading.autograde(course, A1, timeout=TIMEOUT)
        feedback = grading.feedback(course, A1)
    else:
        # plain nbgrader in the course folder, as an instructor (or formgrader) runs it; it reports the
        # notebooks it could not grade and goes on
        result = grading._nbgrader_unchecked(course, "autograde", A1, "--force", f"--Execute.timeout={TIMEOUT}")
        failed = re.findall(r"error processing assignment '\S+' for student '(\w+)'", result.stderr)
        assert sorted(failed) == ["crowd", "linker"], result.stderr[-3000:]   # nbgrader reports them and goes on
        grading.nbgrader(course, "generate_feedback", A1, "--force")
        grade_notes = {}
        for path in sorted((course / "autograded").glob(f"*/{A1}/{A1}.ipynb")):
            note = grading.grading_notes(nbformat.read(path, as_version=4))
            if note:
                grade_notes[path.parts[-3]] = note
        feedback = sorted((course / "feedback").glob(f"*/{A1}/{A1}.html"))
    with open(grading.export(course), newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    return {"expected": expected, "scores": scores, "notes": {**collect_notes, **grade_notes}, "feedback": feedback,
            "course": course, "entry_point": request.param}


def test_release_holds_no_solutions_hidden_tests_or_sources(course):
    released = sorted(p.name for p in (course / "release" / A1).iterdir())
    assert released == [f"{A1}.ipynb"]
    text = (course / "release" / A1 / f"{A1}.ipynb").read_text()
    for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Model answer", "reference_forward"):
        assert secret not in text
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text


def test_leak_check_refuses_a_release_with_a_solution(tmp_path):
    (tmp_path / "a.ipynb").write_text('{"source": "### BEGIN SOLUTION"}')
    with pytest.raises(RuntimeError, match="leaks ### BEGIN SOLUTION"):
        grading.check_no_leaks(tmp_path)


def test_solution_passes_nbgrader_validate(course):
    result = grading.nbgrader(course, "validate", str(course / "source" / A1 / f"{A1}.ipynb"))
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_assignment_points(course):
    assert autograded_points(course / "source" / A1 / f"{A1}.ipynb") == FULL


def test_every_student_gets_the_score_the_attack_deserves(graded):
    assert graded["scores"] == pytest.approx(graded["expected"])


def test_feedback_for_everyone_without_hidden_test_code(graded):
    pages = {path.parts[-3]: path.read_text() for path in graded["feedback"]}
    not_graded = {"linker", "crowd"} if graded["entry_point"] == "nbgrader" else set()  # plain nbgrader: no result
    assert set(pages) == set(graded["expected"]) - not_graded
    for student, page in pages.items():
        assert "BEGIN HIDDEN TESTS" not in page, student
        assert "random_layers" not in page and "course_softmax" not in page, student
    assert "hidden tests: their code is not shown" in pages["bob"]
    assert "NotImplementedError" in pages["bob"]
    assert "CellTimeoutError" in pages["carol"]
    assert "collapse" in pages["heidi"] and "AssertionError" in pages["heidi"]


def test_copied_cells_are_repaired_and_the_handed_in_file_is_kept(graded):
    for student in ("quentin", "rupert"):
        assert graded["scores"][student] == FULL and student not in graded["notes"]
        submitted = graded["course"] / "submitted" / student / A1 / f"{A1}.ipynb"
        ids = [cells.grade_id(c) for c in nbformat.read(submitted, as_version=4).cells]
        assert len(ids) - len(set(ids)) >= 1      # the student's file, as handed in, with its copied cell


def test_only_the_notebook_enters(graded):
    """Links, pipes and other files of a submission folder never reach the graded or feedback folders."""
    course = graded["course"]
    for place in ("autograded", "feedback"):
        for path in (course / place).rglob("*"):
            assert path.suffix in (".ipynb", ".html", ".txt") or path.is_dir(), path
            assert not path.is_symlink(), path
            if path.is_file():
                assert "root:x:0:0" not in path.read_text(errors="replace"), path
    assert sorted(p.name for p in (course / "quarantine" / A1 / "walter").iterdir()) == \
        ["notes", "passwd.txt", "pipe", "solution.ipynb.txt"]
    for place in ("autograded", "feedback"):        # the link to the source is not graded as the source
        for path in (course / place / "linker").rglob("*"):
            assert path.is_dir() or "BEGIN SOLUTION" not in path.read_text(errors="replace"), path
    assert graded["scores"]["linker"] == 0
    assert "is a link" in read_note(course, A1, "linker")
    assert "cells, more than the 300 a submission may have" in read_note(course, A1, "crowd")
    assert (course / "submitted" / "crowd" / A1 / f"{A1}.ipynb").exists()          # the handed-in file is kept


def test_nothing_a_student_writes_runs_in_the_feedback(graded):
    page = next(path for path in graded["feedback"] if path.parts[-3] == "sybil").read_text()
    for live in (r"<[^<>]*\s(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):", r"<[^<>]*\son(error|load)\s*=",
                 r"<script>alert", r"<svg", r"(?i)<[^<>]*=\s*[\"']?\s*j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:",
                 r"FAKE NOTE"):   # (a %-encoded scheme, as "JaVa%09ScRiPt:", is a relative URL: no scheme)
        assert not re.search(live, page), live
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page      # shown as the text it is
    assert "dlcourse-grader-note" not in page                     # no note box: sybil has no note


def test_feedback_says_what_happened(graded):
    notes = graded["notes"]
    by_the_course = {"linker", "crowd"} if graded["entry_point"] == "dlcourse.grading" else set()  # graded as blank
    assert set(notes) == {"erin", "mallory", "ken"} | by_the_course
    assert "q3_answer" in notes["erin"] and "ended or froze the Python process" in notes["erin"]
    assert "not a readable notebook" in notes["mallory"]
    assert "is not assignment 01_neural_nets" in notes["ken"]
    pages = {path.parts[-3]: path.read_text() for path in graded["feedback"]}
    for student in ("mallory", "ken"):
        assert "Note from the grader" in pages[student]
    assert "it was skipped and the rest of the notebook was graded without it" in pages["erin"]


def _answer_output(course, student, grade_id):
    notebook = nbformat.read(course / "autograded" / student / A1 / f"{A1}.ipynb", as_version=4)
    return "".join(output.get("text", "") for output in _cell(notebook, grade_id).outputs)


def test_a_submission_cannot_read_the_instructors_files(graded):
    output = _answer_output(graded["course"], "ivan", "q1_answer")
    assert "READ" not in output
    assert output.count("DENIED") == 3  # gradebook, git history, the repository's source; source/ lists as empty
    assert "BEGIN SOLUTION" not in output


def test_a_gigabyte_of_output_is_cut(graded):
    output = _answer_output(graded["course"], "judy", "q1_answer")
    assert 1_000_000 <= len(output) < 1_001_000
    assert "the grader dropped the rest of the output" in output


def test_command_line_reports_errors_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(tmp_path), "collect", "nope",
                             str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("dlcourse.grading: error: nope is not released yet")


def test_answers_that_use_dlcourse_calc_score_zero(tmp_path):
    name = "03_conv_arithmetic"
    root = make_course(tmp_path / "course", [name])
    solution = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    borrowed = copy.deepcopy(solution)
    _cell(borrowed, "q1_answer").source = (
        "from dlcourse.calc import conv_output_size\n\n"
        "def output_size(n, k, s=1, p=0):\n    return conv_output_size(n, k, s, p)\n")
    _cell(borrowed, "q7_answer").source = (
        "import dlcourse.calc\n\n"
        "def dataset_size(images, crops_per_image, transforms):\n"
        "    return dlcourse.calc.augmented_count(images, crops_per_image, transforms)\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(borrowed, inbox / "borrower.ipynb")
    grading.collect(root, name, inbox)
    grading.autograde(root, name, timeout=TIMEOUT)
    with open(grading.export(root), newline="") as handle:
        score = float(next(csv.DictReader(handle))["score"])
    # question 1 (2 points) and question 7 (1 point) are lost; question 4's walk calls output_size, and
    # since question 1 failed, its test runs with the reference output_size: that mistake costs q1 only
    assert score == autograded_points(root / "source" / name / f"{name}.ipynb") - 2 - 1
    page = grading.feedback(root, name)[0].read_text()
    assert "dlcourse.calc is not available while this assignment is graded" in page


def test_output_cap_cuts_and_says_so(capsys):
    from dlcourse.grading.sandbox import _capped

    written = []
    state = {"left": 10, "told": False}
    write = _capped(written.append, state, 10)
    for _ in range(3):
        assert write("abcdefgh") == 8  # the caller is told everything was written
    assert "".join(written).startswith("abcdefghab")
    assert written[-1].strip() == "[the grader dropped the rest of the output: more than 10 characters]"
    assert len(written) == 3


def _small_class(tmp_path, name=A1):
    root = make_course(tmp_path / "course", [name])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(root / "source" / name / f"{name}.ipynb", inbox / "instructor.ipynb")
    return root, inbox


def test_without_the_sandbox_every_result_says_so(tmp_path):
    root, inbox = _small_class(tmp_path)
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(root), "grade", A1, str(inbox),
                             "--no-sandbox"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "instructor: graded WITHOUT a sandbox (--no-sandbox)" in result.stdout
    graded = nbformat.read(root / "autograded" / "instructor" / A1 / f"{A1}.ipynb", as_version=4)
    assert graded.cells[0].metadata["dlcourse_grader_note"].startswith("Graded without a sandbox")
    assert "Graded without a sandbox" in (root / "feedback" / "instructor" / A1 / f"{A1}.html").read_text()
    with open(root / "grades.csv", newline="") as handle:
        assert float(next(csv.DictReader(handle))["score"]) == FULL  # the verdict is still made outside the notebook


def test_no_sandbox_no_grades_on_either_path(tmp_path):
    """Where bubblewrap is missing, both entry points stop before grading anything."""
    root, inbox = _small_class(tmp_path)
    bin_only = str(Path(sys.executable).parent)  # the environment's tools, and no bwrap
    env = dict(os.environ, PATH=bin_only)
    cli = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(root), "grade", A1, str(inbox)],
                         capture_output=True, text=True, env=env)
    assert cli.returncode == 2
    assert "bubblewrap (`bwrap`) is not installed" in cli.stderr and "apt-get install bubblewrap" in cli.stderr
    plain = subprocess.run([str(Path(bin_only) / "nbgrader"), "autograde", A1, "--force"], cwd=root,
                           capture_output=True, text=True, env=env)
    assert plain.returncode != 0
    assert "bubblewrap (`bwrap`) is not installed" in plain.stdout + plain.stderr
    assert not (root / "autograded" / "instructor" / A1 / f"{A1}.ipynb").exists()


def test_formgraders_autograde_button_grades_the_same_way(tmp_path):
    """Formgrader's button calls NbGraderAPI.autograde with the course's configuration."""
    from attacks import A3, attack_source
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = make_course(tmp_path / "course", [A3])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    attacker = nbformat.read(root / "release" / A3 / f"{A3}.ipynb", as_version=4)
    _cell(attacker, "q1_answer").source = attack_source("input_transformer")
    nbformat.write(attacker, inbox / "attacker.ipynb")
    shutil.copy(root / "source" / A3 / f"{A3}.ipynb", inbox / "classmate.ipynb")
    grading.collect(root, A3, inbox)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for student in ("attacker", "classmate"):
        assert api.autograde(A3, student)["success"]
    submissions = {s["student"]: s for s in api.get_submissions(A3)}
    assert submissions["attacker"]["code_score"] == 0
    assert submissions["classmate"]["code_score"] == submissions["classmate"]["max_code_score"] > 0
