"""Rosters from the course's CSV, Canvas and Moodle; grades back in the columns those LMSs import
(dlcourse/grading/roster.py, and the roster and export commands on a real nbgrader gradebook)."""

import csv

import pytest

from dlcourse.grading import commands
from dlcourse.grading.roster import RosterEntry, grade_rows, read_roster, read_roster_rows, write_grade_rows

# What Canvas's gradebook export looks like: five columns, the assignments with their ids, a maxima row,
# the test student Canvas adds to every course.
CANVAS_EXPORT = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 1 (5501)", "Current Score"],
    ["    Points Possible", "", "", "", "", "10.00", "(read only)"],
    ["Nguyễn, Lan", "1042", "s001", "lan.nguyen", "DL-01", "8.00", "80.00"],
    ["Trần, Minh", "1043", "", "s002", "DL-01", "", ""],
    ["Student, Test", "1099", "", "", "DL-01", "", ""],
]
# Moodle's participants export: no SIS id, an ID number set by the university, emails.
MOODLE_EXPORT = [
    ["First name", "Last name", "ID number", "Institution", "Department", "Email address"],
    ["Lan", "Nguyễn", "s001", "HUST", "SoICT", "lan@example.edu"],
    ["Minh", "Trần", "s002", "HUST", "SoICT", ""],
]


def write(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_the_courses_own_roster_with_or_without_a_header_and_with_excels_byte_order_mark(tmp_path):
    rows = [["s001", "Lan", "Nguyễn", "lan@example.edu"], [" s002 ", "Minh", "Trần"], []]
    plain = read_roster(write(tmp_path / "a.csv", rows))
    headed = read_roster(write(tmp_path / "b.csv", [["id", "first name", "last name", "email"], *rows],
                               encoding="utf-8-sig"))
    assert plain == headed == [RosterEntry("s001", "Lan", "Nguyễn", "lan@example.edu"),
                               RosterEntry("s002", "Minh", "Trần", None)]


def test_a_canvas_export_gives_sis_ids_names_and_canvas_ids_without_the_maxima_row_or_test_student():
    assert read_roster_rows(CANVAS_EXPORT) == [RosterEntry("s001", "Lan", "Nguyễn", None, "1042"),
                                               RosterEntry("s002", "Minh", "Trần", None, "1043")]


def test_a_moodle_export_gives_id_numbers_names_and_emails_or_falls_back_to_the_username():
    assert read_roster_rows(MOODLE_EXPORT) == [RosterEntry("s001", "Lan", "Nguyễn", "lan@example.edu"),
                                               RosterEntry("s002", "Minh", "Trần", None)]
    by_username = [["First name", "Last name", "Username", "Email address"], ["Lan", "Nguyễn", "lan01", ""]]
    assert read_roster_rows(by_username)[0].id == "lan01"


@pytest.mark.parametrize("rows, message", [
    ([["s 003", "Bad", "Id"]], r"roster, row 1: the student id 's 003' should be letters, digits"),
    ([["id"], ["s001"], ["s001"]], r"roster, rows 2 and 3: the student id 's001' twice"),
    ([["First name", "Last name", "Username", "Email address"], ["Lan", "Nguyễn", "lan@example.edu", ""]],
     r"row 2: the student id 'lan@example.edu' should be"),
    ([["First name", "Last name", "ID number", "Email address"], ["Lan", "Nguyễn", "", "lan@example.edu"]],
     r"row 2: no ID number or Username"),
    ([CANVAS_EXPORT[0], ["Lê, Hoa", "1050", "", "", "DL-02"]], r"row 2: 'Lê, Hoa' has no SIS User ID or SIS Login ID"),
])
def test_a_roster_row_without_a_usable_student_id_is_named(rows, message):
    with pytest.raises(ValueError, match=message):
        read_roster_rows(rows)


ROSTER = [RosterEntry("s001", "Lan", "Nguyễn", "lan@example.edu", "1042"), RosterEntry("s002", "Minh", "Trần")]
MAXIMA = {"01_neural_nets": 11.0, "09_transformers": 13.0}
SCORES = {("s001", "01_neural_nets"): (11.0, 0.0), ("s001", "09_transformers"): (12.5, 2.0),
          ("s002", "01_neural_nets"): (0.5, 1.0)}


def test_canvas_grades_have_its_five_columns_a_maxima_row_and_scores_less_late_penalties():
    assert grade_rows("canvas", ROSTER, MAXIMA, SCORES) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neural_nets", "09_transformers"],
        ["    Points Possible", "", "", "", "", "11", "13"],
        ["Nguyễn, Lan", "1042", "s001", "", "", "11", "10.5"],
        ["Trần, Minh", "", "s002", "", "", "0", ""],          # 0.5 - 1 is 0, not negative; nothing handed in: ""
    ]


def test_moodle_grades_are_keyed_by_id_number_and_email():
    assert grade_rows("moodle", ROSTER, MAXIMA, SCORES)[1:] == [
        ["s001", "Lan", "Nguyễn", "lan@example.edu", "11", "10.5"],
        ["s002", "Minh", "Trần", "", "0", ""],
    ]
    with pytest.raises(ValueError, match="the LMS must be one of canvas, moodle, got 'blackboard'"):
        grade_rows("blackboard", ROSTER, MAXIMA, SCORES)


def test_canvas_grades_read_back_as_the_same_roster(tmp_path):
    """What Canvas matches its students by (its ID, the SIS User ID) survives the round trip."""
    path = write_grade_rows(grade_rows("canvas", ROSTER, MAXIMA, SCORES), tmp_path / "grades.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")          # Excel shows the Vietnamese names
    back = read_roster(path)
    assert [(e.id, e.lms_user_id, e.first_name, e.last_name) for e in back] == [
        (e.id, e.lms_user_id, e.first_name, e.last_name) for e in ROSTER]


def test_roster_and_export_commands_on_a_real_gradebook(tmp_path, capsys):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    course.mkdir()
    roster = write(tmp_path / "canvas.csv", CANVAS_EXPORT)
    assert commands.main(["--course", str(course), "roster", str(roster)]) == 0
    assert "2 students in the gradebook" in capsys.readouterr().out
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gradebook:
        gradebook.add_assignment("01_neural_nets")
        gradebook.add_notebook("01_neural_nets", "01_neural_nets")
        for cell, points in (("q1_tests", 4), ("q2_tests", 7)):
            gradebook.add_grade_cell(cell, "01_neural_nets", "01_neural_nets", max_score=points, cell_type="code")
        gradebook.add_submission("01_neural_nets", "s001")
        for cell, points in (("q1_tests", 4), ("q2_tests", 3.5)):
            gradebook.find_grade(cell, "01_neural_nets", "01_neural_nets", "s001").auto_score = points
        gradebook.db.commit()
        students = {s.id: (s.first_name, s.last_name, s.lms_user_id) for s in gradebook.students}
    assert students == {"s001": ("Lan", "Nguyễn", "1042"), "s002": ("Minh", "Trần", "1043")}
    to = tmp_path / "for-canvas.csv"
    assert commands.main(["--course", str(course), "export", "--lms", "canvas", "--to", str(to)]) == 0
    with open(to, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neural_nets"],
                    ["    Points Possible", "", "", "", "", "11"],
                    ["Nguyễn, Lan", "1042", "s001", "", "", "7.5"],
                    ["Trần, Minh", "1043", "s002", "", "", ""]]
