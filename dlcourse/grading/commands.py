"""Short commands around nbgrader for the dlcourse course in ``exercises/``.

Each command runs nbgrader's own application for one step of the common path; the
code here only prepares files and checks the results.

    python -m dlcourse.grading release               # source/*.md -> .ipynb, then generate_assignment
    python -m dlcourse.grading collect A FOLDER      # FOLDER/<student>.ipynb -> submitted/<student>/A/
    python -m dlcourse.grading autograde A           # nbgrader autograde, every submission, in the sandbox;
                                                     # those already graded are skipped (--regrade: all again)
    python -m dlcourse.grading feedback A            # nbgrader generate_feedback, hidden tests' code hidden
    python -m dlcourse.grading export                # nbgrader export -> grades.csv
    python -m dlcourse.grading export --lms canvas   # one row per student, a column per assignment
    python -m dlcourse.grading grade A FOLDER        # collect, autograde, feedback and export in one go
    python -m dlcourse.grading roster students.csv   # id, first name, last name, email -> the gradebook
                                                     # (or a Canvas or Moodle export)
    python -m dlcourse.grading hub-setup students.csv --instructor NAME   # as root: accounts, exchange
                                                     # and course folder for JupyterHub (exercises/hub/)

Grading runs each notebook in a bubblewrap sandbox and decides the points outside it
(``dlcourse.grading.preprocessors``, installed by the course's nbgrader_config.py, so plain
``nbgrader autograde`` and formgrader do the same).  Where the sandbox cannot be set up,
grading stops and says what to install; ``--no-sandbox`` grades trusted notebooks without
it, and says so on every result.

Grading runs as a pool of nbgrader workers (``dlcourse.grading.pool``): a progress bar, a record per graded
submission in ``autograde_state/`` so that a command stopped halfway and run again grades only the rest, and
claims so that the same command run on several machines sharing the course folder divides the class.  Run as
root (the sandbox's whole-notebook limits need it) on a course folder of another user, the command gives that
user what it made.

Assignments are written as MyST Markdown notebooks (``source/A/A.md``, diff-friendly);
``release`` turns them into the ``.ipynb`` files nbgrader reads, cell metadata included.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import jupytext
import nbformat

from dlcourse.command_line import CommandLine
from dlcourse.grading import cells, hub, pool, sandbox
from dlcourse.grading.notes import note_path, write_note
from dlcourse.grading.preprocessors.clean_submission import is_plain_submission_file
from dlcourse.grading.preprocessors.sandboxed_execute import OUT_OF_TIME, SKIPPED
from dlcourse.grading.roster import LMS_FORMATS, RosterEntry, grade_rows, read_roster, write_grade_rows

# the course folder: the repository's exercises/, or where a class server's JupyterHub says (DLCOURSE_COURSE,
# set in every server by exercises/hub/jupyterhub_config.py, where dlcourse is installed, not checked out)
COURSE = Path(os.environ.get("DLCOURSE_COURSE") or Path(__file__).resolve().parents[2] / "exercises")
LEAKS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "Model answer")
MAX_NOTEBOOK_BYTES = 50 * 2**20  # a submitted notebook larger than this is graded as blank
QUARANTINE = "quarantine"        # <course>/quarantine/<assignment>/<student>/: what a submission held besides notebooks


def keep_only_the_notebook(assignment: str, student: str, notebooks: Sequence[str], **_: object) -> list[str]:
    """nbgrader's pre-convert hook: move everything but the notebooks out of a submission folder.

    nbgrader copies every other file of ``submitted/<student>/<assignment>/`` into the graded
    and feedback folders, as the grader's user and following links: a link to
    ``/etc/shadow`` or to the instructor's source would come back to the student.  So before
    nbgrader looks, anything in the folder but a plain ``.ipynb`` file of at most
    ``MAX_NOTEBOOK_BYTES`` and nbgrader's own small ``timestamp.txt`` and ``submission_secret.txt``
    (other files, links, folders, pipes, a notebook too big to read) moves to
    ``quarantine/<assignment>/<student>/`` in the course folder (nbgrader's working folder),
    without being opened.  nbgrader swallows a hook's errors, so ``CleanSubmission``
    checks again and refuses the submission if anything is left.  Returns the names moved.
    """
    if not notebooks:
        return []
    folder = Path(notebooks[0]).parent              # <submitted>/<student>/<assignment>
    assignment, student = folder.name, folder.parent.name   # nbgrader passes "*" when it grades everyone
    moved: list[str] = []
    for entry in sorted(folder.iterdir()):
        too_big = entry.suffix == ".ipynb" and is_plain_submission_file(entry) and \
            entry.stat().st_size > MAX_NOTEBOOK_BYTES
        if is_plain_submission_file(entry) and not too_big:
            continue
        target = Path.cwd() / QUARANTINE / assignment / student / entry.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            _remove_entry(target)
        os.rename(entry, target)               # a rename never follows a link nor opens a pipe
        moved.append(entry.name)
        if too_big:
            write_note(Path.cwd(), assignment, student, f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} "
                                                         "MiB; it was graded as blank")
        elif entry.suffix == ".ipynb":
            write_note(Path.cwd(), assignment, student, "the notebook handed in is a link or not a regular "
                                                         "file; only the notebook itself is graded, so it was "
                                                         "graded as blank")
    return moved


def _remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def assignments(course: Path = COURSE) -> list[str]:
    """Names of the assignments in ``source/``, in order."""
    return sorted(p.name for p in (course / "source").iterdir() if (p / f"{p.name}.md").exists())


def _nbgrader_unchecked(course: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = pool.nbgrader_command(args)
    return subprocess.run(command, cwd=course, capture_output=True, text=True, env=env)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course folder; raise with its output if it fails."""
    result = _nbgrader_unchecked(course, *args)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def release(course: Path = COURSE, names: Sequence[str] | None = None) -> list[Path]:
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


def collect(course: Path, name: str, folder: Path) -> dict[str, str]:
    """Copy ``folder/<student>.ipynb`` to ``submitted/<student>/<name>/<name>.ipynb``.

    A file that is a link, is not a readable notebook, or is a notebook of another assignment
    is replaced by the blank student version (so it grades to 0 without stopping the batch),
    and the reason is kept for the feedback.  Returns {student: note} for such files.  Any
    file, however damaged, is dealt with on its own: the batch always goes on.
    """
    blank = course / "release" / name / f"{name}.ipynb"
    if not blank.exists():
        raise ValueError(f"{name} is not released yet: run `python -m dlcourse.grading release {name}`")
    fixed = _fixed_cells(nbformat.read(blank, as_version=4))
    notes: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        student = path.stem
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", student):
            raise ValueError(f"{path.name}: name submissions <student-id>.ipynb with letters, digits, _ . -")
        target = course / "submitted" / student / name
        if target.exists() or target.is_symlink():
            _remove_entry(target)
        target.mkdir(parents=True)
        note = _problem(path, fixed, name)
        note_path(course, name, student).unlink(missing_ok=True)
        if note:
            notes[student] = note
            shutil.copy(blank, target / f"{name}.ipynb")
            write_note(course, name, student, note)
        else:
            shutil.copy(path, target / f"{name}.ipynb")
    return notes


def _fixed_cells(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The locked cells of a notebook (the assignment's own text and code): {grade_id: source}.

    Cells whose grading data are not what nbgrader writes (not a dict, no string id) are left out.
    """
    fixed = {}
    for cell in notebook.get("cells", []):
        meta = cells.submitted_metadata(cell)
        if isinstance(meta, dict) and meta.get("locked") and isinstance(meta.get("grade_id"), str):
            source = cell.get("source", "")
            fixed[meta["grade_id"]] = source if isinstance(source, str) else ""
    return fixed


def _problem(path: Path, fixed: dict[str, str], name: str) -> str:
    """Why a submitted file cannot be graded as assignment ``name`` ("" if it can).

    A notebook of another assignment may share cell ids with this one (q1_answer is in
    every assignment), so it is recognised by the text of its locked cells: at least half
    of those it shares with the released notebook must be the same.
    """
    if path.is_symlink() or not path.is_file():
        return "the file is a link or not a regular file; only the notebook itself is graded, so it was graded as blank"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; it was graded as blank"
    try:
        notebook = nbformat.read(path, as_version=4)
        theirs = _fixed_cells(notebook)
    except Exception as error:  # any unreadable file is reported, whatever the parser raised
        return f"the file is not a readable notebook ({type(error).__name__}); it was graded as blank"
    shared = [grade_id for grade_id in fixed if grade_id in theirs]
    same = [grade_id for grade_id in shared if theirs[grade_id].strip() == fixed[grade_id].strip()]
    if not shared or len(same) * 2 < len(shared):
        return (f"the notebook is not assignment {name} (its fixed cells are those of another notebook); "
                "it was graded as blank")
    return ""


def autograde(course: Path, name: str, timeout: int | None = None, sandboxed: bool = True,
              jobs: int | None = None, host_limits: bool = True, regrade: bool = False,
              progress: bool | None = None, report: Callable[[str], object] | None = None) -> dict[str, str]:
    """``nbgrader autograde`` for every submission of ``name``; returns {student: note}.

    The course's configuration makes nbgrader run each notebook in the sandbox and decide
    the points outside it (``dlcourse.grading.preprocessors``); a cell that ended or froze the kernel is
    skipped, and the note says which.  Submissions are graded by a pool of at most ``jobs``
    nbgrader processes (the machine's cores by default), each on a chunk of students
    (``dlcourse.grading.pool``).  A submission already graded (its record in ``autograde_state/``
    matches the notebook, its timestamp, the tests and these options) is not graded again unless
    ``regrade``; a student another command on the same course folder is grading is left to it.
    A notebook nbgrader cannot grade is graded again as the blank notebook, with a note, and the
    batch goes on.  Without the sandbox (``sandboxed=False``, trusted notebooks only) every
    student's note says so.  The notes cover the students skipped too.  ``progress``: a progress
    bar on stderr (None: on a terminal only); ``report`` is given a line saying how many were
    already graded.  Raises ``SandboxUnavailable`` when the sandbox cannot be set up, before
    grading anything, or when the whole-notebook limits cannot (``sandbox.HostLimits``: they need
    root) unless ``host_limits=False`` accepts per-process limits only.  Run as root on a course
    folder of another user, that user is given what the command made (``pool.give_to_course_owner``).
    """
    try:
        if sandboxed:
            sandbox.check_available(require_host_limits=host_limits)
        extra = (([f"--Execute.timeout={timeout}"] if timeout else [])
                 + ([] if sandboxed else ["--SandboxedExecute.sandbox=False"])
                 + ([] if host_limits else ["--SandboxedExecute.require_host_limits=False"]))
        students = sorted(p.parts[-3] for p in (course / "submitted").glob(f"*/{name}/{name}.ipynb"))
        state = pool.GradingState(course, name, {"sandboxed": sandboxed, "timeout": timeout,
                                                 "host_limits": host_limits})
        result = pool.Pool(course, "autograde", name, extra, jobs, state=state, regrade=regrade,
                           progress=progress).run(students)
        if report is not None:
            report(f"autograde {name}: {len(students)} submissions, {len(result.skipped)} already graded and skipped"
                   f" (--regrade grades them again), {len(result.graded)} graded now"
                   + (f", {len(result.elsewhere)} by another command" if result.elsewhere else ""))
        notes: dict[str, str] = {}
        for student in students:
            note = result.blank_notes.get(student)
            if note is None:
                note = pool.read_blank_note(state, student)
            if note is None:
                note = _graded_notes(course / "autograded" / student / name / f"{name}.ipynb")
                if not sandboxed:
                    note = "; ".join(filter(None, ["graded WITHOUT a sandbox (--no-sandbox)", note]))
            if note:
                notes[student] = note
        return notes
    finally:
        pool.give_to_course_owner(course)


def _graded_notes(path: Path) -> str:
    """``grading_notes`` of an autograded notebook ("" if it cannot be read)."""
    try:
        return grading_notes(nbformat.read(path, as_version=4))
    except (OSError, ValueError):
        return ""


def grading_notes(notebook: nbformat.NotebookNode) -> str:
    """What the grader did to a notebook besides grading it (skipped cells, lost kernels)."""
    notes = []
    for cell in notebook.cells:
        grade_id = cells.grade_id(cell, "a cell")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == SKIPPED:
                notes.append(f"running answer cell '{grade_id}' ended or froze the Python process (for example with "
                             "os._exit); that cell was skipped and scored 0, the rest was graded as usual")
            elif output.get("output_type") == "error" and output.get("ename") == "KernelLost":
                notes.append(f"the notebook's kernel stopped during test '{grade_id}', which scored 0")
            elif output.get("output_type") == "error" and output.get("ename") == OUT_OF_TIME \
                    and not any("grading time" in note for note in notes):
                notes.append("the notebook used up its grading time; the cells and tests after that point "
                             "did not run and scored 0")
    return "; ".join(notes)


def feedback(course: Path, name: str, jobs: int | None = None) -> list[Path]:
    """``nbgrader generate_feedback``: the course's configuration hides the hidden tests' code and adds notes.

    Students see which checks failed and the message each gave (``HideHiddenTests``), and the
    grader's note where collecting or grading changed something (``GraderNotes``, from
    ``grader_notes/``, shown apart from every cell, so no cell of the student can imitate it).
    """
    try:
        students = sorted(p.parts[-3] for p in (course / "autograded").glob(f"*/{name}/{name}.ipynb"))
        pool.Pool(course, "generate_feedback", name, jobs=jobs, progress=False).run(students)
        made = sorted((course / "feedback").glob(f"*/{name}/{name}.html"))
        missing = sorted(set(students) - {path.parts[-3] for path in made})
        if missing:
            raise RuntimeError(f"`nbgrader generate_feedback {name}` made no feedback for {', '.join(missing)}; "
                               f"see {course / '.nbgrader.log'}")
        return made
    finally:
        pool.give_to_course_owner(course)


def roster(course: Path, students_csv: Path) -> list[str]:
    """Add or update the students of a roster CSV file in the gradebook: the course's own format (id, first
    name, last name, email), or a Canvas or Moodle export (``dlcourse.grading.roster``).

    Formgrader then shows their names.  Returns the ids.
    """
    from nbgrader.api import Gradebook

    entries = read_roster(students_csv)
    if not (course / "gradebook.db").exists():   # a new course: nbgrader's own command makes its gradebook
        nbgrader(course, "db", "upgrade")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gradebook:
        for entry in entries:
            gradebook.update_or_create_student(entry.id, first_name=entry.first_name, last_name=entry.last_name,
                                               email=entry.email, lms_user_id=entry.lms_user_id)
    return [entry.id for entry in entries]


def export(course: Path = COURSE, to: Path | None = None, lms: str | None = None) -> Path:
    """Grades as a CSV file: ``nbgrader export`` (one row per student and assignment), or with ``lms``
    ("canvas" or "moodle") one row per student and one column per assignment, for that LMS to import."""
    if lms is None:
        to = to or course / "grades.csv"
        nbgrader(course, "export", "--to", str(to))
        return to
    from nbgrader.api import Gradebook

    if not (course / "gradebook.db").exists():
        raise ValueError(f"{course} has no gradebook yet: add the roster or grade an assignment first")
    to = to or course / f"grades-{lms}.csv"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gradebook:
        students = [RosterEntry(s.id, s.first_name, s.last_name, s.email, s.lms_user_id)
                    for s in sorted(gradebook.students, key=lambda s: s.id)]
        assignments = {a.name: float(a.max_score) for a in sorted(gradebook.assignments, key=lambda a: a.name)}
        scores = {(s.student.id, name): (float(s.score), float(s.late_submission_penalty or 0.0))
                  for name in assignments for s in gradebook.assignment_submissions(name)}
    return write_grade_rows(grade_rows(lms, students, assignments, scores), to)


def _parser() -> CommandLine:
    parser = CommandLine(prog="python -m dlcourse.grading", description=__doc__,
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
            sub.add_argument("--no-host-limits", action="store_true",
                             help="accept per-process limits only, where whole-notebook limits (cgroups, as root) "
                                  "cannot be set up")
            sub.add_argument("--regrade", action="store_true",
                             help="grade every submission again, also those already graded as they are now")
            sub.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    commands.add_parser("feedback").add_argument("assignment")
    export_command = commands.add_parser("export")
    export_command.add_argument("--lms", choices=LMS_FORMATS,
                                help="one row per student, one column per assignment, for Canvas or Moodle to import")
    export_command.add_argument("--to", type=Path, help="the CSV file to write (default: grades.csv in the course)")
    commands.add_parser("roster").add_argument(
        "students", type=Path, help="CSV: id, first name, last name, email; or a Canvas or Moodle export")
    hub_setup = commands.add_parser("hub-setup", help="as root: the accounts, course folder and exchange of a class "
                                                      "on JupyterHub (exercises/hub/jupyterhub_config.py)")
    hub_setup.add_argument("students", type=Path, help="the roster, as for `roster`")
    hub_setup.add_argument("--instructor", required=True, help="the instructor's login name (made if missing)")
    hub_setup.add_argument("--ta", action="append", default=[], help="a teaching assistant's login name (repeatable)")
    hub_setup.add_argument("--exchange", type=Path, default=Path("/srv/nbgrader/exchange"),
                           help="nbgrader's exchange (default: /srv/nbgrader/exchange)")
    hub_setup.add_argument("--passwords", type=Path, default=None,
                           help="where new accounts' passwords go (default: passwords.csv in the instructor's home)")
    return parser


def _print_autograde(course: Path, args: argparse.Namespace) -> None:
    for student, note in autograde(course, args.assignment, sandboxed=not args.no_sandbox, jobs=args.jobs,
                                   host_limits=not args.no_host_limits, regrade=args.regrade,
                                   progress=not args.no_progress, report=print).items():
        print(f"{student}: {note}")


def _print_hub_setup(course: Path, args: argparse.Namespace) -> None:
    accounts = hub.set_up_class(args.students, args.instructor, args.ta, course, args.exchange, args.passwords)
    print(f"{len(accounts.created)} accounts made, {len(accounts.existing)} there already (passwords unchanged)")
    if accounts.passwords:
        print(f"the new accounts' passwords: {accounts.passwords} (readable by {args.instructor} only)")
    print(f"course folder {course}: {args.instructor} and group {hub.GRADERS} only; exchange {args.exchange}")


def _run(course: Path, args: argparse.Namespace) -> None:
    """Run the command ``args`` names, printing what it did."""
    if args.command == "release":
        for path in release(course, args.assignments):
            print(f"released {path.relative_to(course)}")
    elif args.command in ("collect", "grade"):
        for student, note in collect(course, args.assignment, args.folder).items():
            print(f"{student}: {note}")
        if args.command == "grade":
            _print_autograde(course, args)
            for path in feedback(course, args.assignment, jobs=args.jobs):
                print(f"feedback {path.relative_to(course)}")
            print(f"grades in {export(course).relative_to(course)}")
    elif args.command == "autograde":
        _print_autograde(course, args)
    elif args.command == "feedback":
        for path in feedback(course, args.assignment):
            print(f"feedback {path.relative_to(course)}")
    elif args.command == "roster":
        print(f"{len(roster(course, args.students))} students in the gradebook")
    elif args.command == "hub-setup":
        _print_hub_setup(course, args)
    else:
        print(f"grades in {export(course, args.to, args.lms)}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dlcourse.grading``: what went wrong in one line, the package's way (``dlcourse.command_line``);
    a command the course's state refuses (an assignment not released, a folder that is not there) is a bad
    input, status 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    course = args.course.resolve()
    try:
        _run(course, args)
    except (ValueError, RuntimeError) as error:
        parser.error(str(error))
    return 0

if __name__ == "__main__":
    sys.exit(main())
