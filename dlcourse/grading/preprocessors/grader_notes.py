"""Feedback step: the grader's note on a submission as the feedback's first cell, in a box no cell can imitate."""

from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from dlcourse.grading.notes import NO_SANDBOX_NOTE, NOTE_KEY, grader_note_cell, read_note


class GraderNotes(NbGraderPreprocessor):
    """Feedback step: the grader's note on this submission (``notes.read_note``) as the first cell.

    The note comes from the course folder (``grader_notes/``), never from the submission, and
    is shown in a box of its own by the course's feedback template; any cell that claims to be
    a note is stripped of the claim first.
    """

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if NOTE_KEY in cell.metadata and not _is_graders(cell):
                del cell.metadata[NOTE_KEY]
        info = resources["nbgrader"]
        note = read_note(Path(CourseDirectory(config=self.config).root), info["assignment"], info["student"])
        if note:
            nb.cells.insert(0, grader_note_cell(note))
        return nb, resources


def _is_graders(cell) -> bool:
    """A note cell the grader itself wrote into the autograded notebook (``--no-sandbox``)."""
    return cell.cell_type == "markdown" and cell.metadata.get(NOTE_KEY) == NO_SANDBOX_NOTE
