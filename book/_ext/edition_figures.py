"""Sphinx extension: each edition its figures.

While the book is built, a figure is displayed with its English image (``image/png``) and its
Vietnamese one (an ``<img>`` in ``text/html``; ``dlcourse.display.inline_figures``).  MyST-NB ranks
``text/html`` first by default, which the Vietnamese edition keeps; the English edition ranks the
English image first.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _english_image_first(app: Sphinx, config: Any) -> None:
    if (config.language or "en") == "en":
        config.nb_mime_priority_overrides = [*config.nb_mime_priority_overrides, ("*", "image/png", 25)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _english_image_first)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
