"""Training loops shared by the chapters: one epoch of mini-batch training, and how often a classifier is right.
"""

from __future__ import annotations

import torch
from torch import nn


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int, schedule: torch.optim.lr_scheduler.LRScheduler | None = None) -> float:
    """One pass over ``(x, y)`` in shuffled mini-batches with cross-entropy; the mean training loss."""
    model.train()
    order = torch.randperm(len(x))
    total = 0.0
    for first in range(0, len(x), batch_size):
        batch = order[first:first + batch_size]
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        total += loss.item() * len(batch)
    return total / len(x)


def predictions(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The class ``model`` gives each example of ``x`` (the largest of its scores along dimension 1).

    In evaluation mode (``model.eval()``: dropout off, batch norm's running statistics) and
    without gradients; the model is left in evaluation mode (``train_epoch`` switches it back).

    >>> predictions(nn.Identity(), torch.tensor([[0.0, 1.0], [2.0, 1.0]]))
    tensor([1, 0])
    """
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of the examples of ``x`` that ``model`` classifies as ``y`` (as ``predictions``: evaluation
    mode, no gradients).

    >>> accuracy(nn.Identity(), torch.tensor([[0.0, 1.0], [2.0, 1.0]]), torch.tensor([1, 1]))
    0.5
    """
    return (predictions(model, x) == y).float().mean().item()


def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of the examples of ``x`` that ``model`` gets wrong (as ``predictions``: evaluation mode, no
    gradients).  Counted directly, not as 1 - ``accuracy``, whose float32 round-off would differ.

    >>> error_rate(nn.Identity(), torch.tensor([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0]]), torch.tensor([1, 1, 1]))
    0.3333333432674408
    """
    return (predictions(model, x) != y).float().mean().item()
