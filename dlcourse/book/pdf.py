"""Print each edition of the book as one PDF, with the Chromium the browser tests use.

``python -m dlcourse.book.editions singlehtml`` builds the whole book as one page per edition;
this module opens that page in headless Chromium (Playwright, ``/usr/bin/chromium``; no
LaTeX), waits until MathJax has typeset every formula, heads the book's table of contents
(its parts and chapters, linked) and starts each chapter on a new page, opens
every folded cell, hides what only works on screen (buttons, sidebars, the search box),
and prints A4 pages with page numbers into ``_build/pdf/dlcourse-<language>.pdf``.
Chromium also writes the PDF's outline (bookmarks) from the headings.

    python -m dlcourse.book.pdf                  # both editions
    python -m dlcourse.book.pdf vi
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from dlcourse.book.editions import LANGUAGES, ROOT, edition, output_dir
from dlcourse.command_line import CommandLine

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which the course drives with Playwright (it never downloads a browser)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
"""Headless and quiet: no sandbox of its own (it may run as root), no GPU, no calls home."""

CONTENTS_TITLE = {"en": "Contents", "vi": "Mục lục"}
"""The heading of the table of contents, per edition."""

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .copybtn,
.dlcourse-language-switch, .search-button-field, #pst-skip-link, .skip-link,
.toggle-details__summary .tooltip, #pst-back-to-top, .back-to-top-btn, .onlyprint,
button.toggle-button { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-page-width, .bd-container,
.bd-container__inner { max-width: none !important; width: 100% !important; margin: 0 !important;
  padding: 0 !important; }
body { font-size: 10.5pt; }
article.bd-article > section > h1 { display: block !important; font-size: 2.2em; text-align: center;
  margin: 0 0 2em 0; }
section.dlcourse-chapter { break-before: page; }
nav.dlcourse-contents { break-after: page; font-size: 12pt; }
nav.dlcourse-contents p.dlcourse-part { font-weight: bold; margin: 1em 0 0.2em; }
nav.dlcourse-contents ul { list-style: none; padding-left: 1em; margin: 0; line-height: 1.7; }
nav.dlcourse-contents li.dlcourse-section { padding-left: 1.5em; }
div.cell, figure, img, table, .admonition { break-inside: avoid; }
pre { white-space: pre-wrap; }
"""

PREPARE = """([title]) => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const book = document.querySelector('article.bd-article > section');
  if (!book) { return 0; }
  const parts = [...book.querySelectorAll(':scope > .toctree-wrapper')];
  const captions = [...document.querySelectorAll('nav.bd-links p.caption')].map(p => p.textContent.trim());
  const contents = document.createElement('nav');
  contents.className = 'dlcourse-contents';
  const heading = document.createElement('h2');
  heading.textContent = title;
  contents.appendChild(heading);
  let chapters = 0;
  parts.forEach((part, i) => {
    if (captions[i]) {
      const caption = document.createElement('p');
      caption.className = 'dlcourse-part';
      caption.textContent = captions[i];
      contents.appendChild(caption);
    }
    const list = document.createElement('ul');
    part.querySelectorAll('.toctree-wrapper > section').forEach(chapter => {
      chapter.classList.add('dlcourse-chapter');
      chapters += 1;
      const title = chapter.querySelector('h1, h2, h3, h4');
      const item = document.createElement('li');
      if (chapter.parentElement !== part) { item.className = 'dlcourse-section'; }
      const link = document.createElement('a');
      link.href = '#' + chapter.id;
      link.textContent = title ? title.textContent.replace(/#$/, '').trim() : chapter.id;
      item.appendChild(link);
      list.appendChild(item);
    });
    contents.appendChild(list);
  });
  book.querySelector(':scope > h1').after(contents);
  return chapters;
}"""

FOOTER = ('<div style="width:100%; font-size:8pt; color:#666; text-align:center;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def pdf_path(language: str, root: Path = ROOT) -> Path:
    """Where an edition's PDF is written.

    >>> pdf_path("vi", Path("/course")).as_posix()
    '/course/_build/pdf/dlcourse-vi.pdf'
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown edition {language!r}: expected one of {', '.join(LANGUAGES)}")
    return root / "_build" / "pdf" / f"dlcourse-{language}.pdf"


def print_edition(language: str, root: Path = ROOT) -> Path:
    """Print one edition's single-page build to PDF; returns the PDF's path."""
    page = output_dir("singlehtml", language, root) / "index.html"
    if not page.exists():
        raise ValueError(f"no single-page build of the {LANGUAGES[language]} edition at {page}: "
                         f"run python -m dlcourse.book.editions singlehtml {language} first")
    if not CHROMIUM.exists():
        raise ValueError("Chromium is missing: apt-get install chromium (make pdf installs it)")
    from playwright.sync_api import sync_playwright

    target = pdf_path(language, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                      else route.abort())
            tab.goto(page.as_uri(), wait_until="load")
            tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
            tab.add_style_tag(content=PRINT_CSS)
            chapters = tab.evaluate(PREPARE, [CONTENTS_TITLE[language]])
            if chapters == 0:
                raise ValueError(f"{page} has no chapters (no sections in its article): is it a single-page build?")
            tab.emulate_media(media="print")
            tab.pdf(path=str(target), format="A4", print_background=True, display_header_footer=True,
                    header_template="<div></div>", footer_template=FOOTER, prefer_css_page_size=True,
                    outline=True, tagged=True)
        finally:
            browser.close()
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Print the editions asked for; exit status 2 for a bad input, 1 when one cannot be printed (one line
    on stderr)."""

    parser = CommandLine(prog="python -m dlcourse.book.pdf", description=__doc__.split("\n")[0])
    parser.add_argument("languages", nargs="*", type=edition, default=list(LANGUAGES), help="editions (default: en vi)")
    args = parser.parse_args(argv)
    written: list[Path] = []
    try:
        for language in args.languages:
            written.append(print_edition(language))
    except ValueError as exc:
        return parser.fail(exc)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
