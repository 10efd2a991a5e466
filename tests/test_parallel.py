"""Data parallelism equals one process on the whole batch; the pipeline equals the unsplit model.

The two tests that start processes start two each (CI has two cores) and take a few seconds.
"""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from dlcourse.hardware import parallel
from dlcourse.hardware.parallel import (
    PipelineConfig,
    TrainConfig,
    bubble_fraction,
    gpipe_schedule,
    idle_fractions,
    max_weight_difference,
)
from dlcourse.models.small import mlp

REPO = Path(__file__).resolve().parents[1]
CONFIG = TrainConfig(steps=8, batch=64, lr=0.5, samples=512, device="cpu")
ROUND_OFF = 1e-6     # float32: the sums are only added in a different order


def test_two_processes_on_half_batches_end_where_one_process_on_the_whole_batch_ends():
    one = parallel.train(CONFIG)
    # Each of 2 processes takes 32 examples a step; lr 0.25 x 2 by the linear scaling rule is one's 0.5.
    ranks = parallel.train_data_parallel(replace(CONFIG, batch=32, lr=0.25, scale_lr=True), nprocs=2)
    assert [r.rank for r in ranks] == [0, 1] and [r.world_size for r in ranks] == [2, 2]
    assert [r.lr for r in ranks] == [0.5, 0.5]
    assert max_weight_difference(ranks[0].weights, ranks[1].weights) == 0.0     # DDP keeps the replicas equal
    assert max_weight_difference(ranks[0].weights, one.weights) < ROUND_OFF
    # the loss of a global step is the mean of the two halves' mean losses
    halves = torch.tensor([ranks[0].losses, ranks[1].losses]).mean(dim=0)
    assert torch.allclose(halves, torch.tensor(one.losses), atol=ROUND_OFF)
    # and the comparison is not empty: the weights moved far more than the tolerance
    start = mlp([CONFIG.features, CONFIG.hidden, CONFIG.classes], nn.Tanh, seed=CONFIG.seed).state_dict()
    assert max_weight_difference(start, one.weights) > 1e-2
    assert all(len(r.step_seconds) == CONFIG.steps and r.steps_per_second > 0 for r in ranks)


@pytest.mark.parametrize("micro_batches", [2, 4])
def test_accumulating_micro_batches_with_the_loss_scaled_matches_the_whole_batch(micro_batches):
    one = parallel.train(CONFIG)
    accumulated = parallel.train(replace(CONFIG, accumulate=micro_batches))
    assert max_weight_difference(accumulated.weights, one.weights) < ROUND_OFF
    assert torch.allclose(torch.tensor(accumulated.losses), torch.tensor(one.losses), atol=ROUND_OFF)


def test_one_process_keeps_the_learning_rate_and_learns():
    result = parallel.train(replace(CONFIG, scale_lr=True, steps=30))
    assert result.world_size == 1 and result.lr == CONFIG.lr
    assert sum(result.losses[-5:]) < sum(result.losses[:5])


def test_the_pipeline_gives_the_unsplit_models_outputs_loss_and_gradients():
    config = PipelineConfig(batch=24, micro_batches=4, width=8, depth=4, seed=3)
    stages = parallel.pipeline_local(config, stages=2)
    model = parallel.pipeline_model(config)
    x, y = parallel.pipeline_data(config)
    outputs = model(x)
    loss = torch.nn.functional.mse_loss(outputs, y)      # the mean over all 24 examples at once
    loss.backward()

    assert torch.allclose(stages[1].outputs, outputs, atol=1e-6)
    assert stages[1].loss == pytest.approx(loss.item(), abs=1e-6)
    assert stages[0].outputs is None
    grads = {**stages[0].grads, **stages[1].grads}
    assert sorted(stages[0].grads) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        assert torch.allclose(grads[name], p.grad, atol=1e-6), name
    # each stage recorded a forward and a backward per micro-batch, backwards in reverse order
    for stage in stages:
        assert [(e[1], e[2]) for e in stage.events] == [("F", m) for m in range(4)] + [("B", m) for m in (3, 2, 1, 0)]
        assert all(start <= end for *_, start, end in stage.events)


def test_bubble_fraction_by_hand():
    assert bubble_fraction(2, 4) == pytest.approx(1 / 5)      # (2 - 1) / (4 + 2 - 1)
    assert bubble_fraction(4, 8) == pytest.approx(3 / 11)
    assert bubble_fraction(2, 1) == pytest.approx(1 / 2)      # no pipelining: one stage works at a time
    assert bubble_fraction(1, 5) == 0.0


def test_the_gpipe_timetable_for_two_stages_and_two_micro_batches_by_hand():
    # F: stage 0 at 0-1, 1-2; stage 1 at 1-2, 2-3.  B (2 units, reverse order): stage 1 does m=1 at 3-5
    # and m=0 at 5-7; stage 0 does m=1 at 5-7 (after stage 1's) and m=0 at 7-9.  Makespan 9 = (M+S-1)(1+2).
    events = gpipe_schedule(2, 2, forward=1.0, backward=2.0)
    assert [e for e in events if e[1] == "B"] == [(0, "B", 0, 7.0, 9.0), (0, "B", 1, 5.0, 7.0),
                                                  (1, "B", 0, 5.0, 7.0), (1, "B", 1, 3.0, 5.0)]
    # each stage busy 2 x (1 + 2) = 6 of 9: idle 1/3 = (2 - 1) / (2 + 2 - 1)
    assert idle_fractions(events) == pytest.approx([1 / 3, 1 / 3])


@pytest.mark.parametrize("stages, micro_batches, forward, backward",
                         [(2, 1, 1.0, 2.0), (2, 8, 0.5, 1.5), (3, 4, 1.0, 1.0), (4, 16, 2.0, 3.0)])
def test_the_timetables_idle_fraction_is_the_bubble_formula(stages, micro_batches, forward, backward):
    events = gpipe_schedule(stages, micro_batches, forward, backward)
    assert len(events) == 2 * stages * micro_batches
    assert max(e[4] for e in events) == pytest.approx((micro_batches + stages - 1) * (forward + backward))
    expected = (stages - 1) / (micro_batches + stages - 1)
    assert idle_fractions(events) == pytest.approx([expected] * stages)


def test_print_command_prints_the_torchrun_line(capsys):
    assert parallel.main(["--print-command", "4", "--steps", "5"]) == 0
    assert capsys.readouterr().out.strip() == (
        "torchrun --standalone --nproc_per_node 4 -m dlcourse.hardware.parallel --steps 5 --batch 64")


@pytest.mark.parametrize("argv, status, message", [
    (["--steps", "0"], 2, "steps must be at least 1, got 0"),                       # a bad input
    (["--print-command", "0"], 2, "need at least one process, got 0"),
    (["--device", "gpu"], 2, "argument --device: invalid choice: 'gpu'"),
    (["--steps", "2", "--batch", "2000", "--device", "cpu"], 1, "more than the 1024 samples"),   # the work fails
])
def test_command_line_errors_are_one_line_with_exit_status_2_or_1(capsys, argv, status, message):
    try:
        code = parallel.main(argv)
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err
    assert code == status and err.count("\n") == 1
    assert err.startswith("dlcourse.hardware.parallel: error: ") and message in err


def test_wrong_sizes_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="does not split into 3"):
        TrainConfig(batch=64, accumulate=3)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="more than the 32 samples"):
        parallel.train(TrainConfig(batch=64, samples=32, device="cpu"))
    with pytest.raises(ValueError, match="do not split into 3 equal stages"):
        parallel.stage_bounds(7, [0, 2, 4, 6], 3)
    with pytest.raises(ValueError, match="different names"):
        max_weight_difference({"a": torch.zeros(1)}, {"b": torch.zeros(1)})
    with pytest.raises(ValueError, match="nprocs must be at least 1"):
        parallel.run_local(parallel.train, 0, CONFIG)


@pytest.mark.slow
def test_torchrun_trains_on_two_processes():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "dlcourse.hardware.parallel", "--steps", "4", "--batch", "16", "--device", "cpu"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 process(es), global batch 32, lr 0.1" in done.stdout
