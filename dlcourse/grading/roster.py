"""Rosters in, grades out, in the CSV formats universities' learning management systems use.

A roster comes from the LMS the class is run in; the gradebook gives back one row per student and
one column per assignment, for the same LMS to import:

- **the course's own** CSV: ``id, first name, last name, email`` (the header row optional);
- **Canvas**: the gradebook export (``Student, ID, SIS User ID, SIS Login ID, Section, ...``): the
  student id is the *SIS User ID* (or the *SIS Login ID*), the name is ``Last, First``, and
  Canvas's own *ID* is kept as nbgrader's ``lms_user_id``; the *Points Possible* row is skipped.
  Grades go back with the same five columns first, so Canvas matches its students, and a *Points
  Possible* row with each assignment's maximum;
- **Moodle**: the participants or grades export (``First name, Last name, ID number, ...,
  Email address``): the id is the *ID number* (or the *Username*).  Grades go back keyed by *ID
  number* and *Email address*, which Moodle's grade import can map.

Student ids become folder names in nbgrader's exchange and course folders, so they must be
letters, digits, ``_``, ``.`` and ``-``; a row that has none, or another, is an error that names
the row.  A grade is the submission's score less nbgrader's late penalty (if the course sets a
late-submission plugin), never below 0; a student who handed nothing in has an empty cell, not 0.

>>> rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
...         ["    Points Possible", "", "", "", ""],
...         ["Nguyễn, Lan", "1042", "s001", "lan", "DL-01"]]
>>> read_roster_rows(rows, "canvas.csv")
[RosterEntry(id='s001', first_name='Lan', last_name='Nguyễn', email=None, lms_user_id='1042')]
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LMS_FORMATS = ("canvas", "moodle")
STUDENT_ID = re.compile(r"[A-Za-z0-9_.-]+")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["ID number", "First name", "Last name", "Email address"]


@dataclass(frozen=True)
class RosterEntry:
    """One student: the id the course uses (nbgrader's), names and email if known, and the LMS's own id."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None


def read_roster(path: Path) -> list[RosterEntry]:
    """The students of a roster CSV file in any of the three formats (see the module docstring).

    A UTF-8 byte-order mark (Excel writes one) is ignored.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    return read_roster_rows(rows, str(path))


def read_roster_rows(rows: Sequence[Sequence[str]], where: str = "roster") -> list[RosterEntry]:
    """The students of a roster's rows (``where`` names the file in error messages).

    >>> read_roster_rows([["First name", "Last name", "ID number", "Email address"],
    ...                   ["Minh", "Trần", "s002", "minh@example.edu"]])
    [RosterEntry(id='s002', first_name='Minh', last_name='Trần', email='minh@example.edu', lms_user_id=None)]
    >>> read_roster_rows([["s 003", "Bad", "Id", ""]], "students.csv")
    Traceback (most recent call last):
    ...
    ValueError: students.csv, row 1: the student id 's 003' should be letters, digits, _ . - (it names folders)
    """
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    if "SIS User ID" in header:
        entries = _canvas(header, rows[1:], where)
    elif "ID number" in header or ("First name" in header and "Email address" in header):
        entries = _moodle(header, rows[1:], where)
    else:
        own_header = header[0].lower() in ("id", "student_id", "student id")
        entries = [(number, RosterEntry(_cell(row, 0) or "", _cell(row, 1), _cell(row, 2), _cell(row, 3)))
                   for number, row in enumerate(rows[1:] if own_header else rows, start=2 if own_header else 1)]
    seen: dict[str, int] = {}
    for number, entry in entries:
        if not STUDENT_ID.fullmatch(entry.id):
            raise ValueError(f"{where}, row {number}: the student id {entry.id!r} should be letters, digits, "
                             "_ . - (it names folders)")
        if entry.id in seen:
            raise ValueError(f"{where}, rows {seen[entry.id]} and {number}: the student id {entry.id!r} twice")
        seen[entry.id] = number
    return [entry for _, entry in entries]


def _cell(row: Sequence[str], index: int | None) -> str | None:
    """The stripped cell ``index`` of ``row``, or None where it is missing or empty."""
    if index is None or index >= len(row):
        return None
    return row[index].strip() or None


def _canvas(header: list[str], rows: Sequence[Sequence[str]], where: str) -> list[tuple[int, RosterEntry]]:
    column = {name: header.index(name) if name in header else None for name in CANVAS_COLUMNS}
    entries = []
    for number, row in enumerate(rows, start=2):
        student = _cell(row, column["Student"]) or ""
        if student in ("Points Possible", "Student, Test"):     # Canvas's maxima row and its test student
            continue
        student_id = _cell(row, column["SIS User ID"]) or _cell(row, column["SIS Login ID"])
        if student_id is None:
            raise ValueError(f"{where}, row {number}: {student!r} has no SIS User ID or SIS Login ID to use as "
                             "the student id")
        last, _, first = student.partition(",")
        entries.append((number, RosterEntry(student_id, first.strip() or None, last.strip() or None, None,
                                            _cell(row, column["ID"]))))
    return entries


def _moodle(header: list[str], rows: Sequence[Sequence[str]], where: str) -> list[tuple[int, RosterEntry]]:
    column = {name: header.index(name) if name in header else None
              for name in (*MOODLE_COLUMNS, "Username")}
    entries = []
    for number, row in enumerate(rows, start=2):
        student_id = _cell(row, column["ID number"]) or _cell(row, column["Username"])
        if student_id is None:
            raise ValueError(f"{where}, row {number}: no ID number or Username to use as the student id")
        entries.append((number, RosterEntry(student_id, _cell(row, column["First name"]),
                                            _cell(row, column["Last name"]), _cell(row, column["Email address"]))))
    return entries


def grade_rows(lms: str, roster: Sequence[RosterEntry], assignments: Mapping[str, float],
               scores: Mapping[tuple[str, str], tuple[float, float]]) -> list[list[str]]:
    """The rows of a grades CSV file for ``lms`` ("canvas" or "moodle"): a header, for Canvas a *Points
    Possible* row, then one row per student of ``roster`` in its order.

    ``assignments`` maps each assignment to its maximum score, in column order; ``scores`` maps
    (student id, assignment) to (score, late penalty) for every submission there is.

    >>> roster = [RosterEntry("s001", "Lan", "Nguyễn", "lan@example.edu", "1042")]
    >>> header, row = grade_rows("moodle", roster, {"01_neural_nets": 11.0, "02_backprop": 10.0},
    ...                          {("s001", "01_neural_nets"): (9.5, 1.0)})
    >>> header
    ['ID number', 'First name', 'Last name', 'Email address', '01_neural_nets', '02_backprop']
    >>> row      # 9.5 less a late penalty of 1; nothing handed in for 02_backprop
    ['s001', 'Lan', 'Nguyễn', 'lan@example.edu', '8.5', '']
    """
    if lms not in LMS_FORMATS:
        raise ValueError(f"the LMS must be one of {', '.join(LMS_FORMATS)}, got {lms!r}")
    names = list(assignments)
    if lms == "canvas":
        maxima = [_number(assignments[name]) for name in names]
        rows = [CANVAS_COLUMNS + names, ["    Points Possible", "", "", "", ""] + maxima]
    else:
        rows = [MOODLE_COLUMNS + names]
    for entry in roster:
        cells = []
        for name in names:
            if (entry.id, name) in scores:
                score, penalty = scores[entry.id, name]
                cells.append(_number(max(score - penalty, 0.0)))
            else:
                cells.append("")
        if lms == "canvas":
            student = ", ".join(part for part in (entry.last_name, entry.first_name) if part)
            rows.append([student or entry.id, entry.lms_user_id or "", entry.id, "", ""] + cells)
        else:
            rows.append([entry.id, entry.first_name or "", entry.last_name or "", entry.email or ""] + cells)
    return rows


def _number(value: float) -> str:
    """A score as a CSV cell: 12 for 12.0, 8.5 for 8.5 (the dot is what both LMSs read)."""
    return f"{value:g}"


def write_grade_rows(rows: Sequence[Sequence[str]], to: Path) -> Path:
    """Write ``rows`` to ``to`` as UTF-8 CSV (with a byte-order mark, so that Excel shows Vietnamese names)."""
    with open(to, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    return to
