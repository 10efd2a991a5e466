"""Sphinx extension: the Vietnamese edition's own words and numbers, where the catalogues cannot give them.

Parts and title.  sphinx-external-toc inserts the table of contents (with the parts' captions) after
Sphinx has translated the page, so the sidebar's parts would stay English; they, and the book's
title, are translated here with the root page's catalogue, where ``make translations`` puts them.
The catalogue is read from its ``.po`` file, which a clean clone has (Sphinx compiles the ``.mo``
files only after the title is needed).

What the code and the theme write: "Hình 3" and "Bảng 2" for figure and table numbers, the search
box's text, the numbers pasted from the notebook (``5.000``, ``0,9``), and the tables and lists a
chapter's code writes as Markdown or HTML (translated with ``dlcourse.vietnamese.writing``, numbers
the Vietnamese way).  What a cell outputs is therefore no message of the catalogues: its numbers are
computed, and a catalogue would go out of date with every measurement.

The glossary is sorted by its Vietnamese headwords, in Vietnamese dictionary order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.i18n import docname_to_domain

from dlcourse.vietnamese.writing import vietnamese, vietnamese_html, vietnamese_numbers


def _catalogue(app: Sphinx, docname: str) -> dict[str, str]:
    """The translations of one page's catalogue (msgid → msgstr), read from its ``.po`` file."""
    from babel.messages.pofile import read_po

    domain = docname_to_domain(docname, app.config.gettext_compact)
    translations: dict[str, str] = {}
    for directory in app.config.locale_dirs:
        po = Path(app.srcdir) / directory / app.config.language / "LC_MESSAGES" / f"{domain}.po"
        if po.exists():
            with po.open("rb") as file:
                for message in read_po(file):
                    if message.id and message.string and not message.fuzzy:
                        translations[message.id] = message.string
    return translations


def _vietnamese_edition(app: Sphinx) -> bool:
    return (app.config.language or "en") == "vi"


def _translate_parts(app: Sphinx, doctree: Any) -> None:
    if (app.config.language or "en") == "en":
        return
    toctrees = [node for node in doctree.findall(addnodes.toctree) if node.get("caption")]
    if toctrees:
        catalogue = _catalogue(app, app.env.docname)
        for node in toctrees:
            node["caption"] = catalogue.get(node["caption"], node["caption"])


def _translate_title(app: Sphinx) -> None:
    if (app.config.language or "en") != "en" and app.config.html_title:
        title = app.config.html_title
        app.config.html_title = _catalogue(app, app.config.root_doc).get(title, title)


def _edition_settings(app: Sphinx, config: Any) -> None:
    """The Vietnamese edition's numbering ("Hình 3", "Bảng 2") and search box."""
    if (config.language or "en") == "en":
        return
    config.numfig_format = {"figure": "Hình %s", "table": "Bảng %s", "code-block": "Mã %s",
                            "section": "Mục %s"}
    options = dict(config.html_theme_options or {})
    options["search_bar_text"] = vietnamese(options.get("search_bar_text", "Search this book..."))
    config.html_theme_options = options


class _VietnameseFromCode(SphinxPostTransform):
    """In the Vietnamese edition: pasted numbers, and the Markdown a chapter's code writes."""

    default_priority = 900  # after MyST-NB has pasted the glued values (priority 5)

    def run(self, **kwargs: Any) -> None:
        if not _vietnamese_edition(self.app):
            return
        from docutils import nodes

        for node in list(self.document.findall(nodes.inline)):
            if "pasted-text" in node.get("classes", []):
                node.replace_self(nodes.inline("", vietnamese_numbers(node.astext()), classes=node["classes"]))
        for raw in list(self.document.findall(nodes.raw)):
            if raw.get("format") == "html" and "text_html" in raw.get("classes", []):
                markup = vietnamese_html(raw.astext())
                raw.replace_self(nodes.raw("", markup, format="html", classes=raw["classes"]))
        for output in list(self.document.findall(nodes.container)):
            if "cell_output" not in output.get("classes", []):
                continue
            for text in list(output.findall(nodes.Text)):
                if isinstance(text.parent, (nodes.literal, nodes.literal_block, nodes.math, nodes.raw)):
                    continue
                if _in_caption(text):
                    continue
                words = str(text).strip()
                new = str(text).replace(words, vietnamese(words)) if words else str(text)
                if new != str(text):
                    text.parent.replace(text, nodes.Text(new))


def _outputs_are_not_messages(app: Sphinx, doctree: Any) -> None:
    """The text of cells' outputs is translated by ``_VietnameseFromCode``, not by the catalogues."""
    from docutils import nodes

    for output in doctree.findall(nodes.container):
        if "cell_output" in output.get("classes", []):
            for element in output.findall(nodes.TextElement):
                if not _in_caption(element):  # a figure's caption is the chapter's prose
                    element["translatable"] = False


def _in_caption(node: Any) -> bool:
    from docutils import nodes

    while node is not None:
        if isinstance(node, (nodes.caption, nodes.legend)):
            return True
        node = node.parent
    return False


def _sort_glossary(app: Sphinx, doctree: Any, docname: str) -> None:
    """In the Vietnamese edition, order the glossary by its (Vietnamese) headwords."""
    if not _vietnamese_edition(app):
        return
    from docutils import nodes

    for glossary in doctree.findall(addnodes.glossary):
        for definitions in glossary.findall(nodes.definition_list):
            items = list(definitions.children)
            # by the Vietnamese name, not the English one in brackets after it
            items.sort(key=lambda item: _vietnamese_order(item.children[0].astext().split(" (")[0]))
            definitions.children = items


_VIETNAMESE_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng: a à á ả ã ạ


def _vietnamese_order(word: str) -> list[Any]:
    """A sort key in Vietnamese dictionary order: syllable by syllable, the letters first
    (a ă â b c d đ e ê …), then the tone (a à á ả ã ạ)."""
    import unicodedata

    key: list[Any] = []
    for syllable in word.lower().split():
        letters, tones = [], []
        for char in syllable:
            base = unicodedata.normalize("NFD", char)
            letter = unicodedata.normalize("NFC", "".join(c for c in base if c not in _TONES))
            position = _VIETNAMESE_ALPHABET.find(letter)
            letters.append((0, position) if position >= 0 else (1, ord(letter[:1] or " ")))
            tones.append(next((i + 1 for i, c in enumerate(_TONES) if c in base), 0))
        key.append((letters, tones))
    return key


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _edition_settings)
    app.connect("builder-inited", _translate_title)
    app.connect("doctree-read", _translate_parts)
    app.connect("doctree-read", _outputs_are_not_messages)
    app.add_post_transform(_VietnameseFromCode)
    app.connect("doctree-resolved", _sort_glossary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
