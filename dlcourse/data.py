"""Small data sets generated on the spot, so that nothing is ever downloaded."""

from __future__ import annotations

import math
from typing import Tuple

import torch


def two_spirals(n: int = 1000, noise: float = 0.2, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spirals in the plane: ``n`` points ``(n, 2)`` and labels 0 or 1.

    A line cannot separate them, so a network needs hidden layers and non-linearities.

    >>> x, y = two_spirals(10)
    >>> tuple(x.shape), sorted(set(y.tolist())) <= [0, 1]
    ((10, 2), True)
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    generator = torch.Generator().manual_seed(seed)
    angle = torch.rand(n, generator=generator) * 3 * math.pi + 0.5
    labels = torch.randint(0, 2, (n,), generator=generator)
    points = torch.stack([angle * torch.cos(angle), angle * torch.sin(angle)], dim=1)
    points[labels == 1] *= -1  # the second spiral is the first turned by 180 degrees
    points += noise * torch.randn(n, 2, generator=generator)
    return points / 5, labels
