"""Short commands around nbgrader for the dlcourse course in ``exercises/``.

Each command runs nbgrader's own application for one step of the common path; the
code here only prepares files and checks the results.

    python -m dlcourse.grading release               # source/*.md -> .ipynb, then generate_assignment
    python -m dlcourse.grading collect A FOLDER      # FOLDER/<student>.ipynb -> submitted/<student>/A/
    python -m dlcourse.grading autograde A           # nbgrader autograde, every submission, in the sandbox
    python -m dlcourse.grading feedback A            # nbgrader generate_feedback, hidden tests' code hidden
    python -m dlcourse.grading export                # nbgrader export -> grades.csv
    python -m dlcourse.grading grade A FOLDER        # collect, autograde, feedback and export in one go

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
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import jupytext
import nbformat

from . import sandbox, verdict

COURSE = Path(__file__).resolve().parents[1] / "exercises"
LEAKS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "Model answer")
NOTES_FILE = "dlcourse_notes.json"


def assignments(course: Path = COURSE) -> List[str]:
    """Names of the assignments in ``source/``, in order."""
    return sorted(p.name for p in (course / "source").iterdir() if (p / f"{p.name}.md").exists())


def _nbgrader_unchecked(course: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent  # nbgrader calls `alembic` from the PATH
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", DLCOURSE_COURSE=str(course))
    return subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, capture_output=True, text=True, env=env)


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
    expected_ids = _grade_ids(nbformat.read(blank, as_version=4))
    notes: Dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        student = path.stem
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", student):
            raise ValueError(f"{path.name}: name submissions <student-id>.ipynb with letters, digits, _ . -")
        target = course / "submitted" / student / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        note = _problem(path, expected_ids, name)
        if note:
            notes[student] = note
            shutil.copy(blank, target / f"{name}.ipynb")
            (target / NOTES_FILE).write_text(json.dumps({"note": note}), encoding="utf-8")
        else:
            shutil.copy(path, target / f"{name}.ipynb")
    return notes


def _grade_ids(notebook: nbformat.NotebookNode) -> set:
    return {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells} - {None}


def _problem(path: Path, expected_ids: set, name: str) -> str:
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # any unreadable file is reported, whatever the parser raised
        return f"the file is not a readable notebook ({type(error).__name__}); it was graded as blank"
    ids = _grade_ids(notebook)
    if not ids & expected_ids:
        return f"the notebook is not assignment {name} (none of its cells belong to it); it was graded as blank"
    return ""


def autograde(course: Path, name: str, timeout: Optional[int] = None, sandboxed: bool = True) -> Dict[str, str]:
    """``nbgrader autograde`` for every submission of ``name``; returns {student: note}.

    The course's configuration makes nbgrader run each notebook in the sandbox and decide
    the points outside it (``dlcourse.verdict``); a cell that ended or froze the kernel is
    skipped, and the note says which.  Without the sandbox (``sandboxed=False``, trusted
    notebooks only) every student's note says so.  Raises ``SandboxUnavailable`` when the
    sandbox cannot be set up, before grading anything.
    """
    if sandboxed:
        sandbox.check_available()
    extra = ([f"--Execute.timeout={timeout}"] if timeout else []) + ([] if sandboxed else ["--SandboxedExecute.sandbox=False"])
    result = _nbgrader_unchecked(course, "autograde", name, "--force", *extra)
    notes: Dict[str, str] = {}
    missing = []
    for submission in sorted((course / "submitted").glob(f"*/{name}/{name}.ipynb")):
        student = submission.parts[-3]
        graded = course / "autograded" / student / name / f"{name}.ipynb"
        if not graded.exists():
            missing.append(student)
            continue
        note = grading_notes(nbformat.read(graded, as_version=4))
        if not sandboxed:
            note = "; ".join(filter(None, ["graded WITHOUT a sandbox (--no-sandbox)", note]))
        if note:
            notes[student] = note
    if missing or result.returncode != 0:
        raise RuntimeError(f"`nbgrader autograde {name}` did not grade {', '.join(missing) or 'every submission'}:\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return notes


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


def feedback(course: Path, name: str) -> List[Path]:
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
    nbgrader(course, "generate_feedback", name, "--force")
    return sorted((course / "feedback").glob(f"*/{name}/{name}.html"))


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
    commands.add_parser("feedback").add_argument("assignment")
    commands.add_parser("export")
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
                for student, note in autograde(course, args.assignment, sandboxed=not args.no_sandbox).items():
                    print(f"{student}: {note}")
                for path in feedback(course, args.assignment):
                    print(f"feedback {path.relative_to(course)}")
                print(f"grades in {export(course).relative_to(course)}")
        elif args.command == "autograde":
            for student, note in autograde(course, args.assignment, sandboxed=not args.no_sandbox).items():
                print(f"{student}: {note}")
        elif args.command == "feedback":
            for path in feedback(course, args.assignment):
                print(f"feedback {path.relative_to(course)}")
        else:
            print(f"grades in {export(course)}")
    except (ValueError, RuntimeError) as error:
        print(f"dlcourse.grading: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
