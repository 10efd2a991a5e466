"""The class server's set-up and exchange, the parts that need neither accounts nor a hub (dlcourse.grading.hub,
dlcourse.grading.exchange).  The whole class, with both, is tests/test_class_on_hub.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlcourse.grading import hub


def _roster(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("id,first name,last name,email\n" + "".join(f"{i},A,B,{i}@x.edu\n" for i in ids), encoding="utf-8")
    return path


@pytest.mark.parametrize("student_id", ["S001", "s.001", "1abc", "a" * 33])
def test_ids_that_cannot_be_login_names_are_refused_before_anything_is_made(tmp_path, student_id):
    with pytest.raises(ValueError, match="cannot be a login name"):
        hub.set_up_class(_roster(tmp_path, "s001", student_id), "teacher", [], tmp_path, tmp_path / "exchange")
    assert not (tmp_path / "exchange").exists()


@pytest.mark.parametrize("student_id", ["s001", "_x", "a" * 32, "s-01_b"])
def test_login_names_are_the_student_ids(student_id):
    assert hub.login_name(student_id) == student_id


def test_a_grader_on_the_roster_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ta1: on the roster and a grader"):
        hub.set_up_class(_roster(tmp_path, "s001", "ta1"), "teacher", ["ta1"], tmp_path, tmp_path / "exchange")


def test_hub_setup_without_root_says_to_run_it_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeError, match="run it as root"):
        hub.set_up_class(_roster(tmp_path, "s001"), "teacher", [], tmp_path, tmp_path / "exchange")
    assert not (tmp_path / "exchange").exists()


def test_a_private_submission_is_refused_where_inbound_is_not_set_up_for_it(tmp_path):
    """Fail closed: without a setgid inbound the instructor could not collect it, so nothing is handed in."""
    exchange, work = tmp_path / "exchange", tmp_path / "work"
    (exchange / "dlcourse" / "inbound").mkdir(parents=True)
    (exchange / "dlcourse" / "outbound" / "a1").mkdir(parents=True)
    (exchange / "dlcourse" / "inbound").chmod(0o733)                     # nbgrader's mode, without setgid
    (work / "a1").mkdir(parents=True)
    (work / "a1" / "a1.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (work / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'dlcourse'\nc.Exchange.root = {str(exchange)!r}\n"
        "c.ExchangeFactory.submit = 'dlcourse.grading.exchange.PrivateSubmit'\n")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(nbgrader), "submit", "a1"], cwd=work, capture_output=True, text=True,
                            env=dict(os.environ, HOME=str(tmp_path)))
    assert result.returncode != 0
    assert "is not setgid to the graders' group" in result.stdout + result.stderr
    assert list((exchange / "dlcourse" / "inbound").iterdir()) == []
