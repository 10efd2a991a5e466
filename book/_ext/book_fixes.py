"""Sphinx extension: the fixes this book needs, however it is built.

They live here, not in the Makefile, so that ``jupyter-book build .`` gives the same site
as ``make book``.

1. No network.  Jupyter Book 1 always loads sphinx-thebe (live code through Binder).  Even with Thebe
switched off, sphinx-thebe 0.3 writes its configuration script into every page, twice on
an incremental build, which logs "Identifier 'THEBE_JS_URL' has already been declared" in
the browser, and it points at a CDN.  This extension disconnects sphinx-thebe's event
handlers, so no Thebe script, style or button reaches the pages.

2. A current bibliography.  sphinxcontrib-bibtex lists the works cited anywhere in the
book, but an incremental build does not re-read the bibliography page when a chapter
gains a citation.  The page is cheap (no code), so it is re-read on every build.

3. Static widgets.  The chapters' explorers are ipywidgets in Jupyter; on a built page no
kernel is behind them, and their output would ask public CDNs for require.js and the
widget manager.  ``DLCOURSE_BOOK_BUILD=1`` is set for the kernels the build starts, so an
explorer returns its default figure instead (``dlcourse.widgets.static_build``).

4. Outputs as fresh as the code.  The execution cache knows a chapter's own cells only;
when ``dlcourse`` or ``requirements.txt`` change, every chapter is executed again (their
hash is kept next to the doctrees).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Set

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)


def _drop_thebe(app: Sphinx) -> None:
    for listeners in list(app.events.listeners.values()):
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files if "thebe" not in str(name)]


def _outdated(app: Sphinx, env: Any, added: Set[str], changed: Set[str], removed: Set[str]) -> List[str]:
    if getattr(app, "_dlcourse_code_changed", False):
        return sorted(env.found_docs)
    return [name for name in env.found_docs if name.endswith("bibliography")]


def code_hash(root: Path) -> str:
    """A hash of the package the chapters import and of the pinned requirements."""
    digest = hashlib.sha256()
    for path in sorted((root / "dlcourse").rglob("*.py")) + [root / "requirements.txt"]:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _execute_again_when_code_changed(app: Sphinx) -> None:
    stamp = Path(app.doctreedir).parent / ".dlcourse_code_hash"
    code = code_hash(Path(app.srcdir))
    app._dlcourse_code_hash = (stamp, code)
    if stamp.exists() and stamp.read_text() == code:
        return
    cache = Path(app.config.nb_execution_cache_path or Path(app.doctreedir).parent / ".jupyter_cache")
    if cache.exists():
        LOG.info("dlcourse or requirements.txt changed: executing every chapter again")
        shutil.rmtree(cache)
    app._dlcourse_code_changed = True


def _remember_code_hash(app: Sphinx, error: Any) -> None:
    if error is None:
        stamp, code = app._dlcourse_code_hash
        stamp.write_text(code)


def setup(app: Sphinx) -> Dict[str, Any]:
    os.environ["DLCOURSE_BOOK_BUILD"] = "1"  # inherited by every kernel the build starts
    app.connect("builder-inited", _drop_thebe, priority=0)
    app.connect("builder-inited", _execute_again_when_code_changed)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _remember_code_hash)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
