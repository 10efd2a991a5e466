"""Small training experiments that the chapters run and plot."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from .data import two_spirals


@contextlib.contextmanager
def torch_threads(threads: int = 1) -> Iterator[None]:
    """Run the block with torch on ``threads`` CPU threads, and restore the number after.

    The chapters' models are small: their many tiny matrix products gain little from a second
    thread and lose a lot when another program keeps the other core busy (torch's threads
    wait for each other), so every training experiment runs on one thread, the same on every
    machine.

    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    with torch_threads(1):  # see torch_threads
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
    import time

    from .data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):  # see torch_threads
        torch.manual_seed(seed)
        x_train, y_train, x_test, y_test = digits(seed=seed)
        model = small_cnn()
        steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=peak_learning_rate, total_steps=steps)
        losses, accuracies = [], []
        start = time.perf_counter()
        for _ in progress_range(epochs, "training", progress=progress):
            losses.append(train_epoch(model, optimiser, x_train, y_train, batch_size, schedule))
            model.eval()
            with torch.no_grad():
                accuracies.append((model(x_test).argmax(1) == y_test).float().mean().item())
        seconds = time.perf_counter() - start
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
    with torch_threads(1):  # see torch_threads
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


# --- Optimisers and regularisation (book/optimisers.md) ---------------------------------------

OPTIMISER_NAMES = ("SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW")


def make_optimiser(name: str, params, lr: float, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """One of ``dlcourse.optim``'s optimisers by name, for the chapter's comparisons.

    ``momentum`` is mu for "momentum" and "Nesterov" and beta1 for "Adam" and "AdamW"
    (the decay of their running mean of gradients); the others ignore it.  ``weight_decay``
    is an L2 penalty added to the gradient, except for AdamW, which decays the weights
    directly (decoupled).

    >>> w = torch.zeros(2, requires_grad=True)
    >>> type(make_optimiser("Nesterov", [w], lr=0.1)).__name__
    'SGD'
    """
    from . import optim

    if name not in OPTIMISER_NAMES:
        raise ValueError(f"unknown optimiser {name!r}; known: {', '.join(OPTIMISER_NAMES)}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if name == "SGD":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "Nesterov"):
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "Nesterov" and momentum > 0,
                         weight_decay=weight_decay)
    if name == "Adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "RMSprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    adam = optim.Adam if name == "Adam" else optim.AdamW
    return adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)


def progress_range(total: int, desc: str, unit: str = "epoch", progress: bool = True) -> Iterator[int]:
    """``range(total)`` with a tqdm bar: live in Jupyter, printed once in its final state when the
    book is built (a static page cannot redraw a bar).  The final line is printed when the loop
    runs to the end.

    >>> list(progress_range(3, "demo", progress=False))
    [0, 1, 2]
    """
    import sys
    import time

    from tqdm import tqdm

    from .widgets import static_build

    live = progress and not static_build()
    start = time.perf_counter()
    yield from tqdm(range(total), desc=desc, unit=unit, file=sys.stdout, disable=not live, ncols=80)
    if progress and not live:
        print(tqdm.format_meter(total, total, time.perf_counter() - start, ncols=80, prefix=desc, unit=unit))


def digits_model(kind: str, dropout: float = 0.5) -> nn.Sequential:
    """The three models of the Adam paper's experiments, sized for 1 x 8 x 8 digits.

    "logistic": one linear layer (multinomial logistic regression); "mlp": two hidden
    layers of 100 ReLU units, each followed by dropout; "cnn": ``digits_8x8_cnn``.

    >>> [sum(p.numel() for p in digits_model(k).parameters()) for k in ("logistic", "mlp")]
    [650, 17610]
    """
    if kind == "logistic":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 100), nn.ReLU(), nn.Dropout(dropout),
                             nn.Linear(100, 100), nn.ReLU(), nn.Dropout(dropout), nn.Linear(100, 10))
    if kind == "cnn":
        return digits_8x8_cnn()
    raise ValueError(f"unknown model {kind!r}; known: logistic, mlp, cnn")


@dataclass
class OptimiserComparison:
    """Curves of ``compare_optimisers``: ``train_loss[name]`` and ``test_accuracy[name]`` are
    arrays of shape (seeds, epochs), one row per seed."""

    model: str
    settings: Dict[str, Dict[str, float]]
    train_loss: Dict[str, np.ndarray]
    test_accuracy: Dict[str, np.ndarray]


DEFAULT_SETTINGS: Dict[str, Dict[str, float]] = {
    "SGD": {"lr": 0.1},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "RMSprop": {"lr": 1e-3},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3, "weight_decay": 1e-2},
}


def compare_optimisers(model: str, settings: Optional[Dict[str, Dict[str, float]]] = None, epochs: int = 20,
                       seeds: Sequence[int] = (0, 1, 2), batch_size: int = 32,
                       progress: bool = True) -> OptimiserComparison:
    """Train ``digits_model(model)`` on the 8 x 8 digits with each optimiser, for each seed.

    For a given seed every optimiser starts from the same initial weights and sees the
    mini-batches in the same order, so the curves differ only by the optimiser.  The
    training loss of an epoch is the mean over its mini-batches (in training mode, dropout on);
    the test accuracy is measured after each epoch in evaluation mode.

    >>> result = compare_optimisers("logistic", {"Adam": {"lr": 0.01}}, epochs=2, seeds=(0,),
    ...                             progress=False)
    >>> result.train_loss["Adam"].shape, result.test_accuracy["Adam"].shape
    ((1, 2), (1, 2))
    """
    from .data import digits

    settings = dict(DEFAULT_SETTINGS if settings is None else settings)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if not seeds:
        raise ValueError("compare_optimisers needs at least one seed")
    with torch_threads(1):  # see torch_threads
        x_train, y_train, x_test, y_test = digits(size=8)
        losses = {name: np.zeros((len(seeds), epochs)) for name in settings}
        accuracies = {name: np.zeros((len(seeds), epochs)) for name in settings}
        runs = [(i, seed, name) for i, seed in enumerate(seeds) for name in settings]
        for run in progress_range(len(runs), desc=model, unit="run", progress=progress):
            i, seed, name = runs[run]
            torch.manual_seed(seed)
            net = digits_model(model)
            options = dict(settings[name])
            optimiser = make_optimiser(name.split(" ")[0], net.parameters(), **options)
            for epoch in range(epochs):
                losses[name][i, epoch] = train_epoch(net, optimiser, x_train, y_train, batch_size)
                net.eval()
                with torch.no_grad():
                    accuracies[name][i, epoch] = (net(x_test).argmax(1) == y_test).float().mean().item()
        return OptimiserComparison(model, settings, losses, accuracies)


@dataclass
class PlateauRun:
    """What ``alexnet_recipe`` measured, one entry per epoch; ``drops`` lists the epochs (from 1)
    after which the learning rate was divided by 10."""

    train_loss: List[float]
    validation_error: List[float]
    learning_rate: List[float]
    drops: List[int]
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
    from . import optim
    from .data import digits

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):  # see torch_threads
        x_train, y_train, x_test, y_test = digits(size=8, seed=seed)
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(x_train), generator=generator)
        held_out = len(x_train) // 5
        x_val, y_val = x_train[order[:held_out]], y_train[order[:held_out]]
        x_fit, y_fit = x_train[order[held_out:]], y_train[order[held_out:]]
        torch.manual_seed(seed)
        model = digits_8x8_cnn()
        optimiser = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, mode="min", factor=0.1, patience=patience,
                                                              min_lr=lr / 1000)
        run = PlateauRun([], [], [], [], 0.0)
        for epoch in progress_range(epochs, desc="AlexNet recipe", progress=progress):
            run.learning_rate.append(optimiser.param_groups[0]["lr"])
            run.train_loss.append(train_epoch(model, optimiser, x_fit, y_fit, batch_size))
            model.eval()
            with torch.no_grad():
                error = (model(x_val).argmax(1) != y_val).float().mean().item()
            run.validation_error.append(error)
            schedule.step(error)
            if optimiser.param_groups[0]["lr"] < run.learning_rate[-1]:
                run.drops.append(epoch + 1)
        with torch.no_grad():
            run.test_accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        return run
