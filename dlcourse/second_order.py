"""Newton's method on small functions, and why nobody runs it on a network.

Newton's step solves H d = -g with the gradient g and the Hessian H at the current
point.  On a quadratic bowl it lands on the minimum in one step; but it looks for a
point where the gradient is zero, not for a minimum, so near a saddle point it walks
*into* the saddle, where gradient descent slides off it.  ``double_well`` shows both:
a saddle at (0, 0) between minima at (-1, 0) and (1, 0).  Adding lambda I to H (damping,
as in Levenberg-Marquardt) with lambda above the most negative curvature makes every
step a descent step again.

For a network, H has n^2 entries for n parameters: ``hessian_size`` counts them.

>>> start = torch.tensor([0.3, 0.5], dtype=torch.float64)
>>> newton_path(double_well, start, steps=6)[-1].abs().max().item() < 1e-12   # at the saddle (0, 0)
True
>>> gradient_descent_path(double_well, start, steps=200, lr=0.1)[-1].round(decimals=6).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from dlcourse.calc import summarize
from dlcourse.validation import checked_int

Function = Callable[[torch.Tensor], torch.Tensor]


def double_well(point: torch.Tensor) -> torch.Tensor:
    """f(x, y) = x^4 / 4 - x^2 / 2 + y^2 / 2: minima at (+-1, 0) where f = -1/4, a saddle at (0, 0).

    Its gradient is (x^3 - x, y) and its Hessian diag(3 x^2 - 1, 1): negative curvature
    along x for |x| < 1/sqrt(3).

    >>> double_well(torch.tensor([1.0, 0.0])).item(), double_well(torch.tensor([0.0, 0.0])).item()
    (-0.25, 0.0)
    """
    x, y = point[0], point[1]
    return x ** 4 / 4 - x ** 2 / 2 + y ** 2 / 2


def gradient_and_hessian(f: Function, point: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient g (shape n) and the Hessian H (n x n) of a scalar function of a 1-D point.

    >>> g, H = gradient_and_hessian(double_well, torch.tensor([2.0, 3.0], dtype=torch.float64))
    >>> g.tolist(), H.tolist()            # (x^3 - x, y) and diag(3 x^2 - 1, 1)
    ([6.0, 3.0], [[11.0, 0.0], [0.0, 1.0]])
    """
    return _gradient(f, point), torch.autograd.functional.hessian(f, point.detach())


def newton_step(f: Function, point: torch.Tensor, damping: float = 0.0) -> torch.Tensor:
    """The next point ``point + d``, where (H + damping I) d = -g.

    With ``damping=0`` this is Newton's method: exact in one step on a quadratic.
    A large ``damping`` makes it gradient descent with learning rate 1 / damping.

    >>> bowl = lambda p: (p[0] - 1) ** 2 + 10 * (p[1] + 2) ** 2
    >>> newton_step(bowl, torch.tensor([5.0, 5.0], dtype=torch.float64)).tolist()
    [1.0, -2.0]
    """
    _check_number("damping", damping)
    gradient, hessian = gradient_and_hessian(f, point)
    matrix = hessian + damping * torch.eye(len(point), dtype=hessian.dtype)
    try:
        direction = torch.linalg.solve(matrix, -gradient)
    except torch.linalg.LinAlgError as error:
        raise ValueError(
            f"H + damping I is singular at point {point.tolist()} (damping={damping}); try a damping > 0"
        ) from error
    return point.detach() + direction


def newton_path(f: Function, start: torch.Tensor, steps: int, damping: float = 0.0) -> torch.Tensor:
    """The points visited by ``steps`` Newton steps from ``start``: shape (steps + 1, n).

    >>> start = torch.tensor([0.3, 0.5], dtype=torch.float64)
    >>> newton_path(double_well, start, steps=1)[1].round(decimals=4).tolist()   # y is exact at once
    [-0.074, 0.0]
    """
    checked_int("steps", steps, minimum=0)
    points = [start.detach()]
    for _ in range(steps):
        points.append(newton_step(f, points[-1], damping))
    return torch.stack(points)


def gradient_descent_path(f: Function, start: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """The points visited by ``steps`` steps of ``point - lr * gradient``: shape (steps + 1, n).

    >>> start = torch.tensor([0.3, 0.5], dtype=torch.float64)
    >>> gradient_descent_path(double_well, start, steps=1, lr=0.1)[1].tolist()   # (0.3 + 0.0273, 0.45)
    [0.3273, 0.45]
    """
    checked_int("steps", steps, minimum=0)
    _check_number("lr", lr)
    points = [start.detach()]
    for _ in range(steps):
        points.append(points[-1] - lr * _gradient(f, points[-1]))
    return torch.stack(points)


@dataclass(frozen=True)
class HessianSize:
    """How big a model's Hessian is: ``params`` n, ``entries`` n^2, and ``float32_bytes`` 4 n^2."""

    params: int
    entries: int
    float32_bytes: int


def hessian_entries(num_params: int) -> int:
    """n^2: the Hessian of a loss over n parameters has an entry for every pair of them.

    >>> hessian_entries(1_000_000)      # a small network: a million parameters, a trillion entries
    1000000000000
    """
    checked_int("num_params", num_params, minimum=0)
    return num_params * num_params


def hessian_size(model: torch.nn.Module, input_shape: Sequence[int]) -> HessianSize:
    """The Hessian's size for ``model``, its parameters counted by ``dlcourse.calc.summarize``.

    Works on the meta device, so nothing is allocated.

    >>> from dlcourse.models import build
    >>> size = hessian_size(build("resnet50", device="meta"), (1, 3, 224, 224))
    >>> size.params, f"{size.entries:.3g}", f"{size.float32_bytes / 1e15:.2f} PB"
    (25557032, '6.53e+14', '2.61 PB')
    """
    params = summarize(model, input_shape).params
    entries = hessian_entries(params)
    return HessianSize(params=params, entries=entries, float32_bytes=4 * entries)


def _gradient(f: Function, point: torch.Tensor) -> torch.Tensor:
    """grad f at ``point``, by autograd (for a 1-D floating-point point)."""
    _check_point(point)
    leaf = point.detach().requires_grad_()
    with torch.enable_grad():
        (gradient,) = torch.autograd.grad(f(leaf), leaf)
    return gradient


def _check_point(point: torch.Tensor) -> None:
    if not isinstance(point, torch.Tensor) or point.dim() != 1 or not point.is_floating_point():
        raise ValueError(f"point must be a 1-D floating-point tensor, got {point!r}")


def _check_number(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
