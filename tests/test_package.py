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
# the folders whose modules may use an extra's dependencies: grading (nbgrader and Jupyter), the book's tooling, and
# the chapters' guards (claims glue their sentences with myst-nb)
EXTRA_FOLDERS = {"dlcourse/grading": "grading", "dlcourse/book": "book", "dlcourse/display/claims.py": "book"}


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
        extra = next((name for folder, name in EXTRA_FOLDERS.items()
                      if path.relative_to(REPO).as_posix().startswith(folder)), None)
        declared = {"grading": grading, "book": book, None: base}[extra]
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


def _package_modules() -> list:
    return sorted(p for p in (REPO / "dlcourse").rglob("*.py") if "templates" not in p.parts)


def test_no_module_imports_another_modules_private_names():
    private = []
    for path in _package_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlcourse"):
                private += [f"{path.relative_to(REPO)}: {node.module}.{alias.name}" for alias in node.names
                            if alias.name.startswith("_")]
    assert private == []


def test_every_part_of_the_package_sits_in_a_layer_of_the_import_contracts():
    """A new module at the package root, or a new subpackage, has to be placed in the layers (pyproject.toml)."""
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    parts = {f"dlcourse.{p.stem if p.is_file() else p.name}" for p in (REPO / "dlcourse").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"}
    # the grading subsystem, and the name graded notebooks import its checks by
    outside = {"dlcourse.grading", "dlcourse.checks"}
    assert parts - outside - placed == set()
    assert placed <= parts


def test_importing_the_package_changes_nothing_outside_it():
    """No figure set-up, no display formatter, no matplotlib setting at import: only when a figure is made."""
    modules = [".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
               for p in _package_modules() if p.name != "__main__.py"]
    script = (
        "import importlib, json, matplotlib\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from matplotlib.figure import Figure\n"
        "shell = InteractiveShell.instance()\n"
        "before = dict(matplotlib.rcParams)\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "changed = [k for k, v in matplotlib.rcParams.items() if before.get(k) != v]\n"
        "display = shell.display_formatter\n"
        "formatters = dict(display.formatters, mimebundle=display.mimebundle_formatter)\n"
        "registered = []\n"
        "for kind, formatter in formatters.items():\n"
        "    try:\n"
        "        formatter.lookup_by_type(Figure)\n"
        "        registered.append(kind)\n"
        "    except KeyError:\n"
        "        pass\n"
        "print(json.dumps({'changed': changed, 'registered': registered}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == '{"changed": [], "registered": []}'
