"""Sphinx extension: outputs as fresh as the code, and a current bibliography.

The execution cache knows a chapter's own cells only; when the part of ``dlcourse`` the chapters run,
or ``requirements.txt``, changes, every chapter is executed again (their hash is kept next to the
execution cache, which every build shares, and with each build's doctrees).

sphinxcontrib-bibtex lists the works cited anywhere in the book, but an incremental build does not
re-read the bibliography page when a chapter gains a citation.  The page is cheap (no code), so it is
re-read on every build.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)


def _outdated(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    if getattr(app, "_dlcourse_code_changed", False):
        return sorted(env.found_docs)
    return [name for name in env.found_docs if name.endswith("bibliography")]


# Parts of dlcourse no chapter runs: the grading subsystem and the book's own tooling (the import contracts
# keep the rest of the package from importing them; tests/test_book_sources.py keeps the chapters from it).
NOT_RUN_BY_CHAPTERS = ("grading", "book")


def code_hash(root: Path) -> str:
    """A hash of the package the chapters import, the data files they read and the pinned requirements."""
    digest = hashlib.sha256()
    package = root / "dlcourse"
    chapters_run = [path for path in sorted(package.rglob("*.py"))
                    if path.relative_to(package).parts[0] not in NOT_RUN_BY_CHAPTERS]
    data = sorted((root / "book").glob("*.json"))   # what chapters read (the worked exam's key)
    for path in chapters_run + data + [root / "requirements.txt"]:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _execute_again_when_code_changed(app: Sphinx) -> None:
    cache = Path(app.config.nb_execution_cache_path or Path(app.doctreedir).parent / ".jupyter_cache")
    code = code_hash(Path(app.srcdir))
    # One stamp next to the cache all builds share (html, gettext, single page, both editions)
    # and one per build: the build that finds the code changed empties the cache and runs
    # every chapter again; every other build, later, reads every page again from the new
    # cache, so no edition keeps pages with the old outputs.
    cache_stamp = cache.parent / ".dlcourse_code_hash"
    pages_stamp = Path(app.doctreedir) / ".dlcourse_code_hash"
    app._dlcourse_code_hash = ([cache_stamp, pages_stamp], code)
    if not (cache_stamp.exists() and cache_stamp.read_text() == code) and cache.exists():
        LOG.info("dlcourse or requirements.txt changed: executing every chapter again")
        shutil.rmtree(cache)
    if not (pages_stamp.exists() and pages_stamp.read_text() == code):
        app._dlcourse_code_changed = True


def _remember_code_hash(app: Sphinx, error: Any) -> None:
    if error is None:
        stamps, code = app._dlcourse_code_hash
        for stamp in stamps:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(code)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _execute_again_when_code_changed)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _remember_code_hash)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
