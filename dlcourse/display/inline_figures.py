"""A returned matplotlib Figure shown in a notebook, in both editions' languages while the book is built.

Figures are made without pyplot, so nothing is drawn twice in a notebook and no global figure
list grows.  ``show_figures_inline`` registers the display once, when the first figure is made
(``inline_figure``), never at import.
"""

from __future__ import annotations

import base64
import functools
import io
import os
from collections.abc import Callable, Sequence
from typing import ParamSpec

from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import Formatter

from dlcourse.vietnamese.writing import vietnamese


def show_figures_inline() -> None:
    """In a Jupyter kernel, display a returned Figure as an image (pyplot is never used).

    While the book is built (``DLCOURSE_BOOK_BUILD=1``), a figure is displayed in both
    editions' languages: the English image as ``image/png`` and the Vietnamese one
    (``vietnamese_figure_png``) as an ``<img>`` in ``text/html``; each edition's build
    picks its own (``book/_ext/edition_figures.py``).
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing to display
        return
    shell = get_ipython()
    if shell is None:
        return
    set_matplotlib_formats("png")
    if os.environ.get("DLCOURSE_BOOK_BUILD") == "1":
        shell.display_formatter.mimebundle_formatter.for_type(Figure, both_editions_bundle)


P = ParamSpec("P")


def inline_figure(make: Callable[P, Figure]) -> Callable[P, Figure]:
    """Mark a function that returns a Figure: calling it first sets up ``show_figures_inline``.

    So the display is set up when a chapter makes its first figure, never when a module is imported.

    >>> @inline_figure
    ... def empty() -> Figure:
    ...     return Figure()
    >>> type(empty()).__name__
    'Figure'
    """
    @functools.wraps(make)
    def made_and_shown(*args: P.args, **kwargs: P.kwargs) -> Figure:
        show_figures_inline()
        return make(*args, **kwargs)
    return made_and_shown


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def both_editions_bundle(fig: Figure, include: object = None, exclude: object = None) -> dict[str, str]:
    english = png_bytes(fig)
    vietnamese = vietnamese_figure_png(fig)
    encoded = base64.b64encode(vietnamese).decode("ascii")
    return {"image/png": base64.b64encode(english).decode("ascii"),
            "text/html": f'<img class="dlcourse-figure-vi" src="data:image/png;base64,{encoded}" alt="">'}


class _VietnameseTicks(Formatter):
    """A tick formatter that writes what another one writes, in Vietnamese."""

    def __init__(self, english: Formatter) -> None:
        self.english = english

    def set_axis(self, axis: object) -> None:
        super().set_axis(axis)
        self.english.set_axis(axis)

    def set_locs(self, locs: Sequence[float]) -> None:
        self.english.set_locs(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return vietnamese(self.english(x, pos))

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        return [vietnamese(label) for label in self.english.format_ticks(values)]

    def get_offset(self) -> str:
        return vietnamese(self.english.get_offset())


def vietnamese_figure_png(fig: Figure) -> bytes:
    """The figure as a PNG with every text in Vietnamese (``dlcourse.vietnamese.writing.vietnamese``).

    The figure itself is left as it was.  Raises ``ValueError`` naming a text that has no
    Vietnamese yet.

    >>> from dlcourse.display.plots import curves_figure
    >>> fig = curves_figure([0, 1, 2], {"SGD": [1.0, 0.5, 0.25]}, xlabel="step", ylabel="loss")
    >>> vietnamese_figure_png(fig)[:4] == b"\\x89PNG", fig.axes[0].get_xlabel()
    (True, 'step')
    """
    changed: list[tuple[Text, str]] = []
    formatters: list[tuple[object, Formatter, Formatter]] = []
    try:
        ticks = set()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                    ticks.update((id(tick.label1), id(tick.label2)))
                ticks.add(id(axis.offsetText))
                major, minor = axis.get_major_formatter(), axis.get_minor_formatter()
                formatters.append((axis, major, minor))
                axis.set_major_formatter(_VietnameseTicks(major))
                axis.set_minor_formatter(_VietnameseTicks(minor))
        for text in fig.findobj(Text):
            english = text.get_text()
            if id(text) in ticks or not english.strip():
                continue
            changed.append((text, english))
            text.set_text(vietnamese(english))
        return png_bytes(fig)
    finally:
        for text, english in changed:
            text.set_text(english)
        for axis, major, minor in formatters:
            axis.set_major_formatter(major)
            axis.set_minor_formatter(minor)
