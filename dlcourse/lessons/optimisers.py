"""Two-parameter loss surfaces, and the paths optimisers take on them.

Each surface is a function of a 1-D tensor ``(x, y)`` that returns a scalar, so autograd
gives its gradient and ``dlcourse.optim``'s optimisers can run on it exactly as on a
network: the point is a parameter tensor with two entries.

* ``ravine``: a long narrow valley, f = x^2 / 20 + 2 y^2 (curvatures 0.1 and 4);
* ``double_well`` (from ``dlcourse.second_order``): a saddle at (0, 0) between two minima;
* ``rosenbrock``: the banana valley (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).

>>> path = optimizer_path(ravine, (-4.0, 1.0), "SGD", steps=2, lr=0.1)
>>> path.round(decimals=4).tolist()     # x shrinks by 1 - 0.1 * 0.1, y by 1 - 0.1 * 4
[[-4.0, 1.0], [-3.96, 0.6], [-3.9204, 0.36]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from dlcourse.display.explorers import redrawing_output
from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import is_book_build, progress_range
from dlcourse.display.plots import two_panel_figure
from dlcourse.hardware.device import torch_threads
from dlcourse.models.small import digits_8x8_cnn, digits_model
from dlcourse.optim import make_optimizer
from dlcourse.second_order import double_well
from dlcourse.training import accuracy, error_rate, train_epoch
from dlcourse.validation import checked_int

Surface = Callable[[torch.Tensor], torch.Tensor]


def ravine(point: torch.Tensor) -> torch.Tensor:
    """f(x, y) = x^2 / 20 + 2 y^2: the gradient (x / 10, 4 y) points mostly across the valley.

    >>> ravine(torch.tensor([2.0, 1.0], dtype=torch.float64)).item()
    2.2
    """
    x, y = point[0], point[1]
    return x ** 2 / 20 + 2 * y ** 2


def rosenbrock(point: torch.Tensor) -> torch.Tensor:
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2: a curved valley, minimum 0 at (1, 1).

    >>> rosenbrock(torch.tensor([1.0, 1.0])).item(), rosenbrock(torch.tensor([0.0, 0.0])).item()
    (0.0, 1.0)
    """
    x, y = point[0], point[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@dataclass(frozen=True)
class SurfaceSetting:
    """A surface with a starting point, the box to draw, where its minima are, how many steps
    to run and a learning rate per optimiser that works there (chosen by trying a few)."""

    function: Surface
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    steps: int
    lrs: dict[str, float]


SURFACES: dict[str, SurfaceSetting] = {
    "ravine": SurfaceSetting(ravine, (-4.5, 1.0), (-5.0, 5.0), (-1.6, 1.6), ((0.0, 0.0),), 60,
                             {"SGD": 0.45, "momentum": 0.045, "Nesterov": 0.045, "Adagrad": 1.0,
                              "RMSprop": 0.05, "Adam": 0.3, "AdamW": 0.3}),
    "saddle": SurfaceSetting(double_well, (0.001, 1.5), (-1.6, 1.6), (-1.6, 1.6), ((-1.0, 0.0), (1.0, 0.0)), 60,
                             {"SGD": 0.1, "momentum": 0.02, "Nesterov": 0.02, "Adagrad": 0.3,
                              "RMSprop": 0.02, "Adam": 0.05, "AdamW": 0.05}),
    "rosenbrock": SurfaceSetting(rosenbrock, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), 1000,
                                 {"SGD": 1.5e-3, "momentum": 5e-4, "Nesterov": 5e-4, "Adagrad": 0.3,
                                  "RMSprop": 0.01, "Adam": 0.05, "AdamW": 0.05}),
}


def optimizer_path(function: Surface, start: Sequence[float], optimizer: str, steps: int, lr: float,
                   momentum: float = 0.9) -> np.ndarray:
    """The points (steps + 1, 2) visited by ``optimizer`` (a name for ``make_optimizer``) from ``start``.

    The point is a float64 parameter tensor; each step computes the surface's gradient by
    autograd and calls the optimiser's ``step``, as a training loop does.

    >>> optimizer_path(ravine, (2.0, 1.0), "Adam", steps=1, lr=0.1)[1].round(6).tolist()   # lr each way
    [1.9, 0.9]
    """
    from dlcourse.optim import make_optimizer

    checked_int("steps", steps, minimum=0)
    if len(start) != 2:
        raise ValueError(f"start must be a point (x, y), got {start!r}")
    point = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    algorithm = make_optimizer(optimizer, [point], lr=lr, momentum=momentum)
    path = [point.detach().clone()]
    for _ in range(steps):
        algorithm.zero_grad()
        function(point).backward()
        algorithm.step()
        if not torch.isfinite(point).all():
            raise ValueError(f"{optimizer} with lr={lr} diverged on this surface; try a smaller learning rate")
        path.append(point.detach().clone())
    return torch.stack(path).numpy()


def surface_grid(function: Surface, xlim: tuple[float, float], ylim: tuple[float, float],
                 points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, Y, Z)`` on a ``points`` x ``points`` grid, for contour plots.

    >>> X, Y, Z = surface_grid(ravine, (-1, 1), (-1, 1), points=3)
    >>> Z.tolist()[1]                    # the middle row, y = 0: x^2 / 20
    [0.05, 0.0, 0.05]
    """
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    X, Y = np.meshgrid(np.linspace(*xlim, points), np.linspace(*ylim, points))
    grid = torch.from_numpy(np.stack([X, Y]))
    return X, Y, function(grid).numpy()




@dataclass
class OptimizerComparison:
    """Curves of ``compare_optimizers``: ``train_loss[name]`` and ``test_accuracy[name]`` are
    arrays of shape (seeds, epochs), one row per seed."""

    model: str
    settings: dict[str, dict[str, float]]
    train_loss: dict[str, np.ndarray]
    test_accuracy: dict[str, np.ndarray]


DEFAULT_SETTINGS: dict[str, dict[str, float]] = {
    "SGD": {"lr": 0.1},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "RMSprop": {"lr": 1e-3},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3, "weight_decay": 1e-2},
}


def compare_optimizers(model: str, settings: dict[str, dict[str, float]] | None = None, epochs: int = 20,
                       seeds: Sequence[int] = (0, 1, 2), batch_size: int = 32,
                       progress: bool = True) -> OptimizerComparison:
    """Train ``digits_model(model)`` on the 8 x 8 digits with each optimiser, for each seed.

    For a given seed every optimiser starts from the same initial weights and sees the
    mini-batches in the same order, so the curves differ only by the optimiser.  The
    training loss of an epoch is the mean over its mini-batches (in training mode, dropout on);
    the test accuracy is measured after each epoch in evaluation mode.

    >>> result = compare_optimizers("logistic", {"Adam": {"lr": 0.01}}, epochs=2, seeds=(0,),
    ...                             progress=False)
    >>> result.train_loss["Adam"].shape, result.test_accuracy["Adam"].shape
    ((1, 2), (1, 2))
    """
    from dlcourse.data import digits

    settings = dict(DEFAULT_SETTINGS if settings is None else settings)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if not seeds:
        raise ValueError("compare_optimizers needs at least one seed")
    with torch_threads(1):
        x_train, y_train, x_test, y_test = digits(size=8)
        losses = {name: np.zeros((len(seeds), epochs)) for name in settings}
        accuracies = {name: np.zeros((len(seeds), epochs)) for name in settings}
        runs = [(i, seed, name) for i, seed in enumerate(seeds) for name in settings]
        for run in progress_range(len(runs), desc=model, unit="run", progress=progress):
            i, seed, name = runs[run]
            torch.manual_seed(seed)
            net = digits_model(model)
            options = dict(settings[name])
            optimizer = make_optimizer(name.split(" ")[0], net.parameters(), **options)
            for epoch in range(epochs):
                losses[name][i, epoch] = train_epoch(net, optimizer, x_train, y_train, batch_size)
                accuracies[name][i, epoch] = accuracy(net, x_test, y_test)
        return OptimizerComparison(model, settings, losses, accuracies)


@dataclass
class PlateauRun:
    """What ``alexnet_recipe`` measured, one entry per epoch; ``drops`` lists the epochs (from 1)
    after which the learning rate was divided by 10."""

    train_loss: list[float]
    validation_error: list[float]
    learning_rate: list[float]
    drops: list[int]
    test_accuracy: float


def alexnet_recipe(epochs: int = 40, seed: int = 0, batch_size: int = 128, lr: float = 0.01,
                   patience: int = 3, progress: bool = True) -> PlateauRun:
    """AlexNet's training recipe at the scale of the 8 x 8 digits.

    SGD (``dlcourse.optim.SGD``) with momentum 0.9, weight decay 0.0005, mini-batches of 128
    and learning rate 0.01, divided by 10 by ``torch.optim.lr_scheduler.ReduceLROnPlateau``
    when the validation error has not improved for ``patience`` epochs, at most three times
    (``min_lr = lr / 1000``; AlexNet's rate was divided three times).  A fifth of the
    training images is held out for validation; ``test_accuracy`` is measured once at the end.

    >>> run = alexnet_recipe(epochs=2, progress=False)
    >>> len(run.train_loss), run.learning_rate
    (2, [0.01, 0.01])
    """
    from dlcourse import optim
    from dlcourse.data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):
        x_train, y_train, x_test, y_test = digits(size=8, seed=seed)
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(x_train), generator=generator)
        held_out = len(x_train) // 5
        x_val, y_val = x_train[order[:held_out]], y_train[order[:held_out]]
        x_fit, y_fit = x_train[order[held_out:]], y_train[order[held_out:]]
        torch.manual_seed(seed)
        model = digits_8x8_cnn()
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=patience,
                                                              min_lr=lr / 1000)
        run = PlateauRun([], [], [], [], 0.0)
        for epoch in progress_range(epochs, desc="AlexNet recipe", progress=progress):
            run.learning_rate.append(optimizer.param_groups[0]["lr"])
            run.train_loss.append(train_epoch(model, optimizer, x_fit, y_fit, batch_size))
            error = error_rate(model, x_val, y_val)
            run.validation_error.append(error)
            schedule.step(error)
            if optimizer.param_groups[0]["lr"] < run.learning_rate[-1]:
                run.drops.append(epoch + 1)
        run.test_accuracy = accuracy(model, x_test, y_test)
        return run


@inline_figure
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
    fig, left, right = two_panel_figure("epoch", ("training loss / validation error", "learning rate"))
    left.plot(epochs, train_loss, linewidth=2, label="training loss")
    left.plot(epochs, validation_error, linewidth=2, label="validation error")
    left.set_yscale("log")
    right.step(epochs, learning_rate, where="mid", linewidth=2, color="#2ca02c")
    right.set_yscale("log")
    for ax in (left, right):
        for index, epoch in enumerate(drops):
            ax.axvline(epoch + 0.5, color="black", linestyle="--", linewidth=1,
                       label="learning rate / 10" if index == 0 and ax is left else None)
    left.legend()
    fig.tight_layout()
    return fig


@inline_figure
def optimizer_figure(surface: str = "ravine", optimizer: str = "momentum", lr: float = 0.045,
                     momentum: float = 0.9, steps: int = 0) -> Figure:
    """The path of one optimiser on one of ``dlcourse.lessons.optimisers.SURFACES``, next to plain SGD's.

    ``steps=0`` uses the surface's own number of steps.  ``momentum`` is mu for momentum and
    Nesterov, beta1 for Adam and AdamW (see ``dlcourse.optim.make_optimizer``).

    >>> optimizer_figure().axes[0].get_legend_handles_labels()[1]
    ['SGD, lr 0.45', 'momentum, lr 0.045, 0.9']
    """
    from dlcourse.display.plots import trajectories_figure
    from dlcourse.lessons.optimisers import SURFACES, optimizer_path, surface_grid

    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    setting = SURFACES[surface]
    steps = steps or setting.steps
    paths = {f"SGD, lr {setting.lrs['SGD']:g}": optimizer_path(setting.function, setting.start, "SGD", steps,
                                                                setting.lrs["SGD"])}
    label = f"{optimizer}, lr {lr:g}" + (f", {momentum:g}" if optimizer in ("momentum", "Nesterov", "Adam", "AdamW")
                                         else "")
    paths[label] = optimizer_path(setting.function, setting.start, optimizer, steps, lr, momentum)
    X, Y, Z = surface_grid(setting.function, setting.xlim, setting.ylim)
    return trajectories_figure(X, Y, Z, paths, setting.minima, title=f"{surface}, {steps} steps")


def optimizer_explorer(surface: str = "ravine", optimizer: str = "momentum", lr: float = 0.045,
                       momentum: float = 0.9) -> Any:
    """Pick a surface, an optimiser, its learning rate and momentum; its path redraws next to SGD's.

    Returns an ipywidgets box in Jupyter, or the default figure when the book is built.
    """
    from dlcourse.lessons.optimisers import SURFACES
    from dlcourse.optim import OPTIMIZER_NAMES

    if is_book_build():
        return optimizer_figure(surface, optimizer, lr, momentum)
    import ipywidgets

    controls = {
        "surface": ipywidgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
        "optimizer": ipywidgets.Dropdown(options=list(OPTIMIZER_NAMES), value=optimizer, description="optimiser"),
        "lr": ipywidgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.3, step=0.05, description="lr",
                                        readout_format=".2g"),
        "momentum": ipywidgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum"),
        "steps": ipywidgets.IntSlider(value=0, min=0, max=1000, step=10, description="steps (0: auto)"),
    }
    output = redrawing_output(controls, optimizer_figure)
    rows = list(controls.values())
    return ipywidgets.VBox([ipywidgets.HBox(rows[:2]), ipywidgets.HBox(rows[2:]), output])
