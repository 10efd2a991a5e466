"""Small data sets generated on the spot, so that nothing is ever downloaded."""

from __future__ import annotations

import math

import torch


def two_spirals(n: int = 1000, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
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


def digits(size: int = 16, test_fraction: float = 0.25,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled handwritten digits (1,797 images of 8 x 8), scaled to [0, 1] and
    resized to ``size`` x ``size``; a stratified train/test split.  Nothing is downloaded.

    Returns ``(x_train, y_train, x_test, y_test)`` with images shaped ``(n, 1, size, size)``.

    >>> x_train, y_train, x_test, y_test = digits()
    >>> tuple(x_train.shape[1:]), len(x_train) + len(x_test)
    ((1, 16, 16), 1797)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if size < 8:
        raise ValueError(f"size must be at least 8 (the images are 8 x 8), got {size}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32)[:, None] / 16.0
    if size != 8:
        images = torch.nn.functional.interpolate(images, size=size, mode="bilinear", align_corners=False)
    labels = torch.tensor(data.target)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    return x_train, y_train, x_test, y_test
