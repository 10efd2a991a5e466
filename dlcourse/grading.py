"""Short commands around nbgrader for the dlcourse course in ``exercises/``.

Each command runs nbgrader's own application for one step of the common path; the
code here only prepares files and checks the results.

    python -m dlcourse.grading release               # source/*.md -> .ipynb, then generate_assignment
    python -m dlcourse.grading collect A FOLDER      # FOLDER/<student>.ipynb -> submitted/<student>/A/
    python -m dlcourse.grading autograde A           # nbgrader autograde, every submission, in the sandbox
    python -m dlcourse.grading feedback A            # nbgrader generate_feedback, hidden tests' code hidden
    python -m dlcourse.grading export                # nbgrader export -> grades.csv
    python -m dlcourse.grading grade A FOLDER        # collect, autograde, feedback and export in one go
    python -m dlcourse.grading roster students.csv   # id, first name, last name, email -> the gradebook

Grading runs each notebook in a bubblewrap sandbox and decides the points outside it
(``dlcourse.verdict``, installed by the course's nbgrader_config.py, so plain
``nbgrader autograde`` and formgrader do the same).  Where the sandbox cannot be set up,
grading stops and says what to install; ``--no-sandbox`` grades trusted notebooks without
it, and says so on every result.

Assignments are written as MyST Markdown notebooks (``source/A/A.md``, diff-friendly);
``release`` turns them into the ``.ipynb`` files nbgrader reads, cell metadata included.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import jupytext
import nbformat

from . import sandbox, verdict

COURSE = Path(__file__).resolve().parents[1] / "exercises"
LEAKS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "Model answer")
NOTES_FILE = "dlcourse_notes.json"
MAX_NOTEBOOK_BYTES = 50 * 2**20  # a submitted notebook larger than this is graded as blank


def assignments(course: Path = COURSE) -> List[str]:
    """Names of the assignments in ``source/``, in order."""
    return sorted(p.name for p in (course / "source").iterdir() if (p / f"{p.name}.md").exists())


def _nbgrader_command(course: Path, args: Sequence[str]) -> Tuple[List[str], Dict[str, str]]:
    bin_dir = Path(sys.executable).parent  # nbgrader calls `alembic` from the PATH
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return [str(bin_dir / "nbgrader"), *args], env


def _nbgrader_unchecked(course: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = _nbgrader_command(course, args)
    return subprocess.run(command, cwd=course, capture_output=True, text=True, env=env)


def _nbgrader_start(course: Path, *args: str) -> subprocess.Popen:
    command, env = _nbgrader_command(course, args)
    return subprocess.Popen(command, cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course folder; raise with its output if it fails."""
    result = _nbgrader_unchecked(course, *args)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def release(course: Path = COURSE, names: Optional[Sequence[str]] = None) -> List[Path]:
    """Write each source notebook as .ipynb, generate the student versions, check for leaks."""
    released = []
    for name in names or assignments(course):
        source = course / "source" / name / f"{name}.md"
        if not source.exists():
            raise ValueError(f"no assignment source {source}; known: {', '.join(assignments(course))}")
        jupytext.write(jupytext.read(source), source.with_suffix(".ipynb"))
        nbgrader(course, "generate_assignment", name, "--force")
        check_no_leaks(course / "release" / name)
        released.append(course / "release" / name / f"{name}.ipynb")
    return released


def check_no_leaks(folder: Path) -> None:
    """Raise if any released file holds a solution, a hidden test or a model answer."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [marker for marker in LEAKS if marker in text]
        if found:
            raise RuntimeError(f"{path} leaks {', '.join(found)}; it must not be given to students")


def collect(course: Path, name: str, folder: Path) -> Dict[str, str]:
    """Copy ``folder/<student>.ipynb`` to ``submitted/<student>/<name>/<name>.ipynb``.

    A file that is not a readable notebook, or is a notebook of another assignment, is
    replaced by the blank student version (so it grades to 0 without stopping the batch),
    and the reason is kept for the feedback.  Returns {student: note} for such files.
    """
    blank = course / "release" / name / f"{name}.ipynb"
    if not blank.exists():
        raise ValueError(f"{name} is not released yet: run `python -m dlcourse.grading release {name}`")
    fixed = _fixed_cells(nbformat.read(blank, as_version=4))
    notes: Dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        student = path.stem
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", student):
            raise ValueError(f"{path.name}: name submissions <student-id>.ipynb with letters, digits, _ . -")
        target = course / "submitted" / student / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        note = _problem(path, fixed, name)
        if note:
            notes[student] = note
            shutil.copy(blank, target / f"{name}.ipynb")
            (target / NOTES_FILE).write_text(json.dumps({"note": note}), encoding="utf-8")
        else:
            shutil.copy(path, target / f"{name}.ipynb")
    return notes


def _fixed_cells(notebook: nbformat.NotebookNode) -> Dict[str, str]:
    """The locked cells of a notebook (the assignment's own text and code): {grade_id: source}."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("locked") and "grade_id" in cell.metadata["nbgrader"]}


def _problem(path: Path, fixed: Dict[str, str], name: str) -> str:
    """Why a submitted file cannot be graded as assignment ``name`` ("" if it can).

    A notebook of another assignment may share cell ids with this one (q1_answer is in
    every assignment), so it is recognised by the text of its locked cells: at least half
    of those it shares with the released notebook must be the same.
    """
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; it was graded as blank"
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # any unreadable file is reported, whatever the parser raised
        return f"the file is not a readable notebook ({type(error).__name__}); it was graded as blank"
    theirs = _fixed_cells(notebook)
    shared = [grade_id for grade_id in fixed if grade_id in theirs]
    same = [grade_id for grade_id in shared if theirs[grade_id].strip() == fixed[grade_id].strip()]
    if not shared or len(same) * 2 < len(shared):
        return (f"the notebook is not assignment {name} (its fixed cells are those of another notebook); "
                "it was graded as blank")
    return ""


def autograde(course: Path, name: str, timeout: Optional[int] = None, sandboxed: bool = True,
              jobs: Optional[int] = None) -> Dict[str, str]:
    """``nbgrader autograde`` for every submission of ``name``; returns {student: note}.

    The course's configuration makes nbgrader run each notebook in the sandbox and decide
    the points outside it (``dlcourse.verdict``); a cell that ended or froze the kernel is
    skipped, and the note says which.  Submissions are graded by ``jobs`` nbgrader
    processes side by side (the machine's cores by default).  A notebook nbgrader cannot
    grade is graded again as the blank notebook, with a note, and the batch goes on.
    Without the sandbox (``sandboxed=False``, trusted notebooks only) every student's note
    says so.  Raises ``SandboxUnavailable`` when the sandbox cannot be set up, before
    grading anything.
    """
    if sandboxed:
        sandbox.check_available()
    extra = (([f"--Execute.timeout={timeout}"] if timeout else [])
             + ([] if sandboxed else ["--SandboxedExecute.sandbox=False"]))
    students = sorted(p.parts[-3] for p in (course / "submitted").glob(f"*/{name}/{name}.ipynb"))
    _nbgrader_in_parallel(course, "autograde", name, students, extra, jobs)
    notes: Dict[str, str] = {}
    for student in students:
        graded = course / "autograded" / student / name / f"{name}.ipynb"
        if not graded.exists():
            notes[student] = _grade_as_blank(course, name, student, extra)
            continue
        note = grading_notes(nbformat.read(graded, as_version=4))
        if not sandboxed:
            note = "; ".join(filter(None, ["graded WITHOUT a sandbox (--no-sandbox)", note]))
        if note:
            notes[student] = note
    return notes


def _nbgrader_in_parallel(course: Path, command: str, name: str, students: List[str], extra: Sequence[str] = (),
                          jobs: Optional[int] = None) -> None:
    """Split the students into ``jobs`` groups (the cores by default) and run one nbgrader per group at once."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    # dealt in the order of a hash of their ids, so students whose ids follow a pattern (and whose
    # notebooks might all be slow) are not all dealt to one group
    shuffled = sorted(students, key=lambda student: hashlib.sha256(student.encode()).hexdigest())
    groups = [shuffled[index::jobs] for index in range(min(jobs, len(students)))]
    runs = []
    for group in groups:
        others = sorted(set(students) - set(group))
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
        runs.append(_nbgrader_start(course, command, name, "--force", *exclude, *extra))
    for run in runs:
        run.communicate()


def _grade_as_blank(course: Path, name: str, student: str, extra: List[str]) -> str:
    """Grade a notebook nbgrader could not grade as the blank one; the note for the student."""
    target = course / "submitted" / student / name
    shutil.copy(course / "release" / name / f"{name}.ipynb", target / f"{name}.ipynb")
    note = "nbgrader could not grade the notebook as it was handed in (its cells' grading data are damaged); " \
           "it was graded as blank"
    (target / NOTES_FILE).write_text(json.dumps({"note": note}), encoding="utf-8")
    _nbgrader_unchecked(course, "autograde", name, "--force", "--student", student, *extra)
    if not (course / "autograded" / student / name / f"{name}.ipynb").exists():
        note = "nbgrader could not grade the notebook, even blank; it scored 0"
        (target / NOTES_FILE).write_text(json.dumps({"note": note}), encoding="utf-8")
    return note


def grading_notes(notebook: nbformat.NotebookNode) -> str:
    """What the grader did to a notebook besides grading it (skipped cells, lost kernels)."""
    notes = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "a cell")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == verdict.SKIPPED:
                notes.append(f"running answer cell '{grade_id}' ended or froze the Python process (for example with "
                             "os._exit); that cell was skipped and scored 0, the rest was graded as usual")
            elif output.get("output_type") == "error" and output.get("ename") == "KernelLost":
                notes.append(f"the notebook's kernel stopped during test '{grade_id}', which scored 0")
    return "; ".join(notes)


def feedback(course: Path, name: str, jobs: Optional[int] = None) -> List[Path]:
    """``nbgrader generate_feedback``, with a note from the grader where collecting changed a file.

    The course's configuration hides the hidden tests' code (``HideHiddenTests``): students
    see which checks failed and the message each gave.
    """
    for notebook_path in sorted((course / "autograded").glob(f"*/{name}/{name}.ipynb")):
        note_file = course / "submitted" / notebook_path.parts[-3] / name / NOTES_FILE
        if note_file.exists():
            notebook = nbformat.read(notebook_path, as_version=4)
            note = json.loads(note_file.read_text(encoding="utf-8"))["note"]
            text = f"**Note from the grader:** {note}."
            if not (notebook.cells and notebook.cells[0].source == text):
                notebook.cells.insert(0, nbformat.v4.new_markdown_cell(text))
                nbformat.write(notebook, notebook_path)
    students = sorted(p.parts[-3] for p in (course / "autograded").glob(f"*/{name}/{name}.ipynb"))
    _nbgrader_in_parallel(course, "generate_feedback", name, students, jobs=jobs)
    made = sorted((course / "feedback").glob(f"*/{name}/{name}.html"))
    missing = sorted(set(students) - {path.parts[-3] for path in made})
    if missing:
        raise RuntimeError(f"`nbgrader generate_feedback {name}` made no feedback for {', '.join(missing)}; "
                           f"see {course / '.nbgrader.log'}")
    return made


def roster(course: Path, students_csv: Path) -> List[str]:
    """Add or update the students of a CSV file (id, first name, last name, email) in the gradebook.

    Formgrader then shows their names.  The first row may be a header.  Returns the ids.
    """
    from nbgrader.api import Gradebook

    with open(students_csv, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if rows and rows[0][0].strip().lower() in ("id", "student_id", "student id"):
        rows = rows[1:]
    ids = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gradebook:
        for number, row in enumerate(rows, start=1):
            cells = [cell.strip() for cell in row] + [""] * 4
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", cells[0]):
                raise ValueError(f"{students_csv}, row {number}: the student id {cells[0]!r} "
                                 "should be letters, digits, _ . -")
            gradebook.update_or_create_student(cells[0], first_name=cells[1] or None, last_name=cells[2] or None,
                                               email=cells[3] or None)
            ids.append(cells[0])
    return ids


def export(course: Path = COURSE, to: Optional[Path] = None) -> Path:
    """nbgrader export: one row per student and assignment, in a CSV file."""
    to = to or course / "grades.csv"
    nbgrader(course, "export", "--to", str(to))
    return to


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", type=Path, default=COURSE, help="the nbgrader course folder")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("release").add_argument("assignments", nargs="*")
    for command in ("collect", "grade", "autograde"):
        sub = commands.add_parser(command)
        sub.add_argument("assignment")
        if command != "autograde":
            sub.add_argument("folder", type=Path)
        if command != "collect":
            sub.add_argument("--no-sandbox", action="store_true",
                             help="grade without the sandbox: ONLY for notebooks you trust (every result says so)")
            sub.add_argument("--jobs", type=int, default=None,
                             help="notebooks graded side by side (default: the cores)")
    commands.add_parser("feedback").add_argument("assignment")
    commands.add_parser("export")
    commands.add_parser("roster").add_argument("students", type=Path, help="CSV: id, first name, last name, email")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    try:
        if args.command == "release":
            for path in release(course, args.assignments):
                print(f"released {path.relative_to(course)}")
        elif args.command in ("collect", "grade"):
            for student, note in collect(course, args.assignment, args.folder).items():
                print(f"{student}: {note}")
            if args.command == "grade":
                for student, note in autograde(course, args.assignment, sandboxed=not args.no_sandbox,
                                               jobs=args.jobs).items():
                    print(f"{student}: {note}")
                for path in feedback(course, args.assignment, jobs=args.jobs):
                    print(f"feedback {path.relative_to(course)}")
                print(f"grades in {export(course).relative_to(course)}")
        elif args.command == "autograde":
            for student, note in autograde(course, args.assignment, sandboxed=not args.no_sandbox,
                                           jobs=args.jobs).items():
                print(f"{student}: {note}")
        elif args.command == "feedback":
            for path in feedback(course, args.assignment):
                print(f"feedback {path.relative_to(course)}")
        elif args.command == "roster":
            print(f"{len(roster(course, args.students))} students in the gradebook")
        else:
            print(f"grades in {export(course)}")
    except (ValueError, RuntimeError) as error:
        print(f"dlcourse.grading: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
