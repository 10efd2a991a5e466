"""Exam arithmetic around a network: training cost, dataset size, softmax and its gradient."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dlcourse.activations import softmax  # the course's one softmax (stable: shifted by the maximum)
from dlcourse.validation import checked_int

Number = int | float


@dataclass(frozen=True)
class TrainingCost:
    """Cost of training, in whatever unit ``macs_per_sample`` was given (MACs or FLOPs).

    Exact integers when the inputs allow it (an int count and a whole backward factor).
    """

    per_sample: Number
    per_batch: Number
    iterations_per_epoch: int
    per_epoch: Number
    total: Number


def training_cost(
    macs_per_sample: float,
    batch_size: int,
    dataset_size: int,
    epochs: int = 1,
    backward_factor: float = 2.0,
) -> TrainingCost:
    """Cost of one mini-batch, one epoch and a whole run.

    ``per_batch = macs_per_sample * (1 + backward_factor) * batch_size``;
    an epoch is ``ceil(dataset_size / batch_size)`` iterations, each counted as
    a full batch.  The backward pass costs about twice the forward pass
    (``backward_factor=2.0``: gradients for the inputs and for the weights);
    exams often assume it costs the same as the forward (``backward_factor=1.0``).
    The result is in the unit given: pass FLOPs to get FLOPs.

    >>> cost = training_cost(275_500_544, batch_size=64, dataset_size=256_000,
    ...                      epochs=100, backward_factor=1.0)
    >>> cost.per_batch, cost.iterations_per_epoch
    (35264069632, 4000)
    >>> cost.total
    14105627852800000
    >>> training_cost(1e6, batch_size=10, dataset_size=25).per_epoch   # 3 iterations, 2 backward
    90000000.0
    """
    if isinstance(macs_per_sample, bool) or not isinstance(macs_per_sample, (int, float)) or macs_per_sample < 0:
        raise ValueError(f"macs_per_sample must be a number >= 0, got {macs_per_sample!r}")
    for name, value in (("batch_size", batch_size), ("dataset_size", dataset_size), ("epochs", epochs)):
        checked_int(name, value)
    if isinstance(backward_factor, bool) or not isinstance(backward_factor, (int, float)) or backward_factor < 0:
        raise ValueError(f"backward_factor must be a number >= 0, got {backward_factor!r}")
    factor: Number = 1 + backward_factor
    if isinstance(macs_per_sample, int) and float(factor).is_integer():
        factor = int(factor)  # stay exact: these numbers pass 2**53 quickly
    per_sample = macs_per_sample * factor
    per_batch = per_sample * batch_size
    iterations = math.ceil(dataset_size / batch_size)
    per_epoch = per_batch * iterations
    return TrainingCost(per_sample, per_batch, iterations, per_epoch, per_epoch * epochs)


def augmented_count(
    images: int, crops_per_image: int = 1, augmentations: int = 0, keep_original: bool = True
) -> int:
    """Training samples after cropping and augmentation.

    ``images * crops_per_image * (augmentations + 1 if keep_original else augmentations)``.

    >>> augmented_count(200, crops_per_image=256)        # crops only
    51200
    >>> augmented_count(200, 256, augmentations=4)       # 2 flips + 2 rotations, original kept
    256000
    """
    for name, value, lowest in (
        ("images", images, 1),
        ("crops_per_image", crops_per_image, 1),
        ("augmentations", augmentations, 0),
    ):
        checked_int(name, value, minimum=lowest)
    versions = augmentations + (1 if keep_original else 0)
    if versions == 0:
        raise ValueError("with keep_original=False you need at least one augmentation")
    return images * crops_per_image * versions


def softmax_cross_entropy_grad(logits: Sequence[float], target: int) -> np.ndarray:
    """Gradient of cross-entropy ``-log p[target]`` with respect to the logits: ``p - one_hot``.

    >>> softmax_cross_entropy_grad([3.2, 5.1], target=0).round(4)
    array([-0.8699,  0.8699])
    """
    probabilities = softmax(_as_vector(logits))
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < len(probabilities):
        raise ValueError(
            f"target must be a class index from 0 to {len(probabilities) - 1}, got {target!r}"
        )
    gradient = probabilities.copy()
    gradient[target] -= 1.0
    return gradient


def _as_vector(logits: Sequence[float]) -> np.ndarray:
    try:
        scores = np.asarray(logits, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"logits must be a list of numbers, got {logits!r}") from None
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D list of numbers, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"logits must be finite numbers, got {logits!r}")
    return scores
