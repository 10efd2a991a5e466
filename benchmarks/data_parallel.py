"""Steps per second of DDP with 1 and 2 CPU processes, the all-reduce's cost, and a pipeline's measured bubble.

Each data-parallel row trains ``dlcourse.hardware.parallel``'s MLP (64 -> 256 -> 4 classes, about 17.7k
parameters) for 100 steps at one global batch, split over 1 or 2 processes (one thread each,
gloo over localhost); the rate leaves out the first step.  Two processes can at most double
the rate, and only with two idle cores: on a shared 2-core machine they compete with
everything else, and each step waits for an all-reduce of the gradients, timed on its own
here (the mean of 200 all-reduces of a float32 tensor of the model's size).

The pipeline rows run ``pipeline_step`` (an 8-layer, 1024-wide MLP in 2 stages, batch 512)
with M micro-batches, and compare each stage's idle fraction, measured from its timestamps
(best of 2 runs), with GPipe's (S - 1) / (M + S - 1).

Run: ``.venv/bin/python benchmarks/data_parallel.py``.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from dlcourse.hardware.parallel import (
    PipelineConfig,
    TrainConfig,
    bubble_fraction,
    idle_fractions,
    pipeline_local,
    run_local,
    train_data_parallel,
)
from dlcourse.hardware.timing import Stopwatch
from dlcourse.models.small import mlp

CONFIG = TrainConfig(steps=100, samples=8192, features=64, hidden=256, classes=4, lr=0.05, device="cpu")
BATCHES = (64, 256, 1024)
REPEATS = 200


def time_all_reduce(numel: int, repeats: int) -> float:
    """Mean seconds of one all-reduce (sum) of ``numel`` float32 numbers in the current process group."""
    tensor = torch.ones(numel)
    for _ in range(10):
        dist.all_reduce(tensor)
    dist.barrier()
    with Stopwatch() as watch:
        for _ in range(repeats):
            dist.all_reduce(tensor)
    return watch.seconds / repeats


def main() -> None:
    model = mlp([CONFIG.features, CONFIG.hidden, CONFIG.classes], nn.Tanh, seed=CONFIG.seed)
    numel = sum(p.numel() for p in model.parameters())
    all_reduce = run_local(time_all_reduce, 2, numel, REPEATS)[0]
    print(f"MLP {CONFIG.features}-{CONFIG.hidden}-{CONFIG.classes}, {numel} parameters; "
          f"all-reduce of {numel * 4 / 1024:.0f} KiB between 2 processes (gloo): {all_reduce * 1e3:.3f} ms")
    print(f"{'global batch':>12}  {'1 process':>12}  {'2 processes':>12}  {'ratio':>6}  {'all-reduce share':>16}")
    for batch in BATCHES:
        one = train_data_parallel(TrainConfig(**{**CONFIG.__dict__, "batch": batch}), 1)[0].steps_per_second
        two = train_data_parallel(TrainConfig(**{**CONFIG.__dict__, "batch": batch // 2}), 2)[0].steps_per_second
        print(f"{batch:>12}  {one:>8.1f} st/s  {two:>8.1f} st/s  {two / one:>6.2f}  {all_reduce * two:>15.0%}")
    print("(steps/s of the global step; all-reduce share = all-reduce time x 2-process steps/s)")

    print(f"\n{'micro-batches M':>15}  {'GPipe bubble':>12}  {'measured idle, stage 0 / stage 1':>34}")
    for m in (1, 2, 4, 8):
        config = PipelineConfig(batch=512, micro_batches=m, width=1024, depth=8)
        runs = []
        for _ in range(2):
            stages = pipeline_local(config, stages=2)
            runs.append(idle_fractions([e for stage in stages for e in stage.events]))
        best = min(runs, key=sum)
        print(f"{m:>15}  {bubble_fraction(2, m):>12.3f}  {best[0]:>16.3f} / {best[1]:.3f}")


if __name__ == "__main__":
    main()
