"""The printed books (``make pdf``: _build/pdf/dlcourse-en.pdf and dlcourse-vi.pdf), read back.

Every chapter's title is in the text (the Vietnamese titles are taken from the
catalogues) and in the PDF's outline; the page count is sensible for the book; no page
holds raw TeX, an error trace or a control that only works on screen.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from test_book_browser import toc_pages

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
PDF = REPO / "_build" / "pdf"
LOCALES = REPO / "locales"
EDITIONS = ["en", "vi"]


def flat(text: str) -> str:
    """Text without spaces, in one Unicode form: PDF extraction splits Vietnamese letters apart."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def chapter_titles(language: str) -> list[str]:
    """The first heading of every page in _toc.yml, in the edition's language."""
    titles = []
    for page in toc_pages():
        source = (REPO / f"{page}.md").read_text(encoding="utf-8")
        english = re.search(r"^# (.+)$", source, flags=re.M).group(1).strip()
        if language == "en":
            titles.append(english)
            continue
        with (LOCALES / language / "LC_MESSAGES" / f"{page}.po").open("rb") as handle:
            catalog = read_po(handle)
        titles.append(catalog[english].string)
    return titles


@pytest.fixture(scope="module")
def pages() -> dict[str, list[str]]:
    pypdf = pytest.importorskip("pypdf")
    text = {}
    for language in EDITIONS:
        path = PDF / f"dlcourse-{language}.pdf"
        if not path.exists():
            pytest.fail(f"{path} is missing: run `make pdf` (make test does)")
        reader = pypdf.PdfReader(path)
        text[language] = [page.extract_text() or "" for page in reader.pages]
        text[f"{language}-outline"] = [item.title for item in _walk(reader.outline)]
    return text


def _walk(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _walk(item)
        else:
            yield item


@pytest.mark.parametrize("language", EDITIONS)
def test_every_chapter_title_is_printed_and_in_the_outline(pages, language):
    whole = flat("".join(pages[language]))
    outline = {flat(title) for title in pages[f"{language}-outline"]}
    titles = chapter_titles(language)
    assert len(titles) >= 12
    assert [t for t in titles if flat(t) not in whole] == [], "chapter titles missing from the text"
    assert [t for t in titles if flat(t) not in outline] == [], "chapter titles missing from the outline"


@pytest.mark.parametrize("language", EDITIONS)
def test_the_page_count_is_sensible(pages, language):
    # 13 pages (title and contents, 12 chapters, glossary, bibliography) of some 30,000 words with
    # code, tables and figures: about a hundred A4 pages at least, and not a page per paragraph.
    assert 100 <= len(pages[language]) <= 400, len(pages[language])


@pytest.mark.parametrize("language", EDITIONS)
def test_no_page_holds_raw_tex_a_trace_or_a_screen_control(pages, language):
    leftovers = ["$$", "\\(", "\\[", "\\begin{", "Traceback", "Error displaying widget", "Back to top",
                 "Click to show", "Click to hide", "Nhấp để", "Ctrl+K"]
    found = {f"page {number}": [word for word in leftovers if word in text]
             for number, text in enumerate(pages[language], start=1)}
    assert {page: words for page, words in found.items() if words} == {}


def test_the_vietnamese_book_is_in_vietnamese(pages):
    contents = flat(pages["vi"][0])
    assert flat("Mục lục") in contents and flat("Nền tảng") in contents
    vietnamese_letters = sum(ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ" for ch in flat(
        "".join(pages["vi"])).lower())
    assert vietnamese_letters > 20000
