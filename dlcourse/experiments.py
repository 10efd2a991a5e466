"""Small training experiments that the chapters run and plot."""

from __future__ import annotations

from typing import Dict, List, Optional

import torch
from torch import nn

from .data import two_spirals


def mlp(activation: type, depth: int = 4, width: int = 64, inputs: int = 2, outputs: int = 2) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units, each followed by ``activation()``."""
    layers: List[nn.Module] = []
    size = inputs
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation()]
        size = width
    layers.append(nn.Linear(size, outputs))
    return nn.Sequential(*layers)


def training_error_curves(
    activations: Dict[str, type], epochs: int = 60, seed: int = 0, lr: float = 0.1, batch_size: int = 50
) -> Dict[str, List[float]]:
    """Train the same MLP on two spirals with each activation; training error after each epoch.

    Same data, same initial random state, same optimiser (SGD with momentum 0.9) for every
    activation, so the curves differ only by the activation.
    """
    x, y = two_spirals(seed=seed)
    curves: Dict[str, List[float]] = {}
    for name, activation in activations.items():
        torch.manual_seed(seed)
        net = mlp(activation)
        optimiser = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        errors = []
        for _ in range(epochs):
            order = torch.randperm(len(x))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(net(x[batch]), y[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            with torch.no_grad():
                errors.append((net(x).argmax(dim=1) != y).float().mean().item())
        curves[name] = errors
    return curves


def first_epoch_below(errors: List[float], threshold: float) -> Optional[int]:
    """The first epoch (counted from 1) whose error is at most ``threshold``, or None.

    >>> first_epoch_below([0.5, 0.3, 0.2, 0.1], 0.25)
    3
    """
    return next((epoch for epoch, error in enumerate(errors, start=1) if error <= threshold), None)
