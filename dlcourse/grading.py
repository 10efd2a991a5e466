"""Short commands around nbgrader for the dlcourse course in ``exercises/``.

Each command runs nbgrader's own application for one step of the common path; the
code here only prepares files and checks the results.

    python -m dlcourse.grading release               # source/*.md -> .ipynb, then generate_assignment
    python -m dlcourse.grading collect A FOLDER      # FOLDER/<student>.ipynb -> submitted/<student>/A/
    python -m dlcourse.grading autograde A           # nbgrader autograde, every submission
    python -m dlcourse.grading feedback A            # nbgrader generate_feedback, hidden tests removed
    python -m dlcourse.grading export                # nbgrader export -> grades.csv
    python -m dlcourse.grading grade A FOLDER        # collect, autograde, feedback and export in one go

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

from . import sandbox

COURSE = Path(__file__).resolve().parents[1] / "exercises"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
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


def autograde(course: Path, name: str, timeout: Optional[int] = None) -> Dict[str, str]:
    """nbgrader autograde for every submission of ``name``; every student ends with a grade.

    A submission that ends the Python process itself (``os._exit``, a crash) makes nbgrader
    give up on that student only.  It is then graded again with its answer cells blanked
    one at a time, in order, until it runs; the blanked cell scores 0, the others keep their
    points, and the feedback says which cell was removed.  Returns {student: note}.
    """
    sandbox.install_kernel()
    extra = [f"--Execute.kernel_name={sandbox.KERNEL_NAME}"] + ([f"--Execute.timeout={timeout}"] if timeout else [])
    subprocess_result = _nbgrader_unchecked(course, "autograde", name, "--force", *extra)
    notes: Dict[str, str] = {}
    for submission in sorted((course / "submitted").glob(f"*/{name}/{name}.ipynb")):
        student = submission.parts[-3]
        if not (course / "autograded" / student / name / f"{name}.ipynb").exists():
            notes[student] = _rescue(course, name, student, extra)
    if notes == {} and subprocess_result.returncode != 0:
        raise RuntimeError(f"`nbgrader autograde {name}` failed:\n{subprocess_result.stdout}\n{subprocess_result.stderr}")
    return notes


def _rescue(course: Path, name: str, student: str, extra: List[str]) -> str:
    path = course / "submitted" / student / name / f"{name}.ipynb"
    original = nbformat.read(path, as_version=4)
    blank = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    blank_cells = {c.metadata["nbgrader"]["grade_id"]: c for c in blank.cells if _is_answer(c)}
    answers = [c.metadata["nbgrader"]["grade_id"] for c in original.cells if _is_answer(c) and c.metadata["nbgrader"]["grade_id"] in blank_cells]
    for culprit in answers + [None]:
        attempt = nbformat.from_dict(original)
        for cell in attempt.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if _is_answer(cell) and grade_id in blank_cells and (culprit is None or grade_id == culprit):
                cell.source = blank_cells[grade_id].source
        nbformat.write(attempt, path)
        _nbgrader_unchecked(course, "autograde", name, "--force", "--student", student, *extra)
        if (course / "autograded" / student / name / f"{name}.ipynb").exists():
            if culprit is None:
                note = "the notebook stopped the Python process even with every answer blanked; it scored 0"
            else:
                note = (f"running answer cell '{culprit}' ended the Python process (for example with os._exit); "
                        "that cell was replaced by a blank answer and scored 0, the rest was graded as usual")
            (path.parent / NOTES_FILE).write_text(json.dumps({"note": note}), encoding="utf-8")
            return note
    raise RuntimeError(f"nbgrader could not grade {student}'s {name}, even blank")


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def feedback(course: Path, name: str) -> List[Path]:
    """nbgrader generate_feedback, with hidden test code removed and notes added.

    Students see which hidden checks failed and the message each gave, not the test code.
    """
    for notebook_path in sorted((course / "autograded").glob(f"*/{name}/{name}.ipynb")):
        notebook = nbformat.read(notebook_path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
                cell.source = HIDDEN.sub("# (hidden tests: their code is not shown; their messages are)\n", cell.source)
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        note_file = course / "submitted" / notebook_path.parts[-3] / name / NOTES_FILE
        if note_file.exists():
            note = json.loads(note_file.read_text(encoding="utf-8"))["note"]
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Note from the grader:** {note}."))
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
    for command in ("collect", "grade"):
        sub = commands.add_parser(command)
        sub.add_argument("assignment")
        sub.add_argument("folder", type=Path)
    commands.add_parser("autograde").add_argument("assignment")
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
                for student, note in autograde(course, args.assignment).items():
                    print(f"{student}: {note}")
                for path in feedback(course, args.assignment):
                    print(f"feedback {path.relative_to(course)}")
                print(f"grades in {export(course).relative_to(course)}")
        elif args.command == "autograde":
            for student, note in autograde(course, args.assignment).items():
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
