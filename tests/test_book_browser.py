"""Every page of the built book, loaded in headless Chromium with the network shut off.

For each page in _toc.yml, served from a local HTTP server: the page loads; nothing is
requested from outside the site (such requests are blocked and counted as failures); no
console errors or failed requests; maths is typeset (no raw TeX left); every image has
loaded; no cell output holds a traceback.  A screenshot of each page goes to
_build/screenshots/ (ignored by git) for a person to look at.

Build the book first (``make test`` does); run alone with ``pytest tests/test_book_browser.py``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Dict, Iterator, List
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def toc_pages(chapters_only: bool = False) -> List[str]:
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


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it first)")
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
  };
}"""


@pytest.mark.parametrize("page_name", toc_pages())
def test_page_renders_offline(site: str, browser, page_name: str) -> None:
    problems: Dict[str, List[str]] = {"outside requests": [], "console errors": [], "failed requests": []}
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
    response = page.goto(f"{site}/{page_name}.html", wait_until="networkidle")
    assert response is not None and response.ok, f"{page_name}: HTTP {response.status if response else 'no response'}"
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    facts = page.evaluate(PAGE_CHECKS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (page_name.replace("/", "_") + ".png")), full_page=True)
    context.close()

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
