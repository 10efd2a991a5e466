"""The grader's notes on a submission: why it was graded as blank, what grading skipped.

A note is kept in the course folder (``grader_notes/<assignment>/<student>.json``), never in
the submission, by the commands (``dlcourse.grading.commands``) and by the preprocessor that
refuses a submission (``CleanSubmission``).  The feedback shows it as its first cell
(``GraderNotes``), a cell marked with ``NOTE_KEY`` that the course's feedback template puts in a
box of its own; a student's cell that claims the mark loses it first.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from dlcourse.grading.feedback_html import escape_text

GRADER_NOTES = "grader_notes"    # <course>/grader_notes/<assignment>/<student>.json: the grader's, not the student's
NOTE_KEY = "dlcourse_grader_note"   # cell metadata of the grader's notes (students' cells lose theirs)
NO_SANDBOX_NOTE = ("Graded without a sandbox (--no-sandbox): the notebook ran with the grader's rights. "
                   "Use this only for notebooks you trust, such as your own solutions.")


def note_path(course: Path, name: str, student: str) -> Path:
    """Where the grader keeps its note on one submission: in the course folder, outside the submission."""
    return Path(course) / GRADER_NOTES / name / f"{student}.json"


def write_note(course: Path, name: str, student: str, note: str) -> None:
    """Keep (or replace) the grader's note on a submission; the feedback shows it (``GraderNotes``)."""
    path = note_path(course, name, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"note": note}), encoding="utf-8")


def read_note(course: Path, name: str, student: str) -> str:
    """The grader's note on a submission, or "" when there is none."""
    path = note_path(course, name, student)
    try:
        note = json.loads(path.read_text(encoding="utf-8")).get("note", "")
    except (OSError, ValueError, AttributeError):
        return ""
    return note if isinstance(note, str) else ""


def grader_note_cell(note: str) -> nbformat.NotebookNode:
    """A note of the grader's as a cell: the feedback shows it in a box of its own (``NOTE_KEY``).

    Its text is escaped, so it reads as written; a template without the box shows it as a
    plain paragraph.
    """
    return nbformat.v4.new_markdown_cell(f"**Note from the grader:** {escape_text(note)}", metadata={NOTE_KEY: note})
