"""How training time scales with the number of GPUs: the seed paper's Table 1, its speed-ups, and a fitted model.

``SEED_TABLE`` holds the epoch times of ConvMath on 1, 2 and 4 GTX 1060 GPUs (a 2-core CPU)
at five batch sizes.  ``speedup_and_efficiency`` turns it into speed-ups t(1) / t(n) and
efficiencies speed-up / n; ``fit_scaling`` fits the five-term model below by least squares.

**The model.**  An epoch is D samples (the same D in every cell), so it takes D / b steps
with a batch of b, split over n GPUs (b / n samples each per step).  Its time is

    t(b, n) = S + O / b + (W - E / b) / n + K (n - 1) / b

* S, *serial*: what no GPU shares: per-epoch set-up and the CPU's data feeding, D x (time per
  sample on the CPU).  Both are constant over the table, so they cannot be told apart.
* O / b, *per-step overhead*: D / b steps, each paying O / D (launching, the optimiser,
  Python), whatever n is.
* (W - E / b) / n, *compute*, divided over the GPUs.  The epoch times *grow* with b on one
  GPU (202 s at b = 32, 421 s at b = 512), which per-step costs cannot do (there are fewer
  steps), so the work per sample must grow with b.  The model takes it to saturate as
  W (1 - b0 / b), b0 = E / W: as in a batch padded to its longest example, whose expected
  length approaches the longest in the data set like L_max - c / b.
* K (n - 1) / b, *communication*: per step, gathering gradients costs more with each extra GPU.

Assumptions: equal D in every cell; every term linear in its coefficient (so the fit is
``numpy.linalg.lstsq``); all coefficients non-negative (the fit tries each subset of terms
and keeps the best fit whose coefficients are >= 0, which is the non-negative least-squares
solution); no overlap of feeding, compute and communication.  On the seed table the best
fit sets K = 0: the times show no communication cost (4 GPUs gain a bit *more* than the
serial-plus-divided model allows, which a negative K would chase).

>>> speedup, efficiency = speedup_and_efficiency(SEED_TABLE)
>>> round(float(speedup[-1, -1]), 2), round(float(efficiency[-1, -1]), 2)    # batch 512 on 4 GPUs
(2.05, 0.51)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

TERMS = ("serial", "per_step", "compute", "padding", "communication")   # S, O, W, E, K


@dataclass(frozen=True)
class TimingTable:
    """Seconds per epoch: ``seconds[i][j]`` with batch ``batches[i]`` on ``gpus[j]`` GPUs."""

    batches: tuple[int, ...]
    gpus: tuple[int, ...]
    seconds: tuple[tuple[float, ...], ...]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.seconds) != len(self.batches) or any(len(row) != len(self.gpus) for row in self.seconds):
            raise ValueError(f"seconds must be {len(self.batches)} rows (batches) of {len(self.gpus)} (GPU counts)")
        if min(self.batches) < 1 or min(self.gpus) < 1 or min(min(row) for row in self.seconds) <= 0:
            raise ValueError("batches, GPU counts and seconds must all be positive")

    def array(self) -> np.ndarray:
        """The seconds as a (batches x GPU counts) array."""
        return np.array(self.seconds, dtype=float)


SEED_TABLE = TimingTable(
    batches=(32, 64, 128, 256, 512),
    gpus=(1, 2, 4),
    seconds=((202, 184, 170), (298, 251, 209), (352, 265, 214), (394, 283, 208), (421, 289, 205)),
    source="Table 1 of the course's source paper on training ConvMath with several GPUs "
           "(GTX 1060 GPUs, a 2-core CPU; seconds per epoch)",
)


def speedup_and_efficiency(table: TimingTable) -> tuple[np.ndarray, np.ndarray]:
    """Speed-up t(1 GPU) / t(n GPUs) and efficiency speed-up / n, per batch (rows) and GPU count (columns).

    >>> speedup, efficiency = speedup_and_efficiency(SEED_TABLE)
    >>> speedup[0].round(3).tolist(), efficiency[0].round(3).tolist()             # batch 32
    ([1.0, 1.098, 1.188], [1.0, 0.549, 0.297])
    """
    if table.gpus[0] != 1:
        raise ValueError(f"the first column must be 1 GPU (the baseline), got {table.gpus[0]}")
    seconds = table.array()
    speedup = seconds[:, :1] / seconds
    return speedup, speedup / np.array(table.gpus, dtype=float)


def design_matrix(batches: Sequence[float], gpus: Sequence[float]) -> np.ndarray:
    """One row per (batch, GPUs) pair, one column per term of ``TERMS``: 1, 1/b, 1/n, -1/(b n), (n-1)/b.

    >>> design_matrix([32], [4]).round(5).tolist()
    [[1.0, 0.03125, 0.25, -0.00781, 0.09375]]
    """
    b = np.asarray(batches, dtype=float)
    n = np.asarray(gpus, dtype=float)
    if b.shape != n.shape:
        raise ValueError(f"batches and gpus must pair up, got shapes {b.shape} and {n.shape}")
    return np.stack([np.ones_like(b), 1 / b, 1 / n, -1 / (b * n), (n - 1) / b], axis=1)


def predict(parameters: dict[str, float], batches: Sequence[float], gpus: Sequence[float]) -> np.ndarray:
    """Seconds per epoch that the model with these ``parameters`` (named as in ``TERMS``) gives.

    >>> predict({"serial": 100, "per_step": 0, "compute": 300, "padding": 0, "communication": 0}, [64], [2])
    array([250.])
    """
    if set(parameters) != set(TERMS):
        raise ValueError(f"parameters must be exactly {TERMS}, got {sorted(parameters)}")
    return design_matrix(batches, gpus) @ np.array([parameters[t] for t in TERMS], dtype=float)


@dataclass
class ScalingFit:
    """The fitted parameters, the fitted table, and its error per cell (fitted - measured)."""

    parameters: dict[str, float]
    fitted: np.ndarray
    absolute_error: np.ndarray
    relative_error: np.ndarray

    @property
    def max_relative_error(self) -> float:
        """The largest |fitted - measured| / measured over the table."""
        return float(np.abs(self.relative_error).max())


def _cells(table: TimingTable) -> tuple[np.ndarray, np.ndarray]:
    b, n = np.meshgrid(np.array(table.batches, float), np.array(table.gpus, float), indexing="ij")
    return b.ravel(), n.ravel()


def fit_scaling(table: TimingTable) -> ScalingFit:
    """Least-squares fit of the module's model to ``table``, every coefficient >= 0.

    Each subset of the five terms is fitted with ``numpy.linalg.lstsq``; of the fits whose
    coefficients are all >= 0, the one with the smallest squared error wins (the others' terms are 0).

    >>> fit = fit_scaling(SEED_TABLE)
    >>> {k: round(v, 1) for k, v in fit.parameters.items()}
    {'serial': 154.5, 'per_step': 596.3, 'compute': 269.1, 'padding': 7884.3, 'communication': 0.0}
    >>> round(fit.max_relative_error, 3)
    0.069
    """
    b, n = _cells(table)
    if b.size < len(TERMS):
        raise ValueError(f"{b.size} cells cannot fix {len(TERMS)} parameters")
    design = design_matrix(b, n)
    measured = table.array().ravel()
    best_error, best = np.inf, np.zeros(len(TERMS))
    for size in range(1, len(TERMS) + 1):
        for subset in combinations(range(len(TERMS)), size):
            coefficients = np.linalg.lstsq(design[:, subset], measured, rcond=None)[0]
            if (coefficients < 0).any():
                continue
            candidate = np.zeros(len(TERMS))
            candidate[list(subset)] = coefficients
            error = float(((design @ candidate - measured) ** 2).sum())
            if error < best_error * (1 - 1e-12):      # ties go to the fit with fewer terms
                best_error, best = error, candidate
    fitted = (design @ best).reshape(table.array().shape)
    absolute = fitted - table.array()
    return ScalingFit(dict(zip(TERMS, best.tolist())), fitted, absolute, absolute / table.array())


def term_seconds(parameters: dict[str, float], batch: float, gpus: float) -> dict[str, float]:
    """Seconds each part of the model adds at this batch and GPU count (compute net of padding).

    >>> term_seconds({"serial": 100, "per_step": 640, "compute": 300, "padding": 3200, "communication": 64}, 64, 4)
    {'serial': 100.0, 'per-step overhead': 10.0, 'compute': 62.5, 'communication': 3.0}
    """
    row = design_matrix([batch], [gpus])[0] * np.array([parameters[t] for t in TERMS], dtype=float)
    return {"serial": float(row[0]), "per-step overhead": float(row[1]), "compute": float(row[2] + row[3]),
            "communication": float(row[4])}


def reading(fit: ScalingFit, table: TimingTable, gpus: int = 4) -> str:
    """In plain words, which part of the epoch dominates on ``gpus`` GPUs at each batch size.

    >>> print(reading(fit_scaling(SEED_TABLE), SEED_TABLE).splitlines()[0])
    On 4 GPUs the serial part (set-up and the CPU's data feeding) dominates at every batch size:
    """
    parts = {b: term_seconds(fit.parameters, b, gpus) for b in table.batches}
    leaders = {b: max(p, key=p.get) for b, p in parts.items()}
    names = {"serial": "the serial part (set-up and the CPU's data feeding)", "per-step overhead":
             "the per-step overhead", "compute": "the GPUs' compute", "communication": "communication"}
    if len(set(leaders.values())) == 1:
        lines = [f"On {gpus} GPUs {names[next(iter(leaders.values()))]} dominates at every batch size:"]
    else:
        lines = [f"On {gpus} GPUs the largest part depends on the batch size:"]
    for b, p in parts.items():
        total = sum(p.values())
        shares = ", ".join(f"{k} {v:.0f} s ({v / total:.0%})" for k, v in p.items())
        lines.append(f"  batch {b}: {shares}")
    serial = fit.parameters["serial"]
    lines.append(f"No number of GPUs brings an epoch under the serial {serial:.0f} s (Amdahl's law); "
                 f"communication fitted at {fit.parameters['communication']:.3g}.")
    return "\n".join(lines)
