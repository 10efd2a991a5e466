"""Autograde's first step: the submission reduced to data the rest of the grading may trust.

Only the notebook, no link; cell metadata nbgrader's own, validated, ids made unique; no
attachments.  ``is_plain_submission_file`` says what a submission folder may hold; nbgrader's
pre-convert hook (``dlcourse.grading.commands.keep_only_the_notebook``) moves anything else out
first, by the same rule.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from dlcourse.grading import cells
from dlcourse.grading.notes import write_note


class SubmissionRefused(Exception):
    """The submission cannot be graded as handed in (a link, extra files, too big): it is graded as blank."""


class CleanSubmission(NbGraderPreprocessor):
    """Autograde's first step: the submission reduced to data the rest of the grading may trust.

    - Only the notebook enters: the submission folder must hold nothing but plain ``.ipynb``
      files (and nbgrader's own small ``timestamp.txt`` and ``submission_secret.txt``, which
      names the feedback the exchange gives back), and neither the notebook nor its folder may be
      a link (``commands.keep_only_the_notebook`` moves anything else out first).
    - Bounded: at most ``max_cells`` cells and ``max_characters`` characters of source.
    - Cell metadata is nbgrader's alone, and only when it is what nbgrader writes (a dict
      with a valid ``grade_id`` and boolean flags); anything else is dropped, so an odd
      ``magics_language``, a student's copy of a grader's note or a malformed ``nbgrader``
      field cannot stop or fool a later step.  Notebook metadata keeps its kernel and
      language only.
    - A ``grade_id`` that appears twice (a copied cell) is kept on its last cell, as
      nbgrader does, and the earlier copies become ordinary cells: copying a cell is
      never a reason to grade a notebook as blank.
    - Markdown attachments are removed (a missing one would stop the rendering).

    A refused submission gets a note (``notes.write_note``) and is graded as blank.
    """

    max_cells = Integer(300, help="Cells a submission may have (the assignments have 13 to 28).").tag(config=True)
    max_characters = Integer(2_000_000, help="Characters of source a submission may have.").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        try:
            self._check_files(Path(resources["metadata"]["path"]), info["notebook"])
            if len(nb.cells) > self.max_cells:
                raise SubmissionRefused(f"the notebook has {len(nb.cells):,} cells, more than the "
                                        f"{self.max_cells:,} a submission may have")
            clean_notebook(nb)
            characters = sum(len(cell.source) for cell in nb.cells)
            if characters > self.max_characters:
                raise SubmissionRefused(f"the notebook's cells hold {characters:,} characters, more than the "
                                        f"{self.max_characters:,} a submission may have")
        except SubmissionRefused as refusal:
            root = Path(CourseDirectory(config=self.config).root)
            write_note(root, info["assignment"], info["student"], f"{refusal}; it was graded as blank")
            raise
        return nb, resources

    @staticmethod
    def _check_files(folder: Path, notebook: str) -> None:
        path = folder / f"{notebook}.ipynb"
        if folder.is_symlink() or path.is_symlink() or os.path.realpath(path) != os.path.abspath(path):
            raise SubmissionRefused("the notebook handed in is a link, not a file; only the notebook itself is graded")
        extra = sorted(entry.name for entry in folder.iterdir() if not is_plain_submission_file(entry))
        if extra:
            raise SubmissionRefused(f"the submission holds more than its notebook ({', '.join(extra[:5])}); "
                                    "only the notebook is graded")


#: the files nbgrader's exchange puts beside a submitted notebook: when it was handed in, and the secret
#: release_feedback and fetch_feedback name the student's feedback by (each a line of text)
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def is_plain_submission_file(path: Path) -> bool:
    """A regular file (not a link) that a submission may hold: a notebook, or one of nbgrader's small files."""
    if path.is_symlink() or not path.is_file():
        return False
    return path.suffix == ".ipynb" or (path.name in NBGRADER_FILES and path.stat().st_size < 1024)


def clean_notebook(nb: nbformat.NotebookNode) -> None:
    """The cleaning of ``CleanSubmission`` on a notebook in memory (see there).

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "q1", "solution": True},
    ...                                                   "magics_language": "no-such-lexer"}),
    ...     nbformat.v4.new_code_cell("x = 2", metadata={"nbgrader": {"grade_id": "q1", "solution": True}}),
    ...     nbformat.v4.new_markdown_cell("hi", metadata={"nbgrader": ["not", "a", "dict"]})])
    >>> clean_notebook(nb)
    >>> [cell.metadata for cell in nb.cells]
    [{}, {'nbgrader': {'grade_id': 'q1', 'solution': True}}, {}]
    """
    nb.metadata = nbformat.NotebookNode({key: value for key, value in nb.metadata.items()
                                         if key in ("kernelspec", "language_info") and isinstance(value, dict)})
    seen: set = set()
    for cell in reversed(nb.cells):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        cell.source = source if isinstance(source, str) else ""
        meta = cells.submitted_metadata(cell)
        kept = nbformat.NotebookNode()
        if cells.is_valid_metadata(meta) and meta["grade_id"] not in seen:
            seen.add(meta["grade_id"])
            kept["nbgrader"] = nbformat.NotebookNode(meta)
        cell.metadata = kept
        if "attachments" in cell:
            del cell["attachments"]
        if cell.cell_type in ("markdown", "raw"):
            cell.source = re.sub(r"attachment:", "attachment-removed:", cell.source)
