"""Every page of the built book, both editions, loaded in headless Chromium with the network shut off.

For each page in _toc.yml, in English (``_build/html``) and in Vietnamese
(``_build/html/vi``), served from a local HTTP server: the page loads; nothing is
requested from outside the site (such requests are blocked and counted as failures); no
console errors or failed requests; maths is typeset (no raw TeX left); every image has
loaded; no cell output holds a traceback; the page says its language, and its language
switch leads to the same page in the other edition.  Search finds a chapter in each
edition.  A screenshot of each page goes to _build/screenshots/ (ignored by git; the
Vietnamese ones are named vi_...) for a person to look at.

Build the book first (``make test`` does); run alone with ``pytest tests/test_book_browser.py``.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import yaml

from dlcourse.book.editions import LANGUAGES, site_folder
from dlcourse.book.pdf import CHROMIUM, CHROMIUM_ARGS
from dlcourse.vietnamese.writing import vietnamese_numbers

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"


def toc_pages(chapters_only: bool = False) -> list[str]:
    """Documents named in _toc.yml, in reading order, without their file extension.

    ``chapters_only`` leaves out the root page and the Reference part (glossary, bibliography).
    """
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [] if chapters_only else [toc["root"]]
    for part in toc.get("parts", []):
        if chapters_only and part.get("caption") == "Reference":
            continue
        for chapter in part.get("chapters", []):
            pages += [chapter["file"]] + [section["file"] for section in chapter.get("sections", [])]
    return [str(Path(page).with_suffix("")) for page in pages]


CHAPTERS = set(toc_pages(chapters_only=True))
EDITIONS = {language: site_folder(language) for language in LANGUAGES}   # each edition's folder in the one site


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    for edition in EDITIONS.values():
        if not (HTML / edition / "index.html").exists():
            pytest.fail(f"the book is not built ({HTML / edition} is missing): run `make book` (or `make test`, "
                        "which builds it first)")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


PAGE_CHECKS = """() => {
  const body = document.querySelector('main') || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
  const text = copy.innerText;
  const outputs = [...document.querySelectorAll('.cell_output, .output')].map(e => e.innerText);
  return {
    title: document.title,
    rawMath: ['$$', '\\\\(', '\\\\[', '\\\\begin{'].filter(t => text.includes(t)),
    mathSource: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    images: document.images.length,
    tracebacks: outputs.filter(t => t.includes('Traceback')).length,
    wideMath: [...document.querySelectorAll('mjx-container[display="true"]')]
      .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => e.textContent.slice(0, 40)),
    loadingWidgets: outputs.filter(t => /Loading widget|Error displaying widget/i.test(t)).length,
    wideCode: [...document.querySelectorAll('.cell_input pre')]
      .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => e.innerText.split('\\n')[0].slice(0, 50)),
    language: document.documentElement.lang,
    switch: [...document.querySelectorAll('.dlcourse-language-switch a')].map(a => a.getAttribute('href')),
    numbers: [...document.querySelectorAll('.pasted-text')].map(e => e.textContent),
    heading: (document.querySelector('main h1') || {}).textContent,
  };
}"""


def load(site: str, browser, path: str, problems: dict[str, list[str]]):
    """A page of the site, its facts (PAGE_CHECKS) and its screenshot; problems are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route_request) -> None:
        url = route_request.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route_request.continue_()
        else:
            problems["outside requests"].append(url)
            route_request.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems["console errors"].append(msg.text))
    page.on("pageerror", lambda error: problems["console errors"].append(str(error)))
    page.on("requestfailed", lambda request: problems["failed requests"].append(request.url))
    response = page.goto(f"{site}/{path}", wait_until="networkidle")
    assert response is not None and response.ok, f"{path}: HTTP {response.status if response else 'no response'}"
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    facts = page.evaluate(PAGE_CHECKS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (path.removesuffix(".html").replace("/", "_") + ".png")), full_page=True)
    context.close()
    return facts


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page_name", toc_pages())
def test_page_renders_offline(site: str, browser, page_name: str, edition: str) -> None:
    problems: dict[str, list[str]] = {"outside requests": [], "console errors": [], "failed requests": []}
    facts = load(site, browser, f"{EDITIONS[edition]}{page_name}.html", problems)
    page_name = f"{EDITIONS[edition]}{page_name}"

    assert problems == {"outside requests": [], "console errors": [], "failed requests": []}, problems
    assert facts["rawMath"] == [], f"{page_name}: TeX left untypeset: {facts['rawMath']}"
    assert facts["typeset"] >= facts["mathSource"], (f"{page_name}: {facts['mathSource'] - facts['typeset']} "
                                                     "formulas not typeset")
    assert facts["wideMath"] == [], f"{page_name}: formulas wider than the page: {facts['wideMath']}"
    assert facts["brokenImages"] == [], f"{page_name}: images that did not load: {facts['brokenImages']}"
    assert facts["tracebacks"] == 0, f"{page_name}: a cell output holds a traceback"
    assert facts["loadingWidgets"] == 0, f"{page_name}: a widget output has no static view"
    assert facts["wideCode"] == [], f"{page_name}: code that scrolls sideways: {facts['wideCode']}"
    if page_name in CHAPTERS:
        assert facts["images"] >= 1, f"{page_name}: a chapter needs at least one figure"
    assert facts["language"] == edition, f"{page_name}: <html lang={facts['language']!r}>"
    assert len(facts["switch"]) == 1, f"{page_name}: no link to the other edition"


NUMBER = re.compile(r"[-−+]?[\d.,]+(e[-+]?\d+)?\s*%?")


def built_page_facts(path: Path) -> dict[str, object]:
    """From a built page's HTML: its computed numbers, its title, its language switch."""
    html = path.read_text(encoding="utf-8")
    return {
        "numbers": re.findall(r'<span class="pasted-text">([^<]*)</span>', html),
        "heading": re.search(r"<h1>(.*?)<a class=\"headerlink\"", html, flags=re.S).group(1),
        "switch": re.findall(r'<p class="dlcourse-language-switch"><a href="([^"]+)"', html),
    }


@pytest.mark.parametrize("page_name", toc_pages())
def test_both_editions_of_a_page_show_the_same_computed_numbers_and_link_to_each_other(page_name):
    english_path, vietnamese_path = HTML / f"{page_name}.html", HTML / "vi" / f"{page_name}.html"
    if not vietnamese_path.exists():
        pytest.fail(f"{vietnamese_path} is missing: run `make book`, which builds both editions")
    english, vietnamese = built_page_facts(english_path), built_page_facts(vietnamese_path)
    # the same values, in the order each language's sentences put them (computed sentences, not
    # numbers, may be pasted in the page's language)
    # numbers, not only computed sentences, may be pasted in the page's language); the Vietnamese
    # edition writes them the Vietnamese way (5.000, 0,9)
    same = [sorted(vietnamese_numbers(n) for n in english["numbers"] if NUMBER.fullmatch(n)),
            sorted(n for n in vietnamese["numbers"] if NUMBER.fullmatch(n))]
    assert len(same[0]) >= 0.8 * len(english["numbers"])
    assert same[0] == same[1], f"{page_name}: the editions print different numbers"
    assert english["heading"] != vietnamese["heading"], f"{page_name}: the Vietnamese title is the English one"
    assert (english_path.parent / english["switch"][0]).resolve() == vietnamese_path.resolve()
    assert (vietnamese_path.parent / vietnamese["switch"][0]).resolve() == english_path.resolve()


@pytest.mark.parametrize("edition, query, page_name", [
    ("en", "backpropagation", "book/backprop"),
    ("vi", "lan truyền ngược", "book/backprop"),
    ("vi", "tích chập", "book/conv_arithmetic"),
])
def test_search_finds_a_chapter_in_each_edition(site, browser, edition, query, page_name):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site}/{EDITIONS[edition]}search.html?q={quote(query)}", wait_until="networkidle")
    page.wait_for_selector("#search-results li", timeout=15000)
    results = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
    context.close()
    assert any(f"/{EDITIONS[edition]}{page_name}.html" in url for url in results), results


ENGLISH_WORDS = {"the", "and", "of", "is", "are", "with", "from", "this", "that", "for", "which", "per",
                 "when", "what", "each", "step", "steps", "layer", "layers", "search", "english", "fig",
                 "figure", "table", "seconds", "parameters", "training", "accuracy", "input", "output"}
"""Everyday English words: in the Vietnamese edition they appear only in code, in formulas, in
the English names of terms (in parentheses, as the book gives them) and in the references."""


def english_in_vietnamese_page(path: Path) -> list[str]:
    """English words a reader of a Vietnamese page sees outside code, formulas, term names and references."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.select_one("main") or soup
    for element in main.select("pre, code, .math, math, script, style, .dlcourse-language-switch, "
                               "a.reference, .citation, .bibtex, dl.glossary dt, .toctree-wrapper"):
        element.decompose()
    text = re.sub(r"\([^()]*\)", " ", main.get_text(" "))     # (English term names) stay English
    return [word for word in re.findall(r"[A-Za-z]+", text) if word.lower() in ENGLISH_WORDS]


@pytest.mark.parametrize("page_name", [p for p in toc_pages() if not p.endswith("bibliography")])
def test_a_vietnamese_page_shows_no_english_outside_code_formulas_and_term_names(page_name):
    path = HTML / "vi" / f"{page_name}.html"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make book`, which builds both editions")
    assert english_in_vietnamese_page(path) == [], f"{page_name}: English in the Vietnamese edition"
    html = path.read_text(encoding="utf-8")
    assert "Fig. " not in html and "Search this book" not in html
    numbers = re.findall(r'<span class="caption-number">([^<]*)</span>', html)
    assert all(number.startswith(("Hình ", "Bảng ")) for number in numbers), numbers


def test_the_english_detector_finds_english_and_spares_code_formulas_and_term_names(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<main><p>Tốc độ học (learning rate) là <code>the lr</code> $x$ '
                    '<span class="math">and</span></p><p>Fig. 3: the loss</p></main>', encoding="utf-8")
    assert english_in_vietnamese_page(page) == ["Fig", "the"]
