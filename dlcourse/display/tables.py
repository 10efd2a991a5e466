"""A small table for what a chapter's code tabulates: aligned plain text, a real table in the book.

``table(rows, headers, formats)`` formats every number of a column with that column's format
specification (``",.0f"``, ``".1e"``, ``".0%"``: what an f-string takes after the colon), so a
chapter writes its numbers as it would print them, and nobody pads columns by hand.

- ``str()`` and ``repr()`` give the table as aligned plain text (a terminal, a doctest);
- in Jupyter and in the book the table is HTML, the way ``dlcourse.calc``'s layer table is.  The
  Vietnamese edition translates an HTML table's header row with ``dlcourse.vietnamese.writing``
  (every header must be a text its ``VIETNAMESE`` table knows) and writes the numbers of the
  other cells the Vietnamese way; the other cells' words stay as they are (names, dtypes) unless
  a cell is a whole text of that table;
- with ``markdown=True`` it is a Markdown table instead, where the Vietnamese edition translates
  every cell's text: for tables whose cells are words (the worked exam's answers).

>>> formats = table([("float32", 8, 2.0 ** -23), ("bfloat16", 8, 2.0 ** -7), ("TF32", None, None)],
...                 ["format", "exponent bits", "eps"], formats=[None, "d", ".1e"])
>>> print(formats)
format    exponent bits      eps
--------  -------------  -------
float32               8  1.2e-07
bfloat16              8  7.8e-03
TF32                  -        -
>>> formats.cells[1]
('bfloat16', '8', '7.8e-03')
>>> print(table([("a", "crops", 51200)], ["question", "quantity", "answer"], formats=[None, None, ","],
...             markdown=True)._repr_markdown_())
| question | quantity | answer |
|---|---|---:|
| a | crops | 51,200 |
>>> table([(1, 2), (3,)], ["x", "y"])
Traceback (most recent call last):
...
ValueError: row 2 has 1 cells, but there are 2 headers
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MISSING = "-"
"""What a cell holding ``None`` shows."""

_ALIGNMENTS = {"l": "left", "r": "right", "c": "center"}
_MARKDOWN_RULES = {"l": "---", "r": "---:", "c": ":-:"}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


@dataclass(frozen=True, repr=False)
class Table:
    """Headers and cells as text, and each column's alignment (``"l"``, ``"r"`` or ``"c"``).

    Made by ``table``; ``str()``, ``repr()``, ``_repr_html_`` and ``_repr_markdown_`` show it.
    """

    headers: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]
    align: str
    markdown: bool = False

    def text(self) -> str:
        """The table as aligned plain text: the headers, a rule, one line per row."""
        widths = [max(len(text) for text in column) for column in zip(self.headers, *self.cells)]

        def line(values: Sequence[str]) -> str:
            parts = [_pad(value, width, how) for value, width, how in zip(values, widths, self.align)]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.cells)])

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def html(self) -> str:
        """The table as HTML, each column aligned as in the text (numbers to the right)."""
        style = "padding:2px 12px;border-bottom:1px solid #ddd;"

        def row(tag: str, values: Sequence[str]) -> str:
            return "<tr>" + "".join(
                f'<{tag} style="{style}text-align:{_ALIGNMENTS[how]}">{html.escape(value)}</{tag}>'
                for value, how in zip(values, self.align)) + "</tr>"

        return ('<table class="dlcourse-table" style="border-collapse:collapse"><thead>'
                + row("th", self.headers) + "</thead><tbody>"
                + "".join(row("td", values) for values in self.cells) + "</tbody></table>")

    def to_markdown(self) -> str:
        """The table as Markdown (a ``|`` in a cell is escaped)."""

        def row(values: Sequence[str]) -> str:
            return "|" + "|".join(f" {_escape_bar(value)} " if value else " " for value in values) + "|"

        rule = "|" + "|".join(_MARKDOWN_RULES[how] for how in self.align) + "|"
        return "\n".join([row(self.headers), rule, *(row(values) for values in self.cells)])

    def _repr_html_(self) -> str | None:
        # None: Jupyter leaves this representation out (a Markdown table has only its Markdown)
        return None if self.markdown else self.html()

    def _repr_markdown_(self) -> str | None:
        return self.to_markdown() if self.markdown else None


def _pad(value: str, width: int, how: str) -> str:
    if how == "r":
        return value.rjust(width)
    if how == "c":
        return value.center(width)
    return value.ljust(width)


def _escape_bar(value: str) -> str:
    return value.replace("|", "\\|")


def _shown(value: Any, spec: str | None) -> str:
    if value is None:
        return MISSING
    if _is_number(value):
        return format(value, spec or "")
    return str(value)


def table(
    rows: Iterable[Sequence[Any]],
    headers: Sequence[str],
    formats: Sequence[str | None] | None = None,
    align: str | None = None,
    markdown: bool = False,
) -> Table:
    """A table of ``rows`` under ``headers``.

    ``formats`` holds one format specification per column (or ``None``), applied to the numbers
    of that column; text is shown as it is and ``None`` as ``-``.  ``align`` holds one letter per
    column, ``l``, ``r`` or ``c``; by default a column of numbers is aligned right, any other
    left.  ``markdown=True`` shows the table as Markdown in Jupyter and the book, not as HTML.

    Raises ``ValueError`` for a row whose length is not the number of headers (a ragged table),
    and for ``formats`` or ``align`` of the wrong length.

    >>> table([("SGD", 0.1), ("Adam", 0.001)], ["optimiser", "lr"], formats=[None, ".0e"]).cells
    (('SGD', '1e-01'), ('Adam', '1e-03'))
    >>> table([(1, "a")], ["n", "name"], align="lr").align
    'lr'
    """
    headers = tuple(headers)
    if not headers or not all(isinstance(header, str) for header in headers):
        raise ValueError(f"headers must be one or more texts, got {headers!r}")
    columns = len(headers)
    values = [tuple(row) for row in rows]
    for number, row in enumerate(values, start=1):
        if len(row) != columns:
            raise ValueError(f"row {number} has {len(row)} cells, but there are {columns} headers")
    specs = tuple(formats) if formats is not None else (None,) * columns
    if len(specs) != columns:
        raise ValueError(f"{len(specs)} formats for {columns} columns")
    if align is None:
        align = "".join(
            "r" if any(value is not None for value in column) and all(
                value is None or _is_number(value) for value in column) else "l"
            for column in (zip(*values) if values else [()] * columns))
    if len(align) != columns or any(how not in _ALIGNMENTS for how in align):
        raise ValueError(f"align needs one of l, r, c for each of the {columns} columns, got {align!r}")
    cells = tuple(tuple(_shown(value, spec) for value, spec in zip(row, specs)) for row in values)
    return Table(headers, cells, align, markdown)
