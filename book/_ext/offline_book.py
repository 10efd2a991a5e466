"""Sphinx extension: keep the built book free of anything that needs the network.

Jupyter Book 1 always loads sphinx-thebe (live code through Binder).  Even with Thebe
switched off, sphinx-thebe 0.3 writes its configuration script into every page, twice on
an incremental build, which logs "Identifier 'THEBE_JS_URL' has already been declared" in
the browser, and it points at a CDN.  This extension disconnects sphinx-thebe's event
handlers, so no Thebe script, style or button reaches the pages.
"""

from __future__ import annotations

from typing import Any, Dict

from sphinx.application import Sphinx


def _drop_thebe(app: Sphinx) -> None:
    for event, listeners in list(app.events.listeners.items()):
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files if "thebe" not in str(name)]


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("builder-inited", _drop_thebe, priority=0)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
