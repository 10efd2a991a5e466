"""Nothing a student writes reaches a page as markup: the allow-list, on the attacks it must stop.

``dlcourse.grading.feedback_html`` is the filter nbconvert uses for the feedback pages and formgrader's views
(``exercises/nbgrader_config.py``).  The attacks are the usual ones for HTML that a browser will
render, written as a student would put them in a Markdown cell; what they must not leave behind
is anything that runs: a script, an event handler, a URL with a scheme other than http, https or
mailto, a style, a frame, a form.
"""

import re
from html.parser import HTMLParser

import nbformat
import pytest

from dlcourse.grading import feedback_html as markup
from dlcourse.grading.notes import NOTE_KEY, grader_note_cell
from dlcourse.grading.preprocessors.clean_submission import clean_notebook

ATTACKS = [
    "[plot](javascript:alert(document.domain))",
    "[plot](JaVaScRiPt:alert(1))",
    "[plot](java&#x09;script:alert(1))",
    "[plot](&#106;avascript:alert(1))",
    "[plot](  javascript:alert(1))",
    "[plot](vbscript:msgbox(1))",
    "[plot](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>x</a>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)">hover</p>',
    '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    '<a href="#" onclick="alert(1)">x</a>',
    '<details open ontoggle=alert(1)>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<style>@import 'javascript:alert(1)';</style>",
    '<div class="dlcourse-grader-note">Note from the grader: full marks</div>',
    "<!--<script>alert(1)</script>-->",
]

RUNS_OR_LOADS = {"script", "iframe", "object", "embed", "form", "svg", "math", "meta", "base", "link", "style",
                 "frame", "frameset", "applet", "input", "button", "textarea", "select", "video", "audio", "source"}


class _Elements(HTMLParser):
    """Every element a browser would build from the HTML, with its attributes (text is not an element)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def live_parts(html: str) -> list:
    """What in ``html`` could run, load or pass for the grader's: elements, handlers, URLs, styles, classes."""
    parser = _Elements()
    parser.feed(html)
    live = []
    for tag, attrs in parser.found:
        if tag in RUNS_OR_LOADS:
            live.append(f"<{tag}>")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            scheme = re.match(r"([a-z][a-z0-9+.-]*):", re.sub(r"[\s\x00-\x1f]", "", value))
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                live.append(f"{tag} {name}")
            elif name in ("href", "src", "action", "data", "xlink:href") and scheme and \
                    scheme.group(1) not in ("http", "https", "mailto"):
                live.append(f"{tag} {name}={value}")
            elif name == "class" and "dlcourse-" in value:
                live.append(f"{tag} class={value}")
    return live


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_that_runs_survives_in_markdown(attack):
    html = markup.markdown2html({}, f"An answer. {attack} The end.")
    assert live_parts(html) == [], html
    assert "An answer." in html and "The end." in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_that_runs_survives_as_html(attack):
    assert live_parts(markup.clean_html(attack)) == [], markup.clean_html(attack)


@pytest.mark.parametrize("attack", ATTACKS[:12])
def test_the_check_itself_sees_the_attacks(attack):
    """Without the filter, the check finds something live in most of the attacks (it can fail)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    raw = MarkdownWithMath(renderer=IPythonRenderer(escape=False)).render(attack)
    assert live_parts(raw) or "&" in attack, raw


def test_what_an_honest_answer_writes_is_kept():
    source = ("## Why\n\nA *linear* network is **one** layer: $W = W_1 W_2$ and $x < 1$.\n\n"
              "| n | MACs |\n|---|---:|\n| 3 | 27 |\n\n- one\n- two\n\n```python\nprint(1)\n```\n\n"
              "See [the chapter](https://example.org/book#q1) and [question 1](#q1), ![plot](plot.png).")
    html = markup.markdown2html({}, source)
    for kept in ('<h2 id="Why">', "<em>linear</em>", "<strong>one</strong>", "$W = W_1 W_2$", "$x &lt; 1$",
                 "<table>", "<th>MACs</th>", "<li>one</li>", "<pre>", "print",
                 '<a href="https://example.org/book#q1">the chapter</a>', '<a href="#q1">question 1</a>',
                 'src="plot.png"'):
        assert kept in html, kept


def test_a_student_cannot_dress_a_cell_up_as_the_graders_note():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Note from the grader: full marks", metadata={NOTE_KEY: "you got full marks"})])
    clean_notebook(nb)
    assert nb.cells[0].metadata == {}
    assert "dlcourse-grader-note" not in markup.markdown2html({}, '<div class="dlcourse-grader-note">x</div>')


def test_the_graders_note_is_escaped_text():
    cell = grader_note_cell('<img src=x onerror="alert(1)"> graded as blank')
    assert cell.metadata[NOTE_KEY] == '<img src=x onerror="alert(1)"> graded as blank'
    assert "<img" not in cell.source and "&lt;img" in cell.source
