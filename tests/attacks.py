"""Submissions that try to forge their grade or harm the grader, for assignment 03.

Each attack is the answer code of one student: the attack itself, then stub answers
that earn nothing honestly (every function returns a wrong answer of the right shape, so
a test whose checks were switched off runs to its end; or an object built to fool a check).
``tests/test_grading_attacks.py`` grades them through both entry points and
checks that they earn nothing and leave no trace; the exercises README lists them.

The code uses placeholders filled in by ``attack_source``: ``{marker}`` (a string the
test looks for in process lists and file names), ``{port}`` (a loopback TCP listener of
the test), ``{unix}`` (a Unix socket of the test in the host's /tmp), ``{outside}`` (a
folder of the test outside the course), ``{course}``, ``{repo}``, ``{package}`` (the
installed dlcourse) and ``{elsewhere}`` (another checkout's copy of the source).

The attacks and the stubs are files in ``tests/data/attacks`` that ruff lints, read here byte
for byte; its ``index.toml`` lists them in order, with what each one tries.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["A3", "ATTACKS", "KEEPS_ITS_ANSWERS", "STUBS", "attack_source"]

_FOLDER = Path(__file__).resolve().parent / "data" / "attacks"
_READ: list[Path] = []  # every file read, in order (tests/test_test_data.py: none left unread)


def _text(path: Path) -> str:
    _READ.append(path)
    return path.read_text(encoding="utf-8")


_INDEX = tomllib.loads(_text(_FOLDER / "index.toml"))

A3 = _INDEX["assignment"]

STUBS = _text(_FOLDER / _INDEX["stubs"])

ATTACKS = {attack["name"]: _text(_FOLDER / attack["file"]) for attack in _INDEX["attack"]}
if len(ATTACKS) != len(_INDEX["attack"]):
    raise ValueError(f"an attack is listed twice in {_FOLDER / 'index.toml'}")

# An attack whose answers must come from its own code keeps those definitions after the stubs.
KEEPS_ITS_ANSWERS = {attack["name"] for attack in _INDEX["attack"] if attack.get("keeps_its_answers", False)}


def attack_source(kind: str, **places: str) -> str:
    """The answer code of one attacking student: the attack, then the stub answers."""
    attack = ATTACKS[kind]
    for key, value in places.items():
        attack = attack.replace("{" + key + "}", str(value))
    stubs = STUBS
    if kind == "frame_reader":
        stubs = "\n".join("    return STUBS_RETURN" if line.startswith("    return") else line
                          for line in STUBS.splitlines())
    if kind in KEEPS_ITS_ANSWERS:
        return stubs + "\n" + attack
    return attack + "\n" + stubs
