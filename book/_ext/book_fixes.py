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
explorer returns its default figure instead (``dlcourse.display.notebook.is_book_build``).

4. Outputs as fresh as the code.  The execution cache knows a chapter's own cells only;
when ``dlcourse`` or ``requirements.txt`` change, every chapter is executed again (their
hash is kept next to the execution cache, which every build shares, and with each build's
doctrees).

5. Numbers in translations.  A translated paragraph is parsed on its own, as plain MyST
(``dlcourse.book.editions``), where MyST-NB cannot see the notebook's glued values, so
``{glue}`key``` and ``{glue:text}`key:fmt``` would be lost.  In a translated paragraph these
roles read the value from the page's own glue cache instead (``page.md::key``), the one the
English page reads.

6. Translated parts and title.  sphinx-external-toc inserts the table of contents (with
the parts' captions) after Sphinx has translated the page, so in the Vietnamese edition
the sidebar's parts stayed English; they, and the book's title, are translated here
with the root page's catalogue, where ``make translations`` puts them.  The catalogue is
read from its ``.po`` file, which a clean clone has (Sphinx compiles the ``.mo`` files only
after the title is needed).

7. Each edition its figures.  While the book is built, a figure is displayed with its
English image (``image/png``) and its Vietnamese one (an ``<img>`` in ``text/html``;
``dlcourse.display.plots``); the English edition shows the first, the Vietnamese the second.

8. The Vietnamese edition's own words and numbers where the code and the theme write
them: "Hình 3" and "Bảng 2" for figure and table numbers, the search box's text, the
numbers pasted from the notebook (``5.000``, ``0,9``), and the tables and lists a chapter's
code writes as Markdown or HTML (translated with ``dlcourse.vietnamese.writing``, numbers the
Vietnamese way).  What a cell outputs is therefore no message of the catalogues: its
numbers are computed, and a catalogue would go out of date with every measurement.  The
glossary is sorted by the Vietnamese headwords.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Set

from myst_nb.ext.glue.roles import PasteRoleAny, PasteTextRole
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain

from dlcourse.vietnamese.writing import vietnamese, vietnamese_html, vietnamese_numbers

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


# Parts of dlcourse no chapter runs: the grading subsystem and the book's own tooling (the import contracts
# keep the rest of the package from importing them; tests/test_book_sources.py keeps the chapters from it).
NOT_RUN_BY_CHAPTERS = ("grading", "book")


def code_hash(root: Path) -> str:
    """A hash of the package the chapters import and of the pinned requirements."""
    digest = hashlib.sha256()
    package = root / "dlcourse"
    chapters_run = [path for path in sorted(package.rglob("*.py"))
                    if path.relative_to(package).parts[0] not in NOT_RUN_BY_CHAPTERS]
    for path in chapters_run + [root / "requirements.txt"]:
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


class _PasteInTranslation:
    """A glue role that also works in a translated paragraph (see fix 5): there it pastes
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


def _catalogue(app: Sphinx, docname: str) -> Dict[str, str]:
    """The translations of one page's catalogue (msgid → msgstr), read from its ``.po`` file."""
    from babel.messages.pofile import read_po

    domain = docname_to_domain(docname, app.config.gettext_compact)
    translations: Dict[str, str] = {}
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
    """Fix 7 and the Vietnamese edition's numbering and search box (fix 8)."""
    if (config.language or "en") == "en":
        # a figure's English image before its Vietnamese <img> (text/html ranks first by default)
        config.nb_mime_priority_overrides = [*config.nb_mime_priority_overrides, ("*", "image/png", 25)]
        return
    config.numfig_format = {"figure": "Hình %s", "table": "Bảng %s", "code-block": "Mã %s",
                            "section": "Mục %s"}
    options = dict(config.html_theme_options or {})
    options["search_bar_text"] = vietnamese(options.get("search_bar_text", "Search this book..."))
    config.html_theme_options = options


class _VietnameseFromCode(SphinxPostTransform):
    """Fix 8 in the Vietnamese edition: pasted numbers, and the Markdown a chapter's code writes."""

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
    """Fix 8: the text of cells' outputs is translated by ``_VietnameseFromCode``, not by the catalogues."""
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


def _vietnamese_order(word: str) -> List[Any]:
    """A sort key in Vietnamese dictionary order: syllable by syllable, the letters first
    (a ă â b c d đ e ê …), then the tone (a à á ả ã ạ)."""
    import unicodedata

    key: List[Any] = []
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


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("config-inited", _edition_settings)
    app.connect("doctree-resolved", _sort_glossary)
    app.connect("doctree-read", _outputs_are_not_messages)
    app.add_post_transform(_VietnameseFromCode)
    app.connect("doctree-read", _translate_parts)
    app.connect("builder-inited", _translate_title)
    app.setup_extension("myst_nb")
    for name, role in (("", _PasteAnyInTranslation), ("any", _PasteAnyInTranslation),
                       ("text", _PasteTextInTranslation)):
        app.add_role_to_domain("glue", name, role(), override=True)
    os.environ["DLCOURSE_BOOK_BUILD"] = "1"  # inherited by every kernel the build starts
    app.connect("builder-inited", _drop_thebe, priority=0)
    app.connect("builder-inited", _execute_again_when_code_changed)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _remember_code_hash)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
