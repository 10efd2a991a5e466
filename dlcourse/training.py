"""Training loops shared by the chapters: one epoch of mini-batch training, and a small MLP.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int, schedule: Optional[torch.optim.lr_scheduler.LRScheduler] = None) -> float:
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
