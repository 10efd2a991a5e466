"""What a student writes is shown to graders and students as HTML: only through an allow-list.

nbconvert renders a notebook's Markdown cells, raw HTML cells and HTML or Markdown outputs
into the feedback pages and into formgrader's views.  The course's ``nbgrader_config.py``
turns on nbconvert's own sanitising (``HTMLExporter.sanitize_html``) and makes its filter
``clean_html`` this one: bleach with an allow-list of tags, attributes and URL schemes.
nbgrader's page templates render Markdown cells with ``markdown2html`` and skip nbconvert's
sanitising, so the course's ``markdown2html`` filter (nbconvert's rendering, then
``clean_html``) replaces nbconvert's as well: no Markdown reaches a page uncleaned.
Whatever is not on the list is shown as text (a ``<script>`` tag reads "<script>"), a link or
image whose URL is not http, https, mailto or relative loses its URL (no ``javascript:``,
``data:``, ``vbscript:``, however it is spelt), and no ``style`` or ``on...`` attribute
survives.  Class names that begin with ``dlcourse-`` are the grader's own (its notes) and are
dropped from what it cleans, so no student cell can dress up as one of them.

>>> clean_html('<p><a href="javascript:alert(1)">plot</a> <b>bold</b></p>')
'<p><a>plot</a> <b>bold</b></p>'
>>> clean_html('<img src="x" onerror="alert(1)"><script>alert(2)</script>')
'<img src="x">&lt;script&gt;alert(2)&lt;/script&gt;'
>>> clean_html('<a href="JaVa&#x09;ScRiPt:alert(1)">x</a><div class="dlcourse-grader-note ok">y</div>')
'<a>x</a><div class="ok">y</div>'
"""

from __future__ import annotations

from typing import Any

from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from jinja2 import pass_context

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
})
"""Tags that describe text, lists, tables, code and images: nothing that runs, loads or submits."""

PROTOCOLS = frozenset({"http", "https", "mailto"})
"""URL schemes a link or an image may use (relative URLs, such as ``#q1``, are allowed too)."""

GRADER_CLASS_PREFIX = "dlcourse-"


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return True   # filtered by _drop_grader_classes
    allowed = {
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "td": {"align", "colspan", "rowspan"},
        "th": {"align", "colspan", "rowspan", "scope"},
        "ol": {"start"},
        "abbr": {"title"},
    }.get(tag, set())
    if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
        allowed = {"id"}          # the anchors of the headings nbconvert writes
    return name in allowed


class _DropGraderClasses(Filter):
    """Remove every ``dlcourse-...`` class name: those are the grader's own."""

    def __iter__(self):
        for token in Filter.__iter__(self):
            data = token.get("data")
            if token.get("type") in ("StartTag", "EmptyTag") and isinstance(data, dict):
                for key in [k for k in data if k[1] == "class"]:
                    kept = " ".join(name for name in data[key].split() if not name.startswith(GRADER_CLASS_PREFIX))
                    if kept:
                        data[key] = kept
                    else:
                        del data[key]
            yield token


_CLEANER = Cleaner(tags=TAGS, attributes=_attribute_allowed, protocols=PROTOCOLS, strip=False, strip_comments=True,
                   filters=[_DropGraderClasses])


def clean_html(html: object) -> str:
    """``html`` with everything outside the allow-list shown as text or removed (see the module).

    >>> clean_html('<table><tr><th scope="col">n</th></tr><tr><td>3</td></tr></table>')
    '<table><tbody><tr><th scope="col">n</th></tr><tr><td>3</td></tr></tbody></table>'
    """
    return _CLEANER.clean(html.decode() if isinstance(html, bytes) else str(html))


@pass_context
def markdown2html(context: Any, source: str) -> str:
    """nbconvert's Markdown rendering (with maths), then ``clean_html``: the filter every page uses.

    A cell's attachments are not embedded (the grader removes them from submissions).

    >>> markdown2html({}, "[plot](javascript:alert(1)) and $x < 1$")
    '<p><a>plot</a> and $x &lt; 1$</p>\\n'
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    path = context.get("resources", {}).get("metadata", {}).get("path", "") if hasattr(context, "get") else ""
    renderer = IPythonRenderer(escape=False, attachments={}, path=path)
    return clean_html(MarkdownWithMath(renderer=renderer).render(str(source)))


def escape_text(text: str | None) -> str:
    """Plain text for an HTML page: every character that could start markup escaped.

    >>> escape_text('<b>"1 & 2"</b>')
    '&lt;b&gt;&quot;1 &amp; 2&quot;&lt;/b&gt;'
    """
    return (str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))
