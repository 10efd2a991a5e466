"""Grades that are right for honest work: mutants caught, honest variants in full, the same every time.

The fast tests grade answers in this process with each question's own test cell
(``dlcourse.grading.mutants``); the class tests grade real notebooks through the sandbox, twice.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from student_answers import HONEST, MISTAKES, NAMED_BY_THE_HINT
from test_grading import _cell, make_course

from dlcourse.grading import cells, mutants
from dlcourse.grading import commands as grading

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = grading.assignments(REPO / "exercises")
STUDENTS = [f"s{index:04d}" for index in range(1, 6)]
HIDDEN_ONLY = """
def output_size(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1 if n < 200 else n
"""  # right for every visible example, wrong for inputs of 200 or more


def _assignment(name: str) -> mutants.Assignment:
    return mutants.Assignment.read(REPO / "exercises" / "source" / name / f"{name}.md")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_mutant_of_the_reference_loses_its_points_for_every_student(name):
    report = mutants.mutation_test(_assignment(name), mutants.STUDENTS)
    print(report.summary())
    assert report.reference_fails == [], "the reference solution must pass its own tests"
    assert report.survived == {}, "\n".join(f"{m} survived for {', '.join(s)}" for m, s in report.survived.items())
    assert report.listed_but_killed == [], "listed as equivalent, but the tests catch them: remove them from the list"
    assert len(report.killed) >= 40  # the operators reach every question
    assert report.score == 1.0


@pytest.mark.parametrize("name, variant", [(a, v) for a in HONEST for v in HONEST[a]])
def test_honest_variants_get_full_marks_for_every_student(name, variant):
    assignment = _assignment(name)
    code = {grade_id: source for grade_id, source in HONEST[name][variant].items() if grade_id in assignment.answers}
    assert mutants.honest_variant_failures(assignment, code, STUDENTS) == []


@pytest.mark.parametrize("name, mistake", [(a, m) for a in MISTAKES for m in MISTAKES[a]])
def test_the_mistakes_students_make_lose_their_points_for_every_student(name, mistake):
    assignment = _assignment(name)
    test_id, answer_id, source = MISTAKES[name][mistake]
    question = next(q for q in assignment.questions if q.test_id == test_id)
    answers = dict(assignment.answers, **{answer_id: source})
    assert [s for s in STUDENTS if mutants.passes(assignment, question, answers, s)] == []


@pytest.mark.parametrize("name, mistake", sorted(NAMED_BY_THE_HINT))
def test_the_hint_names_the_mistake_that_was_made(name, mistake):
    from dlcourse.grading import checks
    from dlcourse.grading.runner import run_test, seed_everything

    assignment = _assignment(name)
    test_id, answer_id, source = MISTAKES[name][mistake]
    question = next(q for q in assignment.questions if q.test_id == test_id)
    answers = dict(assignment.answers, **{answer_id: source})
    names = {"__name__": "__main__"}
    checks.grading_context(name, STUDENTS[0])
    for kind, grade_id in assignment.order:
        if kind == "test":
            if grade_id == test_id:
                break
            continue
        exec(compile(dict(assignment.setup)[grade_id] if kind == "setup" else answers[grade_id], grade_id, "exec"),
             names)
    seed_everything(name, question.test_id, STUDENTS[0])
    outputs = run_test(question.test_source, names, question.test_id)
    message = " ".join(str(output.get("evalue", "")) for output in outputs)
    assert NAMED_BY_THE_HINT[name, mistake] in message, message


def test_the_reference_of_each_question_passes_alone_in_every_assignment():
    for name in ASSIGNMENTS:
        assignment = _assignment(name)
        assert all(mutants.passes(assignment, q, assignment.answers, s)
                   for q in assignment.questions for s in STUDENTS), name


FORWARD_WITH_HELPER = """
def forward(X, W1, b1, W2, b2):
    scores = relu_of(X @ W1 + b1) @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
"""
HELPER = "\ndef relu_of(x):\n    return np.maximum(x, 0.0)\n"


def test_a_question_is_graded_on_the_cells_above_it():
    """As in Jupyter: a helper defined only in a later question's cell does not exist yet at question 1."""
    assignment = _assignment("01_neural_nets")
    question = next(q for q in assignment.questions if q.test_id == "q1_tests")
    later = dict(assignment.answers, q1_answer=FORWARD_WITH_HELPER, q2_answer=assignment.answers["q2_answer"] + HELPER)
    above = dict(assignment.answers, q1_answer=HELPER + FORWARD_WITH_HELPER)
    assert [s for s in STUDENTS if mutants.passes(assignment, question, later, s)] == []
    assert all(mutants.passes(assignment, question, above, s) for s in STUDENTS)


def test_mutation_command_line_reports_scores():
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading.mutants", "01_neural_nets", "--students", "2"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "01_neural_nets:" in result.stdout and "(100.0 %)" in result.stdout


# ---------------------------------------------------------------- real notebooks, graded twice


def _notebook(blank, solution, answers):
    notebook = nbformat.from_dict(solution)
    for grade_id, source in answers.items():
        _cell(notebook, grade_id).source = source.strip() + "\n"
    return notebook


#: Regraded a second time, to show that grading is deterministic cell by cell: the assignment whose
#: hidden tests draw per-student inputs for two students with the same answer (03), the one with torch
#: in its sandbox (04) and one with recurrent NumPy code and many mistakes (06).  The seeding is the
#: same machinery for every assignment; regrading all eight doubled the suite's longest fixture.
GRADED_TWICE = ("03_conv_arithmetic", "04_cnn_architectures", "06_recurrent")


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory):
    """A class per assignment (honest variants, mistakes), graded twice with the course's commands."""
    results = {}
    for name in ASSIGNMENTS:
        root = tmp_path_factory.mktemp(name)
        course = make_course(root / "course", [name])
        solution = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        blank = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        inbox = root / "inbox"
        inbox.mkdir()
        expected = {"reference": "full", "blank": "zero"}
        nbformat.write(solution, inbox / "reference.ipynb")
        nbformat.write(blank, inbox / "blank.ipynb")
        for index, (_variant, answers) in enumerate(HONEST.get(name, {}).items()):
            nbformat.write(_notebook(blank, solution, answers), inbox / f"honest{index}.ipynb")
            expected[f"honest{index}"] = "full"
        # right on the visible examples only: the hidden tests' inputs show in the message
        if name == "03_conv_arithmetic":
            for copy in ("a", "b"):
                nbformat.write(_notebook(blank, solution, {"q1_answer": HIDDEN_ONLY}), inbox / f"hidden{copy}.ipynb")
                expected[f"hidden{copy}"] = "q1_tests"
        # one student per mistake (each mistake loses its points for three students' inputs in
        # test_the_mistakes_students_make_lose_their_points_for_every_student, graded in this process)
        for index, (_mistake, (test_id, answer_id, source)) in enumerate(MISTAKES.get(name, {}).items()):
            nbformat.write(_notebook(blank, solution, {answer_id: source}), inbox / f"mistake{index}.ipynb")
            expected[f"mistake{index}"] = test_id
        runs = []
        for run in range(2 if name in GRADED_TWICE else 1):
            grading.collect(course, name, inbox)
            notes = grading.autograde(course, name, timeout=10, regrade=run > 0)   # (else: all already graded)
            outputs = {student: _test_outputs(course, name, student) for student in expected}
            runs.append({"notes": notes, "outputs": outputs, "scores": _scores(course, name)})
        results[name] = {"course": course, "expected": expected, "runs": runs,
                         "full": _autograded_points(course / "source" / name / f"{name}.ipynb"),
                         "points": _points_by_test(course / "source" / name / f"{name}.ipynb")}
    return results


def _test_outputs(course: Path, name: str, student: str) -> dict:
    notebook = nbformat.read(course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
    return {cells.grade_id(c): [dict(o) for o in c.outputs] for c in notebook.cells if cells.is_test(c)}


def _scores(course: Path, name: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
                for s in gradebook.assignment_submissions(name)}


def _autograded_points(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    return float(sum(cells.points(c) for c in notebook.cells if c.cell_type == "code" and cells.is_grade(c)))


def _points_by_test(path: Path) -> dict:
    notebook = nbformat.read(path, as_version=4)
    return {cells.grade_id(c): cells.points(c) for c in notebook.cells if c.cell_type == "code" and cells.is_grade(c)}


@pytest.mark.slow
def test_grading_a_class_twice_gives_the_same_outputs_cell_by_cell(graded_twice):
    assert {name for name, result in graded_twice.items() if len(result["runs"]) == 2} == set(GRADED_TWICE)
    for name in GRADED_TWICE:
        first, second = graded_twice[name]["runs"]
        assert first["outputs"] == second["outputs"], name
        assert first["scores"] == second["scores"], name


@pytest.mark.slow
def test_honest_work_gets_full_marks_and_each_mistake_loses_its_question(graded_twice):
    for name, result in graded_twice.items():
        scores = result["runs"][0]["scores"]
        for student, outcome in result["expected"].items():
            autograded = {k: v for k, v in scores[student].items() if k.endswith("_tests")}
            if outcome == "full":
                assert sum(autograded.values()) == result["full"], (name, student, autograded)
            elif outcome == "zero":
                assert sum(autograded.values()) == 0, (name, student, autograded)
            else:  # a mistake costs its own question, nothing more (later tests use its reference)
                assert autograded[outcome] == 0, (name, student, outcome)
                assert sum(autograded.values()) == result["full"] - result["points"][outcome], (name, student)


@pytest.mark.slow
def test_the_solution_passes_nbgrader_validate_and_grades_without_a_note(graded_twice):
    for name, result in graded_twice.items():
        course = result["course"]
        validated = grading.nbgrader(course, "validate", str(course / "source" / name / f"{name}.ipynb"))
        assert "Success! Your notebook passes all the tests." in validated.stdout, name
        assert result["full"] > 0
        assert all(not {"reference", "blank"} & set(run["notes"]) for run in result["runs"]), name


@pytest.mark.slow
def test_different_students_get_different_inputs(graded_twice):
    outputs = graded_twice["03_conv_arithmetic"]["runs"][0]["outputs"]
    first, second = outputs["hiddena"]["q1_tests"][-1]["evalue"], outputs["hiddenb"]["q1_tests"][-1]["evalue"]
    assert first.startswith("output_size(") and second.startswith("output_size(")
    assert first != second  # the same mistake, met with other random inputs


# ---------------------------------------------------------------- the instructor's batch


@pytest.mark.slow
def test_the_batch_finishes_whatever_is_handed_in(tmp_path):
    name = "03_conv_arithmetic"
    root = make_course(tmp_path / "course", ["01_neural_nets", name])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(root / "source" / name / f"{name}.ipynb", inbox / "good.ipynb")
    shutil.copy(root / "release" / "01_neural_nets" / "01_neural_nets.ipynb", inbox / "wrong_assignment.ipynb")
    damaged = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    _cell(damaged, "q1_tests").metadata["nbgrader"]["points"] = "all of them"
    _cell(damaged, "q2_tests").metadata["nbgrader"]["grade"] = "yes please"
    nbformat.write(damaged, inbox / "damaged.ipynb")
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(root), "grade", name,
                             str(inbox)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wrong_assignment: the notebook is not assignment 03_conv_arithmetic" in result.stdout
    with open(root / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle) if row["assignment"] == name}
    assert scores["good"] == 16 and scores["wrong_assignment"] == 0
    assert "damaged" in scores
    for student in ("good", "wrong_assignment", "damaged"):
        assert (root / "feedback" / student / name / f"{name}.html").exists()


@pytest.mark.slow
def test_no_warning_for_test_cells_left_as_released(tmp_path):
    name = "03_conv_arithmetic"
    root = make_course(tmp_path / "course", [name])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(root / "release" / name / f"{name}.ipynb", inbox / "untouched.ipynb")
    edited = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
    _cell(edited, "q2_tests").source = "pass\n"
    nbformat.write(edited, inbox / "edited.ipynb")
    grading.collect(root, name, inbox)
    result = grading._nbgrader_unchecked(root, "autograde", name, "--force")
    log = result.stdout + result.stderr
    assert log.count("has changed") == 1 and "cell q2_tests has changed" in log


@pytest.mark.slow
def test_written_answers_say_not_graded_yet_until_graded_by_hand(tmp_path):
    from nbgrader.api import Gradebook

    name = "01_neural_nets"
    root = make_course(tmp_path / "course", [name])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    notebook = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    _cell(notebook, "q4_answer").source = HONEST[name]["helpers"]["q4_answer"]
    nbformat.write(notebook, inbox / "viet.ipynb")
    grading.collect(root, name, inbox)
    grading.autograde(root, name)
    page = grading.feedback(root, name)[0].read_text(encoding="utf-8")
    assert "Not graded yet" in page and "Không có hàm kích hoạt" in page
    assert "Written response (Score: 0.0" not in page
    assert "(Score: 11.0 / 11.0)" in page  # the written answer's 2 points are left out until graded
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("q4_answer", name, name, "viet")
        grade.manual_score = 1.5
        gradebook.db.commit()
    page = grading.feedback(root, name)[0].read_text(encoding="utf-8")
    assert "Not graded yet" not in page
    assert "(Score: 12.5 / 13.0)" in page


@pytest.mark.slow
def test_roster_gives_formgrader_the_students_names(tmp_path):
    from nbgrader.api import Gradebook

    root = make_course(tmp_path / "course", ["01_neural_nets"])
    roster = tmp_path / "students.csv"
    roster.write_text("id,first name,last name,email\ns001,Lan,Nguyễn,lan@example.edu\ns002,Minh,Trần,\n",
                      encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(root), "roster", str(roster)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "2 students in the gradebook" in result.stdout
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
    assert students == {"s001": ("Lan", "Nguyễn", "lan@example.edu"), "s002": ("Minh", "Trần", None)}
    roster.write_text("s 003,Bad,Id,\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(root), "roster", str(roster)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "row 1: the student id 's 003'" in bad.stderr
