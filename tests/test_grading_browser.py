"""A hostile submission's feedback page and formgrader page, opened in a real browser: nothing runs.

The submission's written answer, a raw cell and its outputs carry the usual ways of running
script from Markdown (``javascript:`` links in every spelling, event handlers, SVG, data URLs,
a form, a MathJax ``\\href``).  Each payload would set ``window.__pwned`` or open a dialog.  The
feedback page (a file) and formgrader's view of the submission (served by a real Jupyter server
with nbgrader's extension, as an instructor uses it) are opened in headless Chromium, every link
and button is clicked, one page load each, and after every click the page must show no dialog
and no ``__pwned``.  The feedback page also carries a Content-Security-Policy that blocks inline
script.  (Formgrader's own pages need inline script, so there the allow-list alone stops them.)
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from test_grading import A1, _cell, make_course

from dlcourse.book.pdf import CHROMIUM, CHROMIUM_ARGS
from dlcourse.grading import commands as grading

pytestmark = pytest.mark.browser

PAYLOADS = "\n\n".join([
    "[plot](javascript:window.__pwned=1)",
    "[plot](JaVa&#x09;ScRiPt:window.__pwned=2)",
    '<a href="javascript:window.__pwned=3">link</a>',
    '<img src="x" onerror="window.__pwned=4">',
    '<svg onload="window.__pwned=5"></svg>',
    '<a href="data:text/html,<script>opener.__pwned=6</script>">data</a>',
    '<form><button formaction="javascript:window.__pwned=7">go</button></form>',
    '<details open ontoggle="window.__pwned=8">d</details>',
    r"$\href{javascript:window.__pwned=9}{x}$",
    '<a href="#" onclick="window.__pwned=10">click</a>',
    "<script>window.__pwned=11</script>",
    '<a href="vbscript:msgbox(12)">vb</a> <iframe src="javascript:window.__pwned=13"></iframe>',
])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    root = make_course(tmp_path_factory.mktemp("hostile") / "course", [A1])
    inbox = root.parent / "inbox"
    inbox.mkdir()
    notebook = copy.deepcopy(nbformat.read(root / "release" / A1 / f"{A1}.ipynb", as_version=4))
    _cell(notebook, "q4_answer").source = PAYLOADS
    notebook.cells.append(nbformat.v4.new_raw_cell(PAYLOADS, metadata={"raw_mimetype": "text/html"}))
    notebook.cells.append(nbformat.v4.new_code_cell(
        "from IPython.display import display\n"
        "display({'text/html': '<img src=x onerror=\"window.__pwned=20\">', "
        "'image/png': '\" onerror=\"window.__pwned=21', 'text/markdown': '[m](javascript:window.__pwned=22)'}, "
        "raw=True, metadata={'image/png': {'width': '1 onerror=window.__pwned=23'}})\n"))
    nbformat.write(notebook, inbox / "mallory.ipynb")
    (inbox / "broken.ipynb").write_text("{ not a notebook", encoding="utf-8")    # a grader's note in its feedback
    grading.collect(root, A1, inbox)
    grading.autograde(root, A1, timeout=10)
    pages = {path.parts[-3]: path for path in grading.feedback(root, A1)}
    return {"root": root, "pages": pages}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make system-deps`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def click_everything(browser, url: str) -> list[str]:
    """Open ``url`` once per link or button and click it; what ran (dialogs, ``__pwned``) each time."""
    page = browser.new_page()
    ran: list[str] = []
    page.on("dialog", lambda dialog: (ran.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(url)
    page.wait_for_timeout(500)
    count = page.locator("a, button, summary, details, img, svg").count()
    assert count > 5, "the page has the links and images it should"
    for index in range(count):
        page.goto(url)
        target = page.locator("a, button, summary, details, img, svg").nth(index)
        # a hidden or detached element: nothing to click (playwright raises its own errors)
        with contextlib.suppress(Exception):
            target.click(timeout=1000, no_wait_after=True)
        page.wait_for_timeout(100)
        if page.url.lower().startswith(("javascript:", "data:", "vbscript:", "blob:")):
            ran.append(f"navigated to {page.url}")     # (a link to a missing file ends on chrome-error://: harmless)
        elif page.url.startswith(url.split("?")[0].split("#")[0]):
            pwned = page.evaluate("window.__pwned")
            if pwned is not None:
                ran.append(f"__pwned = {pwned}")
    page.close()
    return ran


def test_clicking_everything_on_a_hostile_feedback_page_runs_nothing(hostile, browser):
    page = hostile["pages"]["mallory"]
    meta = re.search(r"<meta[^>]*Content-Security-Policy[^>]*>", page.read_text())
    policy = dict(part.strip().split(" ", 1) for part in re.search(r'content="([^"]*)"', meta.group(0)).group(1)
                  .split(";") if part.strip())
    assert "'unsafe-inline'" not in policy["script-src"] and policy["default-src"] == "'none'"
    assert click_everything(browser, page.as_uri()) == []


def test_the_graders_note_is_shown_in_its_own_box(hostile, browser):
    view = browser.new_page()
    view.goto(hostile["pages"]["broken"].as_uri())
    box = view.locator(".dlcourse-grader-note")
    assert box.count() == 1 and "not a readable notebook" in box.inner_text()
    view.goto(hostile["pages"]["mallory"].as_uri())
    assert view.locator(".dlcourse-grader-note").count() == 0
    view.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(hostile) -> Iterator[str]:
    """A Jupyter server in the course folder with nbgrader's formgrader, as an instructor runs it."""
    root, port, token = hostile["root"], _free_port(), "dlcourse-test-token"
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / "jupyter"), "server", "--no-browser", f"--port={port}",
                               f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--allow-root"],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{base}/formgrader/gradebook?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        import json

        listing = json.load(urllib.request.urlopen(
            f"{base}/formgrader/api/submitted_notebooks/{A1}/{A1}?token={token}", timeout=10))
        submission = next(item["id"] for item in listing if item["student"] == "mallory")
        yield f"{base}/formgrader/submissions/{submission}/?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_clicking_everything_on_formgraders_view_of_a_hostile_submission_runs_nothing(formgrader, browser):
    assert click_everything(browser, formgrader) == []
