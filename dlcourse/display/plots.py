"""Figures used by the book's chapters, each a function that returns a matplotlib Figure.

Chapters call these instead of carrying plotting code, so a page shows the idea and the
figure, and the figure code is tested once here.  Figures are made without pyplot, so
nothing is drawn twice in a notebook (the returned figure displays itself) and no
global figure list grows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlcourse.display.inline_figures import inline_figure


def two_panel_figure(xlabel: str, ylabels: tuple[str, str] = ("", ""),
                     figsize: tuple[float, float] = (9, 3.4)) -> tuple[Figure, Axes, Axes]:
    """A figure of two panels side by side over the same x quantity: (figure, left axes, right axes).

    Both panels get ``xlabel`` and a light grid, each its own y label: what every two-panel
    figure of the book shares (two panels because their y quantities have different units
    and ranges).  The caller draws, adds what is particular to it and calls ``tight_layout``.

    >>> fig, left, right = two_panel_figure("epoch", ("loss", "accuracy (%)"))
    >>> [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]
    [('epoch', 'loss'), ('epoch', 'accuracy (%)')]
    """
    fig = Figure(figsize=figsize)
    left, right = fig.subplots(1, 2)
    for ax, ylabel in zip((left, right), ylabels):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    return fig, left, right


def _label_axes(ax, title: str, xlabel: str, ylabel: str, logy: bool = False) -> None:
    """Title, axis labels, a light grid and, if asked, a log y-axis: how every curve panel ends."""
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


@inline_figure
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


@inline_figure
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
    fig, left, right = two_panel_figure(xlabel, ("training loss (cross-entropy)", "test accuracy (%)"))
    left.plot(x, loss, linewidth=2, color="#d62728")
    right.plot(x, [100 * a for a in accuracy], linewidth=2, color="#1f77b4")
    fig.tight_layout()
    return fig


@inline_figure
def function_and_derivative_figure(
    x: np.ndarray,
    functions: dict[str, np.ndarray],
    derivatives: dict[str, np.ndarray],
    title: str | None = None,
    styles: dict[str, str] | None = None,
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
    fig, left, right = two_panel_figure("x")
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
    left.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@inline_figure
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


@inline_figure
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








@inline_figure
def trajectories_figure(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, paths: Mapping[str, np.ndarray],
                        minima: Sequence[tuple[float, float]] = (), title: str = "",
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


@inline_figure
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




# --- GPUs and multi-GPU training (book/gpus.md) -------------------------------------------------------------------









