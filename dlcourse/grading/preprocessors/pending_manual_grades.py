"""Feedback step: an answer graded by hand that is not graded yet says so, instead of showing 0."""

from __future__ import annotations

from typing import Any

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from dlcourse.grading import cells


class PendingManualGrades(NbGraderPreprocessor):
    """Feedback step: an answer graded by hand that is not graded yet says so, instead of showing 0.

    Runs after nbgrader's ``GetGrades``: such a cell keeps its text but loses its score
    line, gets a note, and its points leave the notebook's total until it is graded;
    generating the feedback again after grading by hand shows the score.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            ungraded = set()
            for cell in nb.cells:
                if cells.is_graded_by_hand(cell):
                    grade = gradebook.find_grade(cells.grade_id(cell), info["notebook"], info["assignment"],
                                                 info["student"])
                    if grade.manual_score is None and grade.auto_score is None:
                        ungraded.add(cells.grade_id(cell))
        pending = 0.0
        for cell in nb.cells:
            if cells.grade_id(cell) in ungraded and cells.is_grade(cell):
                pending += cells.points(cell)
                cells.metadata(cell)["grade"] = False
                cell.source = (f"*Not graded yet: this answer is graded by hand ({_points(cells.points(cell))}); "
                               "the feedback will be sent again once it is.*\n\n" + cell.source)
        if pending:
            resources["nbgrader"]["max_score"] = float(resources["nbgrader"]["max_score"]) - pending
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                f"*{_points(pending)} of written answers are not graded yet; the score above leaves them out.*"))
        return nb, resources


def _points(value: Any) -> str:
    number = float(value or 0)
    shown = int(number) if number.is_integer() else number
    return f"{shown} point{'' if number == 1 else 's'}"
