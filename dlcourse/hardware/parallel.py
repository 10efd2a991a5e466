"""Training on several processes: data parallelism with DDP, and a two-stage pipeline.

**Data parallelism.**  Every process holds a whole copy of the model, reads its own share
of each batch (``DistributedSampler``), and ``DistributedDataParallel`` (DDP) averages the
gradients over the processes (an all-reduce) during ``backward``, so every copy takes the
same step.  With a mean-reduced loss, N processes on B/N examples each take the step that
one process takes on all B: the same numbers, to float32 round-off.  Gradient accumulation
gets there on one process: N micro-batches of B/N, each loss scaled by 1/N, one step.

``train`` is the one training function.  Started plainly it trains on one process; started
by ``torchrun`` it joins the process group (gloo between CPU processes, nccl when each
process has a GPU, chosen by ``pick_device``) and trains on its share::

    python -m dlcourse.hardware.parallel --steps 20 --batch 64                           # 1 process
    torchrun --standalone --nproc_per_node 2 -m dlcourse.hardware.parallel --steps 20 --batch 64
    python -m dlcourse.hardware.parallel --print-command 4      # the torchrun line for 4 GPUs

``--batch`` is per process, as in DDP, so N processes take global batches of N x batch;
``--scale-lr`` applies the linear scaling rule (Goyal et al., 2017): multiply the learning
rate by N along with the global batch.  ``run_local`` starts N processes from Python
(``torch.multiprocessing.spawn``, gloo over tcp://127.0.0.1) and returns what each returned:
the tests and the chapter use it instead of ``torchrun``.

PyTorch Lightning's ``Trainer(devices=4, strategy="ddp")`` does the same steps for you:
it starts 4 processes (as ``torchrun --nproc_per_node 4`` does), calls
``init_process_group("nccl")`` in each and moves the model to ``cuda:LOCAL_RANK``
(``pick_device``), wraps the model in ``DistributedDataParallel`` (``train``), replaces the
DataLoader's sampler by a ``DistributedSampler`` and calls ``set_epoch`` each epoch, and
logs and saves checkpoints from rank 0 only.  It does not scale the learning rate: ``--batch``
there is also per process, and the rule is yours to apply.

**Model (pipeline) parallelism.**  ``pipeline_step`` splits a network into S consecutive
stages, one per process; activations go forward with ``dist.send``/``dist.recv`` and their
gradients come back the same way.  GPipe cuts the batch into M micro-batches so that stage 2
works on micro-batch 1 while stage 1 works on micro-batch 2; all forwards, then all backwards.
A stage still waits while the pipeline fills and drains: the *bubble*, a fraction
(S - 1) / (M + S - 1) of the time when all stages take equal time (``bubble_fraction``).
``gpipe_schedule`` builds the timetable, ``idle_fractions`` measures idle time from it or
from the timestamps that real stages record.

>>> bubble_fraction(stages=2, micro_batches=4)          # (2 - 1) / (4 + 2 - 1)
0.2
>>> [round(f, 6) for f in idle_fractions(gpipe_schedule(2, 4, forward=1.0, backward=2.0))]
[0.2, 0.2]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from dlcourse.command_line import CommandLine
from dlcourse.hardware.device import DEVICE_CHOICES, check_choice, pick_device, set_threads
from dlcourse.hardware.timing import Stopwatch, check_budget
from dlcourse.models.small import mlp

Event = tuple[int, str, int, float, float]   # (stage, "F" or "B", micro-batch, start, end)


# --------------------------------------------------------------------------- data parallelism

@dataclass(frozen=True)
class TrainConfig:
    """What ``train`` does: ``batch`` is per process, so the global batch is batch x processes.

    ``accumulate`` splits each process's batch into that many micro-batches (loss scaled by
    1 / accumulate, one optimiser step); ``scale_lr`` multiplies ``lr`` by the number of
    processes (the linear scaling rule).  ``device`` is "auto" (``pick_device``), "cpu" or "cuda".

    >>> TrainConfig(steps=3, batch=8).batch
    8
    """

    steps: int = 20
    batch: int = 64
    lr: float = 0.1
    scale_lr: bool = False
    accumulate: int = 1
    samples: int = 1024
    features: int = 16
    hidden: int = 32
    classes: int = 4
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "accumulate", "samples", "features", "hidden", "classes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch % self.accumulate:
            raise ValueError(f"batch {self.batch} does not split into {self.accumulate} equal micro-batches")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        check_choice(self.device)


@dataclass
class RankResult:
    """What one process ends with: its weights, its losses, and how long its steps took."""

    rank: int
    world_size: int
    lr: float
    weights: dict[str, torch.Tensor]
    losses: list[float]
    step_seconds: list[float] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        """Steps per second over all steps but the first (which pays for warming up)."""
        timed = self.step_seconds[1:] or self.step_seconds
        return len(timed) / sum(timed)




def make_dataset(samples: int, features: int, classes: int, seed: int = 0) -> TensorDataset:
    """Gaussian inputs labelled by a random linear teacher: a classification set that needs no files.

    >>> x, y = make_dataset(100, 16, 4)[:]
    >>> tuple(x.shape), tuple(y.shape), int(y.max()) < 4
    ((100, 16), (100,), True)
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, features, generator=generator)
    teacher = torch.randn(features, classes, generator=generator)
    return TensorDataset(x, (x @ teacher).argmax(dim=1))


def backend_for(device: torch.device) -> str:
    """nccl between GPUs, gloo between CPU processes.

    >>> backend_for(torch.device("cpu"))
    'gloo'
    """
    return "nccl" if device.type == "cuda" else "gloo"


def train(config: TrainConfig) -> RankResult:
    """Train the MLP of ``config`` with SGD; inside a process group, as one DDP replica.

    Outside a process group it is one process on the whole batch.  The sampler is a
    ``DistributedSampler`` either way, so the examples of a global step are the same
    whatever the number of processes.

    >>> result = train(TrainConfig(steps=3, batch=8, samples=64, device="cpu"))
    >>> result.world_size, len(result.losses), sorted(result.weights)[:2]
    (1, 3, ['0.bias', '0.weight'])
    """
    distributed = dist.is_available() and dist.is_initialized()
    rank, world_size = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = pick_device(int(os.environ.get("LOCAL_RANK", rank)), config.device)
    dataset = make_dataset(config.samples, config.features, config.classes, config.seed)
    if config.batch * world_size > config.samples:
        raise ValueError(f"a global batch of {config.batch} x {world_size} is more than the {config.samples} samples")
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=config.seed)
    loader = DataLoader(dataset, batch_size=config.batch, sampler=sampler,
                        drop_last=True)

    model = mlp([config.features, config.hidden, config.classes], nn.Tanh,
                seed=config.seed).to(device)
    network: nn.Module = DistributedDataParallel(model) if distributed else model
    lr = config.lr * world_size if config.scale_lr else config.lr
    optimizer = torch.optim.SGD(network.parameters(), lr=lr)
    # the mean over the batch: what makes N x B/N equal to B
    loss_fn = nn.CrossEntropyLoss()

    losses: list[float] = []
    step_seconds: list[float] = []
    epoch = 0
    while len(losses) < config.steps:
        sampler.set_epoch(epoch)
        for x, y in loader:
            if len(losses) == config.steps:
                break
            watch = Stopwatch(device).start()
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            total = 0.0
            for i, (xm, ym) in enumerate(zip(x.chunk(config.accumulate),
                                             y.chunk(config.accumulate))):
                last = i == config.accumulate - 1
                # DDP all-reduces in every backward unless told not to: only
                # the last micro-batch's should.
                with (network.no_sync() if distributed and not last
                      else nullcontext()):
                    loss = loss_fn(network(xm), ym) / config.accumulate
                    loss.backward()
                total += loss.item()
            optimizer.step()
            step_seconds.append(watch.seconds)
            losses.append(total)
        epoch += 1
    weights = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
    return RankResult(rank, world_size, lr, weights, losses, step_seconds)


def max_weight_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """The largest |a - b| over all tensors of two state dicts with the same keys.

    >>> max_weight_difference({"w": torch.tensor([1.0, 2.0])}, {"w": torch.tensor([1.0, 2.5])})
    0.5
    """
    if a.keys() != b.keys():
        raise ValueError(f"the weights have different names: {sorted(a)} and {sorted(b)}")
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


# --------------------------------------------------------------------------- processes

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read, close).

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned(rank: int, world_size: int, port: int, backend: str, threads: int, out: str,
             fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    set_threads(threads)
    os.environ["LOCAL_RANK"] = str(rank)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        torch.save(fn(*args), Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def run_local(fn: Callable[..., Any], nprocs: int, *args: Any, backend: str = "gloo", threads: int = 1,
              budget_s: float | None = None) -> list[Any]:
    """Run ``fn(*args)`` in ``nprocs`` new processes that form one process group; return each rank's result.

    ``fn`` must be importable (defined at the top of a module): the processes are started
    with spawn.  They meet at tcp://127.0.0.1 on a free port; each uses ``threads`` threads.
    What ``fn`` returns travels back through ``torch.save``.  ``budget_s`` bounds the whole
    run by time: processes still running when it is spent (a slow machine, or a process group
    that never forms) are stopped, and a ``RuntimeError`` says so, instead of the caller
    waiting for ever.
    """
    if nprocs < 1:
        raise ValueError(f"nprocs must be at least 1, got {nprocs}")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    check_budget(budget_s)
    with tempfile.TemporaryDirectory(prefix="dlcourse-parallel-") as out:
        context = mp.spawn(_spawned, args=(nprocs, free_port(), backend, threads, out, fn, args), nprocs=nprocs,
                           join=False)
        deadline = None if budget_s is None else time.monotonic() + budget_s
        while not context.join(timeout=None if deadline is None else max(deadline - time.monotonic(), 0.0)):
            if deadline is not None and time.monotonic() >= deadline:
                for process in context.processes:
                    process.kill()
                for process in context.processes:
                    process.join()
                raise RuntimeError(f"the {nprocs} processes of {getattr(fn, '__name__', fn)} did not finish within "
                                   f"their budget of {budget_s:g} s and were stopped: give them more time, or less "
                                   f"work")
        return [torch.load(Path(out) / f"rank{rank}.pt", weights_only=False) for rank in range(nprocs)]


def train_data_parallel(config: TrainConfig, nprocs: int, budget_s: float | None = None) -> list[RankResult]:
    """``train`` on ``nprocs`` local CPU processes (gloo): each rank's weights, losses and step times.

    ``budget_s``: as in ``run_local``, the processes are stopped and a ``RuntimeError`` raised
    when they have not finished in time.
    """
    return run_local(train, nprocs, replace(config, device="cpu"), budget_s=budget_s)


def _bucket_sizes(model_name: str, input_size: int) -> list[int]:
    from dlcourse import models

    torch.manual_seed(0)
    ddp = DistributedDataParallel(models.build(model_name))
    sample = torch.randn(1, models.model_info(model_name).input_shape[0], input_size, input_size)
    for _ in range(3):      # DDP starts with one bucket and rebuilds them once, in the order gradients arrived
        ddp(sample).sum().backward()
    logged = ddp._get_ddp_logging_data()
    if not logged.get("has_rebuilt_buckets"):
        raise RuntimeError(f"DDP did not rebuild its buckets in three steps; it reported {logged.get('bucket_sizes')}")
    return [int(size) for size in str(logged["rebuilt_bucket_sizes"]).split(",")]


def ddp_bucket_sizes(model_name: str, input_size: int = 32, budget_s: float | None = 120) -> list[int]:
    """The bytes of each gradient bucket DDP builds for a model of ``dlcourse.models``, read from DDP itself.

    Two local CPU processes (gloo) wrap the model in ``DistributedDataParallel`` with its
    default 25 MiB buckets and take three steps on one small image: DDP starts with a single
    bucket, rebuilds its buckets once in the order the gradients arrived, and reports them
    (``_get_ddp_logging_data``).  With one process DDP never rebuilds, so this takes two.

    >>> from dlcourse.models import lenet5
    >>> sizes = ddp_bucket_sizes("lenet5", input_size=32)   # 61,706 parameters: under the first 1 MiB
    >>> sizes == [4 * sum(p.numel() for p in lenet5().parameters())]
    True
    """
    return run_local(_bucket_sizes, 2, model_name, input_size, budget_s=budget_s)[0]


# --------------------------------------------------------------------------- pipeline parallelism

def bubble_fraction(stages: int, micro_batches: int) -> float:
    """GPipe's idle fraction (S - 1) / (M + S - 1) with S equal stages and M micro-batches.

    >>> bubble_fraction(4, 1), bubble_fraction(4, 8), bubble_fraction(1, 8)
    (0.75, 0.2727272727272727, 0.0)
    """
    if stages < 1 or micro_batches < 1:
        raise ValueError(f"need at least one stage and one micro-batch, got S={stages}, M={micro_batches}")
    return (stages - 1) / (micro_batches + stages - 1)


def gpipe_schedule(stages: int, micro_batches: int, forward: float = 1.0, backward: float = 2.0) -> list[Event]:
    """The GPipe timetable: each operation starts as soon as its input and its stage are ready.

    Forward of micro-batch m on stage s needs stage s - 1's forward of m; backwards run in
    reverse order after a stage's last forward and need stage s + 1's backward of m.

    >>> [(s, p, m, start, end) for s, p, m, start, end in gpipe_schedule(2, 2) if p == "F"]
    [(0, 'F', 0, 0.0, 1.0), (0, 'F', 1, 1.0, 2.0), (1, 'F', 0, 1.0, 2.0), (1, 'F', 1, 2.0, 3.0)]
    """
    bubble_fraction(stages, micro_batches)
    if forward <= 0 or backward <= 0:
        raise ValueError(f"forward and backward times must be positive, got {forward} and {backward}")
    f_end: dict[tuple[int, int], float] = {}
    b_end: dict[tuple[int, int], float] = {}
    events: list[Event] = []
    for s in range(stages):
        free = 0.0
        for m in range(micro_batches):
            start = max(free, f_end.get((s - 1, m), 0.0))
            f_end[s, m] = free = start + forward
            events.append((s, "F", m, start, free))
    for s in reversed(range(stages)):
        free = f_end[s, micro_batches - 1]
        for m in reversed(range(micro_batches)):
            start = max(free, b_end.get((s + 1, m), 0.0))
            b_end[s, m] = free = start + backward
            events.append((s, "B", m, start, free))
    return sorted(events)


def idle_fractions(events: Sequence[Event]) -> list[float]:
    """Per stage, the fraction of the whole run (first start to last end) it spent not computing.

    >>> idle_fractions([(0, "F", 0, 0.0, 1.0), (1, "F", 0, 1.0, 2.0)])
    [0.5, 0.5]
    """
    if not events:
        raise ValueError("no events to measure")
    span = max(e[4] for e in events) - min(e[3] for e in events)
    stages = max(e[0] for e in events) + 1
    busy = [0.0] * stages
    for stage, _, _, start, end in events:
        busy[stage] += end - start
    return [1 - b / span for b in busy]


@dataclass(frozen=True)
class PipelineConfig:
    """A ``depth``-layer tanh MLP of constant ``width`` cut into equal stages; MSE loss on ``batch`` examples."""

    batch: int = 64
    micro_batches: int = 4
    width: int = 64
    depth: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.batch, self.micro_batches, self.width, self.depth) < 1:
            raise ValueError(f"every size must be at least 1: {self}")
        if self.batch % self.micro_batches:
            raise ValueError(f"batch {self.batch} does not split into {self.micro_batches} equal micro-batches")


@dataclass
class StageResult:
    """One stage's gradients (named as in the unsplit model), events, and (last stage) outputs and loss."""

    stage: int
    grads: dict[str, torch.Tensor]
    events: list[Event]
    outputs: torch.Tensor | None = None
    loss: float | None = None


def pipeline_model(config: PipelineConfig) -> nn.Sequential:
    """The unsplit network of ``config``: what every stage cuts its slice from.

    >>> len(pipeline_model(PipelineConfig(depth=4)))       # 4 Linear and 3 Tanh
    7
    """
    return mlp([config.width] * (config.depth + 1), nn.Tanh, seed=config.seed)


def pipeline_data(config: PipelineConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and regression targets, both batch x width, from ``config.seed``."""
    generator = torch.Generator().manual_seed(config.seed + 1)
    return (torch.randn(config.batch, config.width, generator=generator),
            torch.randn(config.batch, config.width, generator=generator))


def stage_bounds(layers: int, linears: Sequence[int], stages: int) -> list[tuple[int, int]]:
    """Cut a Sequential of ``layers`` modules into ``stages`` slices with equal numbers of Linear layers.

    ``linears`` are the positions of the Linear layers; an activation goes with the layer before it.

    >>> stage_bounds(7, [0, 2, 4, 6], 2)
    [(0, 4), (4, 7)]
    """
    if not 1 <= stages <= len(linears) or len(linears) % stages:
        raise ValueError(f"{len(linears)} Linear layers do not split into {stages} equal stages")
    per = len(linears) // stages
    starts = [linears[i * per] for i in range(stages)]
    return list(zip(starts, starts[1:] + [layers]))


def pipeline_step(config: PipelineConfig) -> StageResult:
    """This process's stage of one GPipe forward and backward pass (call inside a process group).

    Rank s holds stage s.  Forwards of the M micro-batches flow 0 -> S-1 (``dist.send`` of the
    activations), then backwards flow S-1 -> 0 in reverse order (``dist.send`` of their
    gradients).  Each micro-batch's loss is divided by M, so the gradients are those of the
    mean loss over the whole batch.  Times of the forward and backward computations go into
    ``events`` (``time.perf_counter``, one clock for all processes of a machine).
    """
    stage, stages = dist.get_rank(), dist.get_world_size()
    model = pipeline_model(config)
    linears = [i for i, layer in enumerate(model) if isinstance(layer, nn.Linear)]
    first, last = stage_bounds(len(model), linears, stages)[stage]
    part = model[first:last]
    x, y = pipeline_data(config)
    size = config.batch // config.micro_batches
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    losses: list[torch.Tensor] = []
    events: list[Event] = []
    for _ in range(2):     # warm up: the first calls of each kernel are slow, and would hide the schedule
        warm = part(torch.randn(size, config.width, requires_grad=stage > 0))
        warm.backward(torch.randn_like(warm))
    part.zero_grad(set_to_none=True)
    dist.barrier()
    for m in range(config.micro_batches):
        if stage == 0:
            received = x[m * size:(m + 1) * size]
        else:
            received = torch.empty(size, config.width)
            dist.recv(received, src=stage - 1)
            received.requires_grad_(True)
        start = time.perf_counter()
        out = part(received)
        if stage == stages - 1:
            losses.append(nn.functional.mse_loss(out, y[m * size:(m + 1) * size]) / config.micro_batches)
        events.append((stage, "F", m, start, time.perf_counter()))
        if stage < stages - 1:
            dist.send(out.detach(), dst=stage + 1)
        inputs.append(received)
        outputs.append(out)
    for m in reversed(range(config.micro_batches)):
        if stage == stages - 1:
            start = time.perf_counter()
            losses[m].backward()
        else:
            grad = torch.empty(size, config.width)
            dist.recv(grad, src=stage + 1)
            start = time.perf_counter()
            outputs[m].backward(grad)
        events.append((stage, "B", m, start, time.perf_counter()))
        if stage > 0:
            dist.send(inputs[m].grad, dst=stage - 1)
    grads = {name: p.grad.clone() for name, p in part.named_parameters()}   # a slice keeps the layers' names
    if stage == stages - 1:
        return StageResult(stage, grads, events, torch.cat([o.detach() for o in outputs]),
                           float(sum(loss.item() for loss in losses)))
    return StageResult(stage, grads, events)


def pipeline_local(config: PipelineConfig, stages: int = 2, budget_s: float | None = None) -> list[StageResult]:
    """``pipeline_step`` on ``stages`` local CPU processes (gloo), one stage each.

    ``budget_s``: as in ``run_local``, the processes are stopped and a ``RuntimeError`` raised
    when they have not finished in time.
    """
    return run_local(pipeline_step, stages, config, budget_s=budget_s)


# --------------------------------------------------------------------------- command line

def torchrun_command(nprocs: int, steps: int = 20, batch: int = 64, scale_lr: bool = False) -> str:
    """The command that trains on ``nprocs`` processes of this machine (one per GPU, if it has them).

    >>> torchrun_command(4)
    'torchrun --standalone --nproc_per_node 4 -m dlcourse.hardware.parallel --steps 20 --batch 64'
    """
    if nprocs < 1:
        raise ValueError(f"need at least one process, got {nprocs}")
    flags = " --scale-lr" if scale_lr else ""
    return (f"torchrun --standalone --nproc_per_node {nprocs} -m dlcourse.hardware.parallel"
            f" --steps {steps} --batch {batch}{flags}")


def main(argv: Sequence[str] | None = None) -> int:
    """Train (on one process, or on this process's share under ``torchrun``), or print the torchrun line.

    Exit status 2 for a bad input, 1 when the training fails, each with one line on stderr.
    """

    parser = CommandLine(prog="python -m dlcourse.hardware.parallel", description=__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64, help="examples per process and step")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--scale-lr", action="store_true", help="multiply lr by the number of processes")
    parser.add_argument("--accumulate", type=int, default=1, help="micro-batches per process and step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--print-command", type=int, metavar="N", help="print the torchrun command for N GPUs")
    args = parser.parse_args(argv)
    try:
        if args.print_command is not None:
            print(torchrun_command(args.print_command, args.steps, args.batch, args.scale_lr))
            return 0
        config = TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, scale_lr=args.scale_lr,
                             accumulate=args.accumulate, seed=args.seed, device=args.device)
    except ValueError as error:
        parser.error(str(error))
    under_torchrun = "WORLD_SIZE" in os.environ
    try:
        if under_torchrun:
            device = pick_device(int(os.environ.get("LOCAL_RANK", "0")), config.device)
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group(backend_for(device))
        try:
            result = train(config)
        finally:
            if under_torchrun and dist.is_initialized():
                dist.destroy_process_group()
    except (ValueError, RuntimeError) as error:
        return parser.fail(error)
    if result.rank == 0:
        print(f"{result.world_size} process(es), global batch {config.batch * result.world_size}, lr {result.lr:g}: "
              f"loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}, {result.steps_per_second:.1f} steps/s")
        print("config:", asdict(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
