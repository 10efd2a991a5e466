"""The test data in files (tests/data): every file read by a loader, every source valid Python, known entries right.

``tests/student_answers.py`` and ``tests/attacks.py`` read the answers and the attacks from
``tests/data``; a file no index lists would be linted but never graded, and one an index
lists but is missing fails their import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import attacks
import pytest
import student_answers
from attacks import ATTACKS, KEEPS_ITS_ANSWERS, attack_source
from student_answers import HONEST, MISTAKES, MOMENTUM_LOOP, NAMED_BY_THE_HINT

DATA = Path(__file__).resolve().parent / "data"
NOT_DATA = {DATA / "conftest.py"}  # keeps pytest from importing (running) the files here
READ = set(student_answers._READ) | set(attacks._READ)
PYTHON = sorted(path for path in READ if path.suffix == ".py")
PLACES = {"marker": "dlcourse-marker", "port": "4242", "unix": "/tmp/dlcourse.sock", "outside": "/tmp/outside",
          "course": "/tmp/course", "repo": "/tmp/repo", "package": "/tmp/package", "elsewhere": "/tmp/elsewhere"}


def _files() -> set[Path]:
    return {path for path in DATA.rglob("*") if path.is_file() and "__pycache__" not in path.parts} - NOT_DATA


def test_every_data_file_is_read_by_a_loader_and_every_file_read_is_there():
    assert sorted(str(p.relative_to(DATA)) for p in _files() - READ) == [], "files no index.toml lists"
    assert sorted(str(p) for p in READ - _files()) == []
    assert all(path.suffix in {".py", ".md", ".toml"} for path in READ)


def test_the_written_answers_are_prose_and_the_code_is_in_python_files():
    written = sorted(path for path in READ if path.suffix == ".md")
    assert len(written) == 6 and all(re.fullmatch(r"q\d+_answer", path.stem) for path in written)
    for path in written:  # code stored as .md would escape ruff
        with pytest.raises(SyntaxError):
            ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(DATA)))
def test_each_source_file_parses_as_python(path):
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@pytest.mark.parametrize("kind", list(ATTACKS))
def test_each_attack_parses_with_its_placeholders_filled_in(kind):
    source = attack_source(kind, **PLACES)
    tree = ast.parse(source)
    assert not re.search(r"\{(" + "|".join(PLACES) + r")\}", source), "a placeholder attack_source does not know"
    defined = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert "output_size" in defined and "next_logit" in defined  # the stubs came along
    if kind in KEEPS_ITS_ANSWERS:
        assert source.rindex("def output_size") > source.index("def next_logit")  # its own answer last


def test_known_entries_read_right():
    collapse = HONEST["01_neural_nets"]["float32 and loops"]["q3_answer"]
    assert collapse.startswith("\nfrom functools import reduce\n\ndef collapse(weights, biases):\n")
    assert HONEST["01_neural_nets"]["helpers"]["q4_answer"].startswith("Không có hàm kích hoạt, nhiều tầng")
    assert HONEST["01_neural_nets"]["helpers"]["q4_answer"].endswith("{(0,0), (1,1)}.")  # no newline added
    tests, cell, source = MISTAKES["02_backprop"]["a one-sided difference"]
    assert (tests, cell) == ("q2_tests", "q2_answer") and "grad[index] = (f(up) - f(w)) / eps\n" in source
    dampening = MISTAKES["05_optimisers"]["a velocity averaged like Adam's m (dampening)"][2]
    assert dampening.endswith(MOMENTUM_LOOP) and dampening.count("def ") == 2
    assert NAMED_BY_THE_HINT[("08_gpus", "the efficiency divided by 2 ** j")] == "divided by 2 ** j"
    assert 'connection.sendall(b"{marker}")' in ATTACKS["network"] and {"calc_getattr"} == KEEPS_ITS_ANSWERS
    assert list(MISTAKES)[5:7] == ["07_attention", "06_recurrent"]  # the order of the indexes, not of the folders
