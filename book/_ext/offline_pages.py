"""Sphinx extension: pages that ask no server for anything, however the book is built.

They live here, not in the Makefile, so that ``jupyter-book build .`` gives the same site as ``make book``.

No Thebe.  Jupyter Book 1 always loads sphinx-thebe (live code through Binder).  Even with Thebe
switched off, sphinx-thebe 0.3 writes its configuration script into every page, twice on an
incremental build, which logs "Identifier 'THEBE_JS_URL' has already been declared" in the browser,
and it points at a CDN.  This extension disconnects sphinx-thebe's event handlers, so no Thebe
script, style or button reaches the pages.

Static explorers.  The chapters' explorers are ipywidgets in Jupyter; on a built page no kernel is
behind them, and their output would ask public CDNs for require.js and the widget manager.
``DLCOURSE_BOOK_BUILD=1`` is set for the kernels the build starts, so an explorer returns its
default figure instead (``dlcourse.display.notebook.is_book_build``).
"""

from __future__ import annotations

import os
from typing import Any

from sphinx.application import Sphinx


def _drop_thebe(app: Sphinx) -> None:
    for listeners in list(app.events.listeners.values()):
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files if "thebe" not in str(name)]


def setup(app: Sphinx) -> dict[str, Any]:
    os.environ["DLCOURSE_BOOK_BUILD"] = "1"  # inherited by every kernel the build starts
    app.connect("builder-inited", _drop_thebe, priority=0)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
