"""Figures used by the book's chapters, each a function that returns a matplotlib Figure.

Chapters call these instead of carrying plotting code, so a page shows the idea and the
figure, and the figure code is tested once here.  Figures are made without pyplot, so
nothing is drawn twice in a notebook (the returned figure displays itself) and no
global figure list grows.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from matplotlib.text import Text
from matplotlib.ticker import Formatter

from .language import vietnamese


def _show_figures_in_notebooks() -> None:
    """In a Jupyter kernel, display a returned Figure as an image (pyplot is never used).

    While the book is built (``DLCOURSE_BOOK_BUILD=1``), a figure is displayed in both
    editions' languages: the English image as ``image/png`` and the Vietnamese one
    (``vietnamese_figure_png``) as an ``<img>`` in ``text/html``; each edition's build
    picks its own (``book/_ext/book_fixes.py``, fix 7).
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
        shell.display_formatter.mimebundle_formatter.for_type(Figure, _both_editions)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _both_editions(fig: Figure, include: object = None, exclude: object = None) -> Dict[str, str]:
    english = _png(fig)
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

    def __call__(self, x: float, pos: Optional[int] = None) -> str:
        return vietnamese(self.english(x, pos))

    def format_ticks(self, values: Sequence[float]) -> List[str]:
        return [vietnamese(label) for label in self.english.format_ticks(values)]

    def get_offset(self) -> str:
        return vietnamese(self.english.get_offset())


def vietnamese_figure_png(fig: Figure) -> bytes:
    """The figure as a PNG with every text in Vietnamese (``dlcourse.language.vietnamese``).

    The figure itself is left as it was.  Raises ``ValueError`` naming a text that has no
    Vietnamese yet.

    >>> fig = curves_figure([0, 1, 2], {"SGD": [1.0, 0.5, 0.25]}, xlabel="step", ylabel="loss")
    >>> vietnamese_figure_png(fig)[:4] == b"\\x89PNG", fig.axes[0].get_xlabel()
    (True, 'step')
    """
    changed: List[Tuple[Text, str]] = []
    formatters: List[Tuple[object, Formatter, Formatter]] = []
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
        return _png(fig)
    finally:
        for text, english in changed:
            text.set_text(english)
        for axis, major, minor in formatters:
            axis.set_major_formatter(major)
            axis.set_minor_formatter(minor)


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


def _label_axes(ax, title: str, xlabel: str, ylabel: str, logy: bool = False) -> None:
    """Title, axis labels, a light grid and, if asked, a log y-axis: how every curve panel ends."""
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


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
    _label_axes(ax, title, xlabel, ylabel, logy)
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


def trajectories_figure(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, paths: Mapping[str, np.ndarray],
                        minima: Sequence[Tuple[float, float]] = (), title: str = "",
                        log_levels: bool = True) -> Figure:
    """Contours of a 2-D surface ``Z`` on the grid ``(X, Y)`` and the path of each optimiser.

    ``paths[name]`` is an array (steps + 1, 2) of points; each path starts at a circle and
    ends at a triangle; minima are stars.  With ``log_levels`` the contours are spaced
    geometrically above the surface's minimum (narrow valleys stay visible).  The legend sits
    outside the axes, so it hides no path.

    >>> X, Y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    >>> fig = trajectories_figure(X, Y, X**2 + Y**2, {"GD": np.array([[1.0, 1.0], [0.5, 0.5]])})
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:1], fig.axes[0].get_xlabel()
    (['GD'], 'x')
    """
    if not paths:
        raise ValueError("trajectories_figure needs at least one path")
    for name, path in paths.items():
        if np.ndim(path) != 2 or np.shape(path)[1] != 2:
            raise ValueError(f"path {name!r} must have shape (steps + 1, 2), got {np.shape(path)}")
    fig = Figure(figsize=(7.6, 4.2))
    ax = fig.subplots()
    if log_levels:
        low = float(Z.min())
        levels = low + np.geomspace(1e-3, float(Z.max() - low), 18)
    else:
        levels = 18
    ax.contour(X, Y, Z, levels=levels, colors="#9e9e9e", linewidths=0.7)
    for name, path in paths.items():
        (line,) = ax.plot(path[:, 0], path[:, 1], linewidth=1.6, marker=".", markersize=3, label=name)
        ax.plot(*path[0], marker="o", color=line.get_color(), markersize=7)
        ax.plot(*path[-1], marker="^", color=line.get_color(), markersize=8, markeredgecolor="black")
    for x, y in minima:
        ax.plot(x, y, marker="*", color="black", markersize=12, linestyle="none")
    ax.set_xlim(float(X.min()), float(X.max()))
    ax.set_ylim(float(Y.min()), float(Y.max()))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, title="○ start, △ end, ★ minimum",
              title_fontsize=8)
    fig.tight_layout()
    return fig


def spread_figure(x: Sequence[float], panels: Mapping[str, Mapping[str, np.ndarray]], xlabel: str = "epoch",
                  ylabel: str = "", logy: bool = False) -> Figure:
    """One axis per panel; in each, every named run set (an array seeds x len(x)) as its median
    over the seeds with a band from the smallest to the largest value.  One legend below.

    >>> fig = spread_figure([1, 2], {"a": {"SGD": np.array([[1.0, 0.5], [1.2, 0.7]])}}, ylabel="loss")
    >>> fig.axes[0].get_title(), fig.axes[0].get_ylabel(), len(fig.axes[0].collections)
    ('a', 'loss', 1)
    """
    if not panels:
        raise ValueError("spread_figure needs at least one panel")
    fig = Figure(figsize=(3.3 * len(panels) + 0.6, 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (title, runs) in zip(axes, panels.items()):
        for index, (name, values) in enumerate(runs.items()):
            values = np.asarray(values, dtype=float)
            if values.ndim != 2 or values.shape[1] != len(x):
                raise ValueError(f"{title}/{name}: expected shape (seeds, {len(x)}), got {values.shape}")
            # later curves thinner and alternately dashed, so a curve drawn over an equal one leaves it visible
            (line,) = ax.plot(x, np.median(values, axis=0), linewidth=max(2.6 - 0.4 * index, 1.0),
                              linestyle="--" if index % 2 else "-", label=name)
            ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.25)
        _label_axes(ax, title, xlabel, ylabel, logy)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plateau_schedule_figure(train_loss: Sequence[float], validation_error: Sequence[float],
                            learning_rate: Sequence[float], drops: Sequence[int]) -> Figure:
    """Training loss and validation error per epoch (left) and the learning rate (right, log
    scale), with a dashed line after each epoch where the learning rate was divided.

    >>> fig = plateau_schedule_figure([1.0, 0.5, 0.4], [0.3, 0.2, 0.2], [0.01, 0.01, 0.001], [2])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['training loss / validation error', 'learning rate']
    """
    if not (len(train_loss) == len(validation_error) == len(learning_rate)):
        raise ValueError("train_loss, validation_error and learning_rate must have the same length")
    epochs = np.arange(1, len(train_loss) + 1)
    fig = Figure(figsize=(9, 3.4))
    left, right = fig.subplots(1, 2)
    left.plot(epochs, train_loss, linewidth=2, label="training loss")
    left.plot(epochs, validation_error, linewidth=2, label="validation error")
    left.set_yscale("log")
    left.set_ylabel("training loss / validation error")
    right.step(epochs, learning_rate, where="mid", linewidth=2, color="#2ca02c")
    right.set_yscale("log")
    right.set_ylabel("learning rate")
    for ax in (left, right):
        for index, epoch in enumerate(drops):
            ax.axvline(epoch + 0.5, color="black", linestyle="--", linewidth=1,
                       label="learning rate / 10" if index == 0 and ax is left else None)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    left.legend()
    fig.tight_layout()
    return fig


# --- GPUs and multi-GPU training (book/gpus.md) -------------------------------------------------------------------

def matmul_throughput_figure(sizes: Sequence[int], series: Mapping[str, Sequence[Optional[float]]],
                             device_label: str) -> Figure:
    """Achieved GFLOP/s of n x n matrix products against n, one line per dtype (None: not measured).

    >>> fig = matmul_throughput_figure([256, 512], {"float32": [1e10, 2e10], "float16": [None, None]}, "CPU: x")
    >>> [line.get_label() for line in fig.axes[0].lines], fig.axes[0].get_ylabel()
    (['float32'], 'achieved GFLOP/s (median of repeats)')
    """
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    for index, (name, values) in enumerate(series.items()):
        if len(values) != len(sizes):
            raise ValueError(f"{name}: {len(values)} values for {len(sizes)} sizes")
        points = [(n, v / 1e9) for n, v in zip(sizes, values) if v is not None]
        if points:
            ax.plot(*zip(*points), marker="os^D"[index % 4], linewidth=2, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes), [str(n) for n in sizes])
    ax.set_xlabel("matrix size n (n x n times n x n)")
    ax.set_ylabel("achieved GFLOP/s (median of repeats)")
    ax.set_title(f"Matrix multiply, measured on {device_label}", fontsize=9, wrap=True)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def peaks_figure(rows: Sequence[Tuple[str, float, float, bool]]) -> Figure:
    """Horizontal bars on log axes: FLOP/s (left) and memory bandwidth (right) of each device.

    ``rows`` are (label, FLOP/s, bytes/s, measured); measured bars are orange and hatched,
    published ones blue, so a measured figure is never read as a vendor's.

    >>> fig = peaks_figure([("CPU (measured)", 1e11, 1e10, True), ("T4 (published)", 8.1e12, 3.2e11, False)])
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['FLOP/s (log scale)', 'memory bandwidth, bytes/s (log scale)']
    """
    if not rows:
        raise ValueError("peaks_figure needs at least one device")
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.4))
    axes = fig.subplots(1, 2, sharey=True)
    labels = [row[0] for row in rows]
    positions = np.arange(len(rows))[::-1]
    for ax, column, xlabel in ((axes[0], 1, "FLOP/s (log scale)"),
                               (axes[1], 2, "memory bandwidth, bytes/s (log scale)")):
        for y, row in zip(positions, rows):
            ax.barh(y, row[column], color="#ff7f0e" if row[3] else "#1f77b4", hatch="//" if row[3] else None,
                    edgecolor="black", linewidth=0.5)
            ax.text(row[column], y, f" {row[column]:.2g}", va="center", fontsize=7)
        ax.set_xscale("log")
        values = [row[column] for row in rows]
        ax.set_xlim(min(values) / 10, max(values) * 10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(positions, labels)
    fig.tight_layout()
    return fig


def parallelism_diagram(devices: int = 4, micro_batches: int = 4) -> Figure:
    """Data parallelism (left: a replica per device, a slice of the batch each, gradients
    all-reduced) and model parallelism (right: a stage of layers per device, micro-batches
    flowing through).

    >>> fig = parallelism_diagram(4, 4)
    >>> [ax.get_title() for ax in fig.axes]
    ['data parallelism: replicas + all-reduce', 'model parallelism: stages + micro-batches']
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    if devices < 2 or micro_batches < 1:
        raise ValueError(f"need at least 2 devices and 1 micro-batch, got {devices} and {micro_batches}")
    fig = Figure(figsize=(10, 4.2))
    left, right = fig.subplots(1, 2)
    width = 1.6
    # data parallelism
    for d in range(devices):
        x = d * 2.0
        left.add_patch(Rectangle((x, 1.0), width, 2.0, facecolor="#dbe9f6", edgecolor="#08306b"))
        left.text(x + width / 2, 2.55, f"GPU {d}", ha="center", fontsize=9, weight="bold")
        left.text(x + width / 2, 1.85, "whole model\n(a replica)", ha="center", va="center", fontsize=8)
        left.add_patch(Rectangle((x + 0.2, 3.5), width - 0.4, 0.5, facecolor="#fdd0a2", edgecolor="#a63603"))
        left.text(x + width / 2, 3.75, f"batch/{devices}", ha="center", va="center", fontsize=8)
        left.add_patch(FancyArrowPatch((x + width / 2, 3.5), (x + width / 2, 3.0), arrowstyle="->",
                                       mutation_scale=10))
        left.add_patch(FancyArrowPatch((x + width / 2, 1.0), (x + width / 2, 0.45), arrowstyle="<->",
                                       mutation_scale=10, color="#a50f15"))
    span = 2.0 * (devices - 1) + width
    left.add_patch(Rectangle((0, 0.0), span, 0.45, facecolor="#fcbba1", edgecolor="#a50f15"))
    left.text(span / 2, 0.22, "all-reduce: every replica gets the mean gradient", ha="center", va="center",
              fontsize=8)
    left.set_xlim(-0.2, span + 0.2)
    left.set_ylim(-0.2, 4.3)
    # model parallelism
    for d in range(devices):
        x = d * 2.0
        right.add_patch(Rectangle((x, 1.0), width, 2.0, facecolor="#e5f5e0", edgecolor="#00441b"))
        right.text(x + width / 2, 2.55, f"GPU {d}", ha="center", fontsize=9, weight="bold")
        right.text(x + width / 2, 1.85, f"stage {d + 1}:\nlayers of\npart {d + 1}", ha="center", va="center",
                   fontsize=8)
        if d < devices - 1:
            right.add_patch(FancyArrowPatch((x + width, 1.6), (x + 2.0, 1.6), arrowstyle="->", mutation_scale=10))
            right.add_patch(FancyArrowPatch((x + 2.0, 2.3), (x + width, 2.3), arrowstyle="->", mutation_scale=10,
                                            color="#a50f15"))
    chunk = width / micro_batches
    for m in range(micro_batches):
        right.add_patch(Rectangle((m * chunk, 3.5), chunk * 0.9, 0.5, facecolor="#fdd0a2", edgecolor="#a63603"))
        right.text(m * chunk + chunk * 0.45, 3.75, str(m + 1), ha="center", va="center", fontsize=8)
    right.text(width + 0.2, 3.75, "micro-batches enter stage 1 one after another", va="center", fontsize=8)
    right.text(span / 2, 0.35, "black: activations forward; red: their gradients backward", ha="center",
               fontsize=8)
    right.set_xlim(-0.2, span + 0.2)
    right.set_ylim(-0.2, 4.3)
    for ax, title in ((left, "data parallelism: replicas + all-reduce"),
                      (right, "model parallelism: stages + micro-batches")):
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    return fig


def pipeline_gantt_figure(events: Sequence[Tuple[int, str, int, float, float]], title: str = "") -> Figure:
    """A timetable of pipeline events (stage, "F" or "B", micro-batch, start, end): one row per
    stage, forwards blue and backwards orange, labelled with their micro-batch; idle time grey.

    >>> fig = pipeline_gantt_figure([(0, "F", 0, 0.0, 1.0), (1, "F", 0, 1.0, 2.0)])
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('time (forward of one micro-batch = 1)', 'stage (device)')
    """
    if not events:
        raise ValueError("no events to draw")
    stages = max(e[0] for e in events) + 1
    start, end = min(e[3] for e in events), max(e[4] for e in events)
    fig = Figure(figsize=(9, 0.6 * stages + 1.6))
    ax = fig.subplots()
    for s in range(stages):
        ax.broken_barh([(start, end - start)], (s - 0.4, 0.8), facecolors="#eeeeee", hatch="xx",
                       edgecolor="#bbbbbb", linewidth=0)
    for stage, phase, m, begin, finish in events:
        colour = "#6baed6" if phase == "F" else "#fd8d3c"
        ax.broken_barh([(begin, finish - begin)], (stage - 0.4, 0.8), facecolors=colour, edgecolor="black",
                       linewidth=0.6)
        ax.text((begin + finish) / 2, stage, f"{phase}{m + 1}", ha="center", va="center", fontsize=8)
    ax.set_yticks(range(stages), [str(s + 1) for s in range(stages)])
    ax.invert_yaxis()
    ax.set_xlim(start, end)
    ax.set_xlabel("time (forward of one micro-batch = 1)")
    ax.set_ylabel("stage (device)")
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(facecolor="#6baed6", edgecolor="black", label="forward"),
                        Patch(facecolor="#fd8d3c", edgecolor="black", label="backward"),
                        Patch(facecolor="#eeeeee", hatch="xx", edgecolor="#bbbbbb", label="idle (bubble)")],
               loc="lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    return fig


def scaling_figure(batches: Sequence[int], gpus: Sequence[int], speedup: np.ndarray, efficiency: np.ndarray,
                   fitted_speedup: Optional[np.ndarray] = None) -> Figure:
    """Speed-up (left, with the ideal speed-up n dotted) and efficiency (right) against the
    batch size, one line per GPU count; ``fitted_speedup`` adds a model's curves dashed.

    >>> s = np.array([[1.0, 1.5], [1.0, 1.8]])
    >>> fig = scaling_figure([32, 64], [1, 2], s, s / [1, 2])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['speed-up t(1) / t(n)', 'efficiency = speed-up / n']
    """
    speedup, efficiency = np.asarray(speedup, float), np.asarray(efficiency, float)
    if speedup.shape != (len(batches), len(gpus)) or efficiency.shape != speedup.shape:
        raise ValueError(f"speedup and efficiency must be {len(batches)} batches x {len(gpus)} GPU counts")
    fig = Figure(figsize=(9, 3.6))
    left, right = fig.subplots(1, 2)
    for j, n in enumerate(gpus):
        colour = f"C{j}"
        left.plot(batches, speedup[:, j], marker="o", color=colour, linewidth=2)
        left.axhline(n, color=colour, linestyle=":", linewidth=1)
        if fitted_speedup is not None:
            left.plot(batches, np.asarray(fitted_speedup)[:, j], linestyle="--", color=colour, linewidth=1)
        right.plot(batches, efficiency[:, j], marker="o", color=colour, linewidth=2, label=f"{n} GPU(s)")
    left.set_ylim(0, max(gpus) + 0.5)
    right.set_ylim(0, 1.1)
    for ax, ylabel in ((left, "speed-up t(1) / t(n)"), (right, "efficiency = speed-up / n")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(batches), [str(b) for b in batches])
        ax.set_xlabel("batch size")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    right.legend(fontsize=8, loc="lower right", title="colours, both panels", title_fontsize=8)
    left.set_title("solid: measured; dotted: ideal speed-up n" + ("; dashed: fitted" if fitted_speedup is not None
                                                                  else ""), fontsize=9)
    fig.tight_layout()
    return fig
