"""Sphinx extension: two fixes to Jupyter Book 1's defaults for this book.

1. No network.  Jupyter Book 1 always loads sphinx-thebe (live code through Binder).  Even with Thebe
switched off, sphinx-thebe 0.3 writes its configuration script into every page, twice on
an incremental build, which logs "Identifier 'THEBE_JS_URL' has already been declared" in
the browser, and it points at a CDN.  This extension disconnects sphinx-thebe's event
handlers, so no Thebe script, style or button reaches the pages.

2. A current bibliography.  sphinxcontrib-bibtex lists the works cited anywhere in the
book, but an incremental build does not re-read the bibliography page when a chapter
gains a citation.  The page is cheap (no code), so it is re-read on every build.
"""

from __future__ import annotations

from typing import Any, Dict, List, Set

from sphinx.application import Sphinx


def _drop_thebe(app: Sphinx) -> None:
    for listeners in list(app.events.listeners.values()):
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files if "thebe" not in str(name)]


def _always_reread_bibliography(app: Sphinx, env: Any, added: Set[str], changed: Set[str], removed: Set[str]) -> List[str]:
    return [name for name in env.found_docs if name.endswith("bibliography")]


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("builder-inited", _drop_thebe, priority=0)
    app.connect("env-get-outdated", _always_reread_bibliography)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
