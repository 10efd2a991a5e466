"""Feedback step: the code of hidden tests replaced with a note; their messages stay."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from dlcourse.grading import cells

HIDDEN_NOTE = "# (hidden tests: their code is not shown; their messages are)\n"


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback step: replace the code of hidden tests with a note (their messages stay)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
            cell.source = cells.HIDDEN_TESTS.sub(HIDDEN_NOTE, cell.source)
        return cell, resources
