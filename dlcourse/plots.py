"""Figures used by the book's chapters, each a function that returns a matplotlib Figure.

Chapters call these instead of carrying plotting code, so a page shows the idea and the
figure, and the figure code is tested once here.  Figures are made without pyplot, so
nothing is drawn twice in a notebook (the returned figure displays itself) and no
global figure list grows.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse


def _show_figures_in_notebooks() -> None:
    """In a Jupyter kernel, display a returned Figure as an image (pyplot is never used)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing to display
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png")


_show_figures_in_notebooks()


def nested_fields_figure() -> Figure:
    """Artificial intelligence contains machine learning, which contains deep learning.

    Each label sits in its own ring: inside its ellipse and outside the next one in.

    >>> fig = nested_fields_figure()
    >>> [t.get_text().split("\\n")[0] for t in fig.axes[0].texts]
    ['Artificial intelligence', 'Machine learning', 'Deep learning']
    """
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    bottom = 1.25
    fields = [  # label, width, height, colour: outermost first
        ("Artificial intelligence\n(trí tuệ nhân tạo)", 5.6, 3.4, "#dbe9f6"),
        ("Machine learning\n(học máy)", 4.0, 2.3, "#9ecae1"),
        ("Deep learning\n(học sâu)", 2.3, 1.2, "#4292c6"),
    ]
    tops = [bottom + height for _, _, height, _ in fields] + [bottom]
    for index, (label, width, height, colour) in enumerate(fields):
        ax.add_patch(Ellipse((3, bottom + height / 2), width, height, facecolor=colour, edgecolor="#08306b"))
        inner_top = tops[index + 1] if index + 1 < len(fields) else bottom
        ax.text(3, (tops[index] + inner_top) / 2, label, ha="center", va="center", fontsize=10)
    ax.set_xlim(0, 6)
    ax.set_ylim(1.1, 4.8)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def curves_figure(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    title: str = "",
    xlabel: str = "x",
    ylabel: str = "",
    logy: bool = False,
) -> Figure:
    """Several named curves over the same x values on one axis.

    >>> fig = curves_figure([0, 1, 2], {"square": [0, 1, 4]}, title="t")
    >>> fig.axes[0].get_title(), len(fig.axes[0].lines)
    ('t', 1)
    """
    if not curves:
        raise ValueError("curves_figure needs at least one named curve")
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    for name, values in curves.items():
        if len(values) != len(x):
            raise ValueError(f"curve {name!r} has {len(values)} values but x has {len(x)}")
        ax.plot(x, values, label=name, linewidth=2)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def loss_and_accuracy_figure(x: Sequence[float], loss: Sequence[float], accuracy: Sequence[float],
                             xlabel: str = "epoch") -> Figure:
    """Training loss on the left and accuracy (a fraction, shown in per cent) on the right.

    Two axes, because a loss and an accuracy have different units and ranges.

    >>> fig = loss_and_accuracy_figure([1, 2], [0.9, 0.4], [0.5, 0.8])
    >>> [a.get_ylabel() for a in fig.axes]
    ['training loss (cross-entropy)', 'test accuracy (%)']
    """
    if not (len(x) == len(loss) == len(accuracy)):
        raise ValueError(f"x, loss and accuracy must have the same length, got {len(x)}, {len(loss)}, {len(accuracy)}")
    fig = Figure(figsize=(9, 3.4))
    left, right = fig.subplots(1, 2)
    left.plot(x, loss, linewidth=2, color="#d62728")
    left.set_ylabel("training loss (cross-entropy)")
    right.plot(x, [100 * a for a in accuracy], linewidth=2, color="#1f77b4")
    right.set_ylabel("test accuracy (%)")
    for ax in (left, right):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def function_and_derivative_figure(
    x: np.ndarray,
    functions: Dict[str, np.ndarray],
    derivatives: Dict[str, np.ndarray],
    title: Optional[str] = None,
    styles: Optional[Dict[str, str]] = None,
) -> Figure:
    """Functions on the left, their derivatives on the right, one colour per function.

    ``styles`` gives some functions a line style (``"--"``), so a curve that lies on
    another one (leaky ReLU on ReLU for positive inputs) does not hide it.

    >>> x = np.linspace(-1, 1, 5)
    >>> fig = function_and_derivative_figure(x, {"id": x}, {"id": np.ones(5)})
    >>> [a.get_title() for a in fig.axes]
    ['f(x)', "f'(x)"]
    """
    if functions.keys() != derivatives.keys():
        raise ValueError("functions and derivatives must name the same functions")
    fig = Figure(figsize=(9, 3.4))
    left, right = fig.subplots(1, 2)
    styles = styles or {}
    for name in functions:
        style = styles.get(name, "-")
        line, = left.plot(x, functions[name], style, label=name, linewidth=2)
        right.plot(x, derivatives[name], style, label=name, linewidth=2, color=line.get_color())
    left.set_title("f(x)")
    right.set_title("f'(x)")
    for ax in (left, right):
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.grid(alpha=0.3)
        ax.set_xlabel("x")
    left.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def fits_figure(
    x_points: Sequence[float],
    y_points: Sequence[float],
    x_grid: Sequence[float],
    fits: Mapping[str, Sequence[float]],
    title: str = "",
) -> Figure:
    """Data points and several fitted curves, one panel per fit.

    >>> fig = fits_figure([0, 1], [0, 1], [0, 0.5, 1], {"line": [0, 0.5, 1]})
    >>> fig.axes[0].get_title()
    'line'
    """
    if not fits:
        raise ValueError("fits_figure needs at least one named fit")
    fig = Figure(figsize=(3.2 * len(fits), 3.0))
    axes = fig.subplots(1, len(fits), squeeze=False)[0]
    for ax, (name, values) in zip(axes, fits.items()):
        ax.scatter(x_points, y_points, s=18, color="black", zorder=3, label="training points")
        ax.plot(x_grid, values, linewidth=2, color="#2171b5")
        ax.set_title(name)
        ax.set_ylim(min(y_points) - 1, max(y_points) + 1)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_figure(confusion: Sequence[Sequence[int]], labels: Sequence[str], title: str = "") -> Figure:
    """A confusion matrix: rows are the true classes, columns the predicted ones, counts in the cells.

    >>> fig = confusion_figure([[5, 1], [0, 4]], ["a", "b"])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['5', '1', '0', '4']
    """
    counts = np.asarray(confusion)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(labels):
        raise ValueError("confusion must be a square matrix with one row per label; "
                         f"got shape {counts.shape} for {len(labels)} labels")
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8,
                color="white" if value > counts.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def architectures_figure(names: Sequence[str], params: Sequence[float], macs: Sequence[float],
                         top1: Sequence[Optional[float]]) -> Figure:
    """Parameters against MACs on log axes, one labelled point per model, coloured by top-1 accuracy.

    >>> fig = architectures_figure(["a", "b"], [1e6, 1e7], [1e8, 1e9], [70.0, None])
    >>> fig.axes[0].get_xscale(), len(fig.axes[0].texts)
    ('log', 2)
    """
    if not (len(names) == len(params) == len(macs) == len(top1)):
        raise ValueError("names, params, macs and top1 must have one entry per model")
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    known = [(m, p, t) for m, p, t in zip(macs, params, top1) if t is not None]
    points = ax.scatter([m for m, _, _ in known], [p for _, p, _ in known], c=[t for _, _, t in known],
                        cmap="viridis", s=80, zorder=3)
    unknown = [(m, p) for m, p, t in zip(macs, params, top1) if t is None]
    if unknown:
        ax.scatter(*zip(*unknown), color="grey", marker="s", s=60, zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_m, log_p = np.log10(np.asarray(macs, dtype=float)), np.log10(np.asarray(params, dtype=float))
    ax.set_xlim(10 ** (log_m.min() - 0.4), 10 ** (log_m.max() + 0.4))
    ax.set_ylim(10 ** (log_p.min() - 0.4), 10 ** (log_p.max() + 0.4))
    _place_labels(fig, ax, names, macs, params)
    ax.set_xlabel("MACs per 224 x 224 image (LeNet-5: 32 x 32)")
    ax.set_ylabel("parameters")
    ax.grid(alpha=0.3, which="both")
    fig.colorbar(points, ax=ax, label="ImageNet top-1 (%)")
    fig.tight_layout()
    return fig


def _place_labels(fig: Figure, ax, names: Sequence[str], xs: Sequence[float], ys: Sequence[float]) -> None:
    """Label each point beside it, trying four sides in turn, so that no two labels overlap
    and none leaves the axes (largest y first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    frame = ax.get_window_extent(renderer)
    placed = []
    sides = [((7, 4), "left"), ((-7, 4), "right"), ((7, -12), "left"), ((-7, -12), "right")]
    for index in sorted(range(len(names)), key=lambda i: -ys[i]):
        for offset, align in sides:
            label = ax.annotate(names[index], (xs[index], ys[index]), textcoords="offset points", xytext=offset,
                                fontsize=8, ha=align)
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()
        else:
            raise ValueError(f"no room for the label {names[index]!r}")


def conv_grid_figure(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     position: Tuple[int, int] = (0, 0)) -> Figure:
    """A convolution's input grid (padding shaded), the window for one output, and the output grid.

    ``position`` is the (row, column) of the highlighted output value.

    >>> fig = conv_grid_figure(5, 3, stride=2, padding=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['input 5 x 5, padding 1', 'output 3 x 3']
    """
    from matplotlib.patches import Rectangle

    from dlcourse.calc import conv_output_size

    out = conv_output_size(size, kernel, stride, padding, dilation)
    row, col = position
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"position {position} is outside the {out} x {out} output")
    padded = size + 2 * padding
    fig = Figure(figsize=(8, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [padded, max(out, 1)]})
    for r in range(padded):
        for c in range(padded):
            inside = padding <= r < padding + size and padding <= c < padding + size
            left.add_patch(Rectangle((c, padded - 1 - r), 1, 1, facecolor="#deebf7" if inside else "#f0f0f0",
                                     edgecolor="#6b6b6b", linewidth=0.6))
    for i in range(kernel):
        for j in range(kernel):
            r, c = row * stride + i * dilation, col * stride + j * dilation
            left.add_patch(Rectangle((c, padded - 1 - r), 1, 1, facecolor="#fd8d3c", alpha=0.8, edgecolor="black"))
    for r in range(out):
        for c in range(out):
            chosen = (r, c) == (row, col)
            right.add_patch(Rectangle((c, out - 1 - r), 1, 1, facecolor="#fd8d3c" if chosen else "#c7e9c0",
                                      edgecolor="#6b6b6b", linewidth=0.6))
    left.set_title(f"input {size} x {size}, padding {padding}")
    right.set_title(f"output {out} x {out}")
    for ax, n in ((left, padded), (right, out)):
        ax.set_xlim(0, n)
        ax.set_ylim(0, n)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"kernel {kernel} x {kernel}, stride {stride}, dilation {dilation}: "
                 f"floor(({size} + 2*{padding} - {dilation}*({kernel} - 1) - 1) / {stride}) + 1 = {out}")
    fig.tight_layout()
    return fig
