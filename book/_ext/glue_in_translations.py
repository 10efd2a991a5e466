"""Sphinx extension: glued numbers in translated paragraphs.

A translated paragraph is parsed on its own, as plain MyST (``dlcourse.book.editions``), where MyST-NB
cannot see the notebook's glued values, so ``{glue}`key``` and ``{glue:text}`key:fmt``` would be lost.
In a translated paragraph these roles read the value from the page's own glue cache instead
(``page.md::key``), the one the English page reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from myst_nb.ext.glue.roles import PasteRoleAny, PasteTextRole
from sphinx.application import Sphinx


class _PasteInTranslation:
    """A glue role that also works in a translated paragraph (see above): there it pastes
    from the page's glue cache, as ``{glue}`page.md::key``` would."""

    def run(self):  # type: ignore[no-untyped-def]
        if "nb_renderer" not in self.document and "::" not in self.text:
            env = self.document.settings.env
            self.text = f"{Path(env.doc2path(env.docname)).name}::{self._key(self.text)}"
        return super().run()

    @staticmethod
    def _key(text: str) -> str:
        return text


class _PasteTextInTranslation(_PasteInTranslation, PasteTextRole):
    @staticmethod
    def _key(text: str) -> str:
        return text if ":" in text else f"{text}:s"  # "page::key" alone would be read as key "page:"


class _PasteAnyInTranslation(_PasteInTranslation, PasteRoleAny):
    pass


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("myst_nb")
    for name, role in (("", _PasteAnyInTranslation), ("any", _PasteAnyInTranslation),
                       ("text", _PasteTextInTranslation)):
        app.add_role_to_domain("glue", name, role(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
