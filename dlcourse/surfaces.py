"""Two-parameter loss surfaces, and the paths optimisers take on them.

Each surface is a function of a 1-D tensor ``(x, y)`` that returns a scalar, so autograd
gives its gradient and ``dlcourse.optim``'s optimisers can run on it exactly as on a
network: the point is a parameter tensor with two entries.

* ``ravine``: a long narrow valley, f = x^2 / 20 + 2 y^2 (curvatures 0.1 and 4);
* ``double_well`` (from ``dlcourse.second_order``): a saddle at (0, 0) between two minima;
* ``rosenbrock``: the banana valley (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).

>>> path = optimiser_path(ravine, (-4.0, 1.0), "SGD", steps=2, lr=0.1)
>>> path.round(decimals=4).tolist()     # x shrinks by 1 - 0.1 * 0.1, y by 1 - 0.1 * 4
[[-4.0, 1.0], [-3.96, 0.6], [-3.9204, 0.36]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import torch

from .second_order import double_well

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
    start: Tuple[float, float]
    xlim: Tuple[float, float]
    ylim: Tuple[float, float]
    minima: Tuple[Tuple[float, float], ...]
    steps: int
    lrs: Dict[str, float]


SURFACES: Dict[str, SurfaceSetting] = {
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


def optimiser_path(function: Surface, start: Sequence[float], optimiser: str, steps: int, lr: float,
                   momentum: float = 0.9) -> np.ndarray:
    """The points (steps + 1, 2) visited by ``optimiser`` (a name for ``make_optimiser``) from ``start``.

    The point is a float64 parameter tensor; each step computes the surface's gradient by
    autograd and calls the optimiser's ``step``, as a training loop does.

    >>> optimiser_path(ravine, (2.0, 1.0), "Adam", steps=1, lr=0.1)[1].round(6).tolist()   # lr each way
    [1.9, 0.9]
    """
    from .experiments import make_optimiser

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if len(start) != 2:
        raise ValueError(f"start must be a point (x, y), got {start!r}")
    point = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    algorithm = make_optimiser(optimiser, [point], lr=lr, momentum=momentum)
    path = [point.detach().clone()]
    for _ in range(steps):
        algorithm.zero_grad()
        function(point).backward()
        algorithm.step()
        if not torch.isfinite(point).all():
            raise ValueError(f"{optimiser} with lr={lr} diverged on this surface; try a smaller learning rate")
        path.append(point.detach().clone())
    return torch.stack(path).numpy()


def surface_grid(function: Surface, xlim: Tuple[float, float], ylim: Tuple[float, float],
                 points: int = 200) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
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
