"""Answers students write: honest ones in other legitimate forms, and the typical mistakes.

``HONEST[assignment][variant]`` maps answer cells to sources that are right, written
another way than the reference (loops instead of vectorised code, lists instead of
tuples, float32, nested modules, helper functions, a Vietnamese written answer): each
must get full marks for every student.  ``MISTAKES[assignment][name]`` is one wrong
answer cell the outside checks found the old tests let through, with the question whose
test must catch it: it must lose that question's points for every student.

The sources are files under ``tests/data`` that ruff lints, read here byte for byte:

- ``honest/<assignment>/<variant folder>/<cell>.py`` (``.md`` for a written answer);
- ``mistakes/<assignment>/<mistake>.py``, and ``mistakes/05_optimisers/momentum_loop.py``
  (``MOMENTUM_LOOP``), which some mistakes' cells go on with.

Each folder's ``index.toml`` lists its entries in order, with what is not code: a variant's
name and cell files, a mistake's name, test cell, answer cell and files; the top ones the
assignments' order and ``NAMED_BY_THE_HINT``.  ``tests/test_test_data.py`` checks that every
file there is read and parses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["HONEST", "MISTAKES", "MOMENTUM_LOOP", "NAMED_BY_THE_HINT"]

_DATA = Path(__file__).resolve().parent / "data"
_READ: list[Path] = []  # every file read, in order (tests/test_test_data.py: none left unread)


def _text(path: Path) -> str:
    _READ.append(path)
    return path.read_text(encoding="utf-8")


def _index(folder: Path) -> dict[str, Any]:
    return tomllib.loads(_text(folder / "index.toml"))


def _unique(pairs: Iterable[tuple[str, Any]], folder: Path) -> dict[str, Any]:
    """A dict of the pairs, refusing a name listed twice (an entry copied and not renamed)."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"{name!r} is listed twice in {folder / 'index.toml'}")
        result[name] = value
    return result


def _honest(root: Path) -> dict[str, dict[str, dict[str, str]]]:
    honest = {}
    for assignment in _index(root)["assignments"]:
        folder = root / assignment
        variants = []
        for variant in _index(folder)["variant"]:
            cells = [(Path(cell).stem, _text(folder / variant["folder"] / cell)) for cell in variant["cells"]]
            variants.append((variant["name"], _unique(cells, folder)))
        honest[assignment] = _unique(variants, folder)
    return honest


def _mistakes(root: Path, assignments: list[str]) -> dict[str, dict[str, tuple[str, str, str]]]:
    mistakes = {}
    for assignment in assignments:
        folder = root / assignment
        entries = []
        for mistake in _index(folder)["mistake"]:
            source = "".join(_text(folder / file) for file in mistake["files"])
            entries.append((mistake["name"], (mistake["tests"], mistake["cell"], source)))
        mistakes[assignment] = _unique(entries, folder)
    return mistakes


HONEST = _honest(_DATA / "honest")

_MISTAKES_INDEX = _index(_DATA / "mistakes")

# The loop around a wrong momentum step, as the mistakes below write it (the step is what they get wrong).
MOMENTUM_LOOP = _text(_DATA / "mistakes" / _MISTAKES_INDEX["momentum_loop"])

MISTAKES = _mistakes(_DATA / "mistakes", _MISTAKES_INDEX["assignments"])

#: The words each of these mistakes must be named with (``tests/test_honest_grading.py``).
NAMED_BY_THE_HINT = {(hint["assignment"], hint["mistake"]): hint["words"]
                     for hint in _MISTAKES_INDEX["named_by_the_hint"]}
