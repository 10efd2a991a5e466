"""The CNN-architectures chapter's experiments and figures: a small CNN trained on the digits
(loss, accuracy, confusion), and the architectures compared by parameters and MACs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import progress_range
from dlcourse.hardware.device import torch_threads
from dlcourse.hardware.timing import Stopwatch
from dlcourse.models.small import digits_16x16_cnn
from dlcourse.training import accuracy, predictions, train_epoch


@dataclass
class TrainingRun:
    """What ``train_digits_cnn`` measured."""

    model: nn.Module
    train_loss: list[float]
    test_accuracy: list[float]
    confusion: list[list[int]]
    seconds: float
    peak_learning_rate: float
    batch_size: int




def train_digits_cnn(epochs: int = 40, seed: int = 0, batch_size: int = 32, progress: bool = True,
                     peak_learning_rate: float = 3e-3) -> TrainingRun:
    """Train ``digits_16x16_cnn`` on the bundled digits with Adam and a one-cycle learning rate.

    The one-cycle schedule (``torch.optim.lr_scheduler.OneCycleLR``) raises the learning rate
    from ``peak_learning_rate / 25`` to ``peak_learning_rate`` over the first 30 % of the steps,
    then lowers it to almost zero.

    Prints a progress bar (tqdm) when ``progress``; returns the curves, the test confusion
    matrix (rows: true digit, columns: predicted) and the training time.
    """
    from dlcourse.data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):
        torch.manual_seed(seed)
        x_train, y_train, x_test, y_test = digits(seed=seed)
        model = digits_16x16_cnn()
        steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak_learning_rate, total_steps=steps)
        losses, accuracies = [], []
        with Stopwatch() as watch:
            for _ in progress_range(epochs, "training", progress=progress):
                losses.append(train_epoch(model, optimizer, x_train, y_train, batch_size, schedule))
                accuracies.append(accuracy(model, x_test, y_test))
        predicted = predictions(model, x_test)
        confusion = torch.zeros(10, 10, dtype=torch.long)
        for true, guess in zip(y_test.tolist(), predicted.tolist()):
            confusion[true, guess] += 1
        return TrainingRun(model, losses, accuracies, confusion.tolist(), watch.seconds, peak_learning_rate,
                           batch_size)


@inline_figure
def architectures_figure(names: Sequence[str], params: Sequence[float], macs: Sequence[float],
                         top1: Sequence[float | None]) -> Figure:
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
