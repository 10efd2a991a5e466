"""Small training experiments that the chapters run and plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
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


def train_epoch(model: nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int, schedule: Optional[torch.optim.lr_scheduler.LRScheduler] = None) -> float:
    """One pass over ``(x, y)`` in shuffled mini-batches with cross-entropy; the mean training loss."""
    model.train()
    order = torch.randperm(len(x))
    total = 0.0
    for first in range(0, len(x), batch_size):
        batch = order[first:first + batch_size]
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if schedule is not None:
            schedule.step()
        total += loss.item() * len(batch)
    return total / len(x)


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
            train_epoch(net, optimiser, x, y, batch_size)
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


@dataclass
class TrainingRun:
    """What ``train_digits_cnn`` measured."""

    model: nn.Module
    train_loss: List[float]
    test_accuracy: List[float]
    confusion: List[List[int]]
    seconds: float
    peak_learning_rate: float
    batch_size: int


def small_cnn() -> nn.Sequential:
    """Two 3x3 convolution blocks (with batch norm) and two fully connected layers, for 1x16x16 digits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def train_digits_cnn(epochs: int = 40, seed: int = 0, batch_size: int = 32, progress: bool = True,
                     peak_learning_rate: float = 3e-3) -> TrainingRun:
    """Train ``small_cnn`` on the bundled digits with Adam and a one-cycle learning rate.

    The one-cycle schedule (``torch.optim.lr_scheduler.OneCycleLR``) raises the learning rate
    from ``peak_learning_rate / 25`` to ``peak_learning_rate`` over the first 30 % of the steps,
    then lowers it to almost zero.

    Prints a progress bar (tqdm) when ``progress``; returns the curves, the test confusion
    matrix (rows: true digit, columns: predicted) and the training time.
    """
    import sys
    import time

    from tqdm import tqdm

    from .data import digits
    from .widgets import static_build

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits(seed=seed)
    model = small_cnn()
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=peak_learning_rate, total_steps=steps)
    losses, accuracies = [], []
    start = time.perf_counter()
    # In the built book there is no live page to redraw a bar on: print its final state once.
    live = progress and not static_build()
    for _ in tqdm(range(epochs), desc="training", unit="epoch", file=sys.stdout, disable=not live, ncols=80):
        losses.append(train_epoch(model, optimiser, x_train, y_train, batch_size, schedule))
        model.eval()
        with torch.no_grad():
            accuracies.append((model(x_test).argmax(1) == y_test).float().mean().item())
    seconds = time.perf_counter() - start
    if progress and not live:
        print(tqdm.format_meter(epochs, epochs, seconds, ncols=80, prefix="training", unit="epoch"))
    with torch.no_grad():
        predicted = model(x_test).argmax(1)
    confusion = torch.zeros(10, 10, dtype=torch.long)
    for true, guess in zip(y_test.tolist(), predicted.tolist()):
        confusion[true, guess] += 1
    return TrainingRun(model, losses, accuracies, confusion.tolist(), seconds, peak_learning_rate, batch_size)


def digits_8x8_cnn() -> nn.Sequential:
    """Two 3 x 3 convolutions with pooling, then one fully connected layer, for 1 x 8 x 8 images."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def scrambled_digits_accuracies(epochs: int = 30, seed: int = 0) -> Dict[str, Tuple[float, float]]:
    """Test accuracy on the 8 x 8 digits, pixels in order and scrambled by one fixed permutation.

    Returns ``{"fully connected": (in order, scrambled), "convolutional": (in order, scrambled)}``.
    Each network is trained with Adam from ``torch.manual_seed(seed)``.  The fully connected one
    (64 -> 64 ReLU -> 10) on scrambled pixels starts from the same weights with the columns of
    its first layer permuted like the pixels, so it computes the same function at every step.
    """
    from .data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    x_train, y_train, x_test, y_test = digits(size=8, seed=seed)
    shuffle = torch.from_numpy(np.random.default_rng(seed).permutation(64))

    def scramble(images: torch.Tensor) -> torch.Tensor:
        return images.flatten(1)[:, shuffle].reshape(images.shape)

    results: Dict[str, Tuple[float, float]] = {}
    for name in ("fully connected", "convolutional"):
        accuracies = []
        for scrambled in (False, True):
            torch.manual_seed(seed)
            if name == "fully connected":
                model = nn.Sequential(nn.Flatten(), mlp(nn.ReLU, depth=1, width=64, inputs=64, outputs=10))
                if scrambled:
                    with torch.no_grad():
                        first = model[1][0].weight
                        first.copy_(first[:, shuffle])
            else:
                model = digits_8x8_cnn()
            train, test = (scramble(x_train), scramble(x_test)) if scrambled else (x_train, x_test)
            optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
            for _ in range(epochs):
                train_epoch(model, optimiser, train, y_train, batch_size=32)
            model.eval()
            with torch.no_grad():
                accuracies.append((model(test).argmax(1) == y_test).float().mean().item())
        results[name] = (accuracies[0], accuracies[1])
    return results
