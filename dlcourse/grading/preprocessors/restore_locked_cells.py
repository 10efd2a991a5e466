"""Autograde step: nbgrader's OverwriteCells, quiet about test cells left as released."""

from __future__ import annotations

from nbgrader.api import MissingEntry
from nbgrader.preprocessors import OverwriteCells

from dlcourse.grading import cells


class RestoreLockedCells(OverwriteCells):
    """nbgrader's OverwriteCells, without a warning for a test cell the student left as released.

    A released test cell lacks its hidden tests, so nbgrader took every one of them for a
    changed cell ("Attribute 'checksum' ... has changed").  A cell equal to the released
    version is restored quietly; a cell the student really edited is still reported.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cells.grade_id(cell)
        if grade_id is not None and cells.marked_locked(cell):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
            except MissingEntry:
                source = None
            if source is not None and cells.HIDDEN_TESTS.sub("", source).strip() == cell.source.strip():
                cell.source = source
        return super().preprocess_cell(cell, resources, cell_index)
