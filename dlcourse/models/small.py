"""The small networks the chapters train in seconds: one MLP builder, and the CNNs for the bundled digits.

Every fully connected stack in the course comes from ``mlp``; layers are made in order, so a seed
gives the same weights however the network is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(widths: Sequence[int], activation: type = nn.ReLU, dropout: float = 0.0,
        seed: int | None = None) -> nn.Sequential:
    """Linear layers between consecutive ``widths``, each but the last followed by ``activation()``
    (and by dropout, when ``dropout`` > 0); with ``seed``, initialised from it without touching
    the global random state.

    >>> model = mlp([16, 32, 4], nn.Tanh, seed=0)
    >>> [type(layer).__name__ for layer in model], sum(p.numel() for p in model.parameters())
    (['Linear', 'Tanh', 'Linear'], 676)
    >>> [type(layer).__name__ for layer in mlp([64, 100, 10], dropout=0.5)]
    ['Linear', 'ReLU', 'Dropout', 'Linear']
    """
    if len(widths) < 2 or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"need at least two positive int widths (inputs and outputs), got {list(widths)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if seed is None:
        return _linear_stack(widths, activation, dropout)
    with torch.random.fork_rng(devices=[]):   # the caller's random state is left as it was
        torch.manual_seed(seed)
        return _linear_stack(widths, activation, dropout)


def _linear_stack(widths: Sequence[int], activation: type, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i:
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def digits_16x16_cnn() -> nn.Sequential:
    """Two 3x3 convolution blocks (with batch norm) and two fully connected layers, for 1x16x16 digits.

    >>> digits_16x16_cnn()(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 10])
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def digits_8x8_cnn() -> nn.Sequential:
    """Two 3 x 3 convolutions with pooling, then one fully connected layer, for 1 x 8 x 8 images.

    >>> digits_8x8_cnn()(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def digits_model(kind: str, dropout: float = 0.5) -> nn.Sequential:
    """The three models of the Adam paper's experiments, sized for 1 x 8 x 8 digits.

    "logistic": one linear layer (multinomial logistic regression); "mlp": two hidden
    layers of 100 ReLU units, each followed by dropout; "cnn": ``digits_8x8_cnn``.

    >>> [sum(p.numel() for p in digits_model(k).parameters()) for k in ("logistic", "mlp")]
    [650, 17610]
    """
    if kind == "logistic":
        return nn.Sequential(nn.Flatten(), *mlp([64, 10]))
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), *mlp([64, 100, 100, 10], nn.ReLU, dropout))
    if kind == "cnn":
        return digits_8x8_cnn()
    raise ValueError(f"unknown model {kind!r}; known: logistic, mlp, cnn")
