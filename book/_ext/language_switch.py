"""Sphinx extension: a link on every page to the same page in the book's other edition.

The editions and their folders in the one site are ``dlcourse.book.editions``'s (English in
``_build/html``, Vietnamese in ``_build/html/vi``), so the same page of the other edition
is one folder down (from English) or up (from Vietnamese), whatever the page.  The link is plain HTML at the top of
the article, works from a file on disk as well as from a web server, and is left out of
the single-page builds the PDFs are printed from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

from dlcourse.book.editions import LANGUAGES, site_folder

TOOLTIPS = {"vi": "Đọc trang này bằng tiếng Việt", "en": "Read this page in English"}
"""The link's tooltip, in the language of the edition it leads to."""


def other_edition(language: str) -> str:
    """The edition the switch leads to from ``language``.

    >>> other_edition("en"), other_edition("vi")
    ('vi', 'en')
    """
    others = [other for other in LANGUAGES if other != language]
    if language not in LANGUAGES or len(others) != 1:
        raise ValueError(f"no other edition for language {language!r}: expected one of {', '.join(LANGUAGES)}")
    return others[0]


def other_edition_url(pagename: str, language: str) -> str:
    """The relative URL of the same page in the other edition.

    >>> other_edition_url("book/neural_nets", "en")
    '../vi/book/neural_nets.html'
    >>> other_edition_url("book/neural_nets", "vi")
    '../../book/neural_nets.html'
    >>> other_edition_url("search", "en")
    'vi/search.html'
    """
    there = site_folder(other_edition(language))
    here = site_folder(language)
    up = "../" * (pagename.count("/") + here.count("/"))
    return f"{up}{there}{pagename}.html"


def _add_switch(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    language = app.config.language or "en"
    if app.builder.name != "html" or language not in LANGUAGES or "body" not in context:
        return
    other = other_edition(language)
    url = other_edition_url(pagename, language)
    switch = (f'<p class="dlcourse-language-switch"><a href="{url}" hreflang="{other}" lang="{other}" '
              f'title="{TOOLTIPS[other]}">{LANGUAGES[other]}</a></p>\n')
    context["body"] = switch + context["body"]


def _add_static_path(app: Sphinx, config: Config) -> None:
    config.html_static_path = [*config.html_static_path, str(Path(__file__).parent / "static")]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_static_path)
    app.connect("html-page-context", _add_switch)
    app.add_css_file("language_switch.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
