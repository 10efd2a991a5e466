"""The package as `pip install .` gives it: its dependencies declared, its version in one place."""

from __future__ import annotations

import ast
import email
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import dlcourse

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
GRADING_MODULES = {"grading", "verdict", "sandbox", "probe", "remote", "mutants", "markup"}  # the `grading` extra's
BOOK_MODULES = {"editions", "translations", "pdf", "claims"}  # the `book` extra's: editions, their check, PDFs, guards


def _name(requirement: str) -> str:
    for mark in "<>=!~[; ":
        requirement = requirement.split(mark)[0]
    return requirement.strip().lower().replace("_", "-")


def _third_party_imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name not in ("dlcourse", "__future__")}


def test_every_import_of_the_package_is_a_declared_dependency():
    distributions = packages_distributions()
    base = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    grading = base | {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["grading"]}
    book = base | {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["book"]}
    missing = []
    for path in sorted((REPO / "dlcourse").rglob("*.py")):
        declared = grading if path.stem in GRADING_MODULES else book if path.stem in BOOK_MODULES else base
        for module in _third_party_imports(path):
            providers = {_name(d) for d in distributions.get(module, [module])}
            if not providers & declared:
                missing.append(f"{path.relative_to(REPO)} imports {module} ({', '.join(sorted(providers))})")
    assert missing == []


def test_the_version_is_written_in_one_place():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dlcourse.__version__"}


@pytest.mark.slow
def test_pip_builds_a_wheel_with_every_module_and_the_metadata(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                             "--disable-pip-version-check", "-w", str(tmp_path), str(REPO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("dlcourse-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
        metadata = email.message_from_string(archive.read(next(f for f in files if f.endswith("METADATA"))).decode())
    sources = {str(p.relative_to(REPO)) for p in (REPO / "dlcourse").rglob("*.py")}
    assert sources <= files
    assert metadata["Version"] == dlcourse.__version__
    requires = {_name(r) for r in metadata.get_all("Requires-Dist")}
    assert {"torch", "numpy", "matplotlib", "scikit-learn", "nbgrader"} <= requires
