"""The backpropagation chapter's figures: where max pooling sends the gradient.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dlcourse.display.inline_figures import inline_figure
from dlcourse.layer_gradients import Array, maxpool2d_backward


@inline_figure
def maxpool_gradient_figure(x: Array, dy: Array, size: int = 2) -> Figure:
    """Max pooling's backward pass drawn: the input with each window's maximum marked, the
    output gradient, and the input gradient, which is zero except at those maxima.

    Non-overlapping windows only (stride = size), so that thick lines can show them.

    >>> fig = maxpool_gradient_figure(np.arange(16.0).reshape(4, 4), np.ones((2, 2)))
    >>> [ax.get_title().split("\\n")[0] for ax in fig.axes]
    ['input x', 'output gradient dL/dy', 'input gradient dL/dx']
    """
    from matplotlib.patches import Rectangle

    x = np.asarray(x, dtype=float)
    dy = np.asarray(dy, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"the figure draws one 2-D channel, got an input of shape {x.shape}")
    if x.shape[0] % size or x.shape[1] % size:
        raise ValueError(f"the figure draws windows that tile the input: its sides must be multiples "
                         f"of {size}, got shape {x.shape}")
    dx = maxpool2d_backward(x, dy, size)
    chosen = maxpool2d_backward(x, np.ones_like(dy), size) > 0
    panels = [(x, f"input x\n(max of each {size} x {size} window)", chosen, "#fd8d3c"),
              (dy, "output gradient dL/dy\n", np.ones(dy.shape, bool), "#9ecae1"),
              (dx, "input gradient dL/dx\n(zero except at the maxima)", chosen, "#fd8d3c")]
    fig = Figure(figsize=(9, 3.4))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [x.shape[1], x.shape[1], x.shape[1]]})
    for ax, (values, title, marked, colour) in zip(axes, panels):
        rows, cols = values.shape
        top = (x.shape[0] + rows) / 2   # centre a smaller grid vertically
        for (r, c), value in np.ndenumerate(values):
            ax.add_patch(Rectangle((c + (x.shape[1] - cols) / 2, top - 1 - r), 1, 1,
                                   facecolor=colour if marked[r, c] else "white",
                                   edgecolor="#6b6b6b", linewidth=0.6))
            ax.text(c + (x.shape[1] - cols) / 2 + 0.5, top - 0.5 - r, f"{value:g}",
                    ha="center", va="center", fontsize=11)
        if values.shape == x.shape:  # thick lines between the pooling windows
            for c in range(0, cols + 1, size):
                ax.plot([c, c], [0, rows], color="black", linewidth=2)
            for r in range(0, rows + 1, size):
                ax.plot([0, cols], [rows - r, rows - r], color="black", linewidth=2)
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-0.05, x.shape[1] + 0.05)
        ax.set_ylim(-0.05, x.shape[0] + 0.05)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.tight_layout()
    return fig
