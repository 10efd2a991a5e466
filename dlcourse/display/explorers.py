"""Small ipywidgets explorers for the chapters.

In Jupyter an explorer is interactive.  When the book is built (the book's extension,
``book/_ext/offline_pages.py``, sets ``DLCOURSE_BOOK_BUILD=1`` for however it is built)
there is no kernel behind the page, so an explorer returns its default figure instead:
the static page shows a complete picture, never an empty widget box, and nothing is
fetched from a CDN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure


def redrawing_output(controls: dict[str, Any], draw: Callable[..., Figure]) -> Any:
    """An ipywidgets Output showing ``draw(**values of controls)``, redrawn whenever a control changes.

    Values ``draw`` refuses (a ValueError) are reported in the output instead of drawn.
    """
    import ipywidgets
    from IPython.display import display

    output = ipywidgets.Output()

    def redraw(_: Any = None) -> None:
        output.clear_output(wait=True)
        with output:
            try:
                display(draw(**{name: control.value for name, control in controls.items()}))
            except ValueError as error:
                print(error)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return output










