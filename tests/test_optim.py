"""dlcourse.optim: each optimiser follows torch.optim's trajectory, step for step, in float64."""

import ast
import copy
import importlib
import inspect
import math
from pathlib import Path

import pytest
import torch
from optim_cases import (  # shared with benchmarks/optim_agreement.py
    CASES,
    TOLERANCE,
    loss_of,
    make_optimizer,
    max_difference,
    run,
    starting_parameters,
)

from dlcourse import optim


@pytest.mark.parametrize("name", list(CASES))
def test_trajectory_matches_torch_for_200_steps(name):
    difference, trajectory = max_difference(name)
    assert difference <= TOLERANCE, f"{name}: max |ours - torch| = {difference:.3g}"
    assert torch.isfinite(trajectory).all()
    moved = (trajectory[-1] - trajectory[0]).abs().max().item()
    assert moved > 0.05, f"{name} barely moved ({moved:.3g}): the comparison would prove little"
    assert loss_of(parameters_from_row(trajectory[-1])) < loss_of(starting_parameters())


def parameters_from_row(row):
    """The five parameter tensors again, from one flattened row of a trajectory."""
    pieces, offset = [], 0
    for p in starting_parameters():
        pieces.append(row[offset:offset + p.numel()].view_as(p).clone().requires_grad_())
        offset += p.numel()
    return pieces


def test_every_option_is_exercised():
    options = {(ours.__name__, key) for ours, _, arguments in CASES.values() for key in arguments}
    for ours in (optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW):
        for key in inspect.signature(ours).parameters:
            if key != "params":
                assert (ours.__name__, key) in options, f"{ours.__name__}({key}=...) is never compared with torch"


@pytest.mark.parametrize("ours_class", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_arguments_and_defaults_are_torchs(ours_class):
    theirs = inspect.signature(getattr(torch.optim, ours_class.__name__)).parameters
    ours = inspect.signature(ours_class).parameters
    for name, parameter in ours.items():
        assert name in theirs
        assert parameter.default == theirs[name].default, name
    positional = [name for name, p in theirs.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert list(ours) == [name for name in positional if name in ours]      # same order too
    unsupported = {"maximize", "foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"}
    assert set(theirs) - set(ours) <= unsupported


SCHEDULERS = {
    "StepLR": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=15, gamma=0.5),
    "CosineAnnealingLR": lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40),
    "LinearLR warm-up": lambda opt: torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10),
}


@pytest.mark.parametrize("scheduler_name", list(SCHEDULERS))
@pytest.mark.parametrize("name", ["SGD Nesterov", "RMSprop centered + momentum", "AdamW AMSGrad"])
def test_a_scheduler_drives_ours_as_it_drives_torchs(scheduler_name, name):
    ours_class, torch_class, arguments = CASES[name]
    results = []
    for optimizer_class in (ours_class, torch_class):
        parameters = starting_parameters()
        optimizer = make_optimizer(optimizer_class, parameters, arguments)
        results.append(run(optimizer, parameters, 60, SCHEDULERS[scheduler_name](optimizer)))
    (ours, ours_lrs), (theirs, their_lrs) = results
    assert ours_lrs == their_lrs
    assert len({tuple(lrs) for lrs in ours_lrs}) > 2, "the scheduler never changed the learning rate"
    assert (ours - theirs).abs().max().item() <= TOLERANCE
    assert (ours[-1] - _without_scheduler(name)[-1]).abs().max().item() > 1e-3   # the schedule mattered


def _without_scheduler(name):
    ours_class, _, arguments = CASES[name]
    parameters = starting_parameters()
    return run(make_optimizer(ours_class, parameters, arguments), parameters, 60)[0]


@pytest.mark.parametrize("name", ["SGD momentum", "Adagrad lr_decay", "RMSprop centered + momentum",
                                  "Adam AMSGrad", "AdamW"])
def test_state_dict_round_trip_continues_the_same_trajectory(name):
    ours_class, torch_class, arguments = CASES[name]
    parameters = starting_parameters()
    straight, _ = run(make_optimizer(ours_class, parameters, arguments), parameters, 60)

    parameters = starting_parameters()
    first = make_optimizer(ours_class, parameters, arguments)
    run(first, parameters, 30)
    saved_parameters = [p.detach().clone() for p in parameters]
    saved_state = copy.deepcopy(first.state_dict())

    resumed_parameters = [p.requires_grad_() for p in saved_parameters]
    second = make_optimizer(ours_class, resumed_parameters, arguments)
    second.load_state_dict(saved_state)
    resumed, _ = run(second, resumed_parameters, 30)
    assert torch.equal(resumed, straight[30:])

    fresh_parameters = parameters_from_row(straight[30])
    restarted, _ = run(make_optimizer(ours_class, fresh_parameters, arguments), fresh_parameters, 30)
    assert (restarted - straight[30:]).abs().max().item() > 1e-6, "without the state the run must differ"


def test_state_dict_names_the_state_as_torch_does():
    for name in ["SGD momentum", "Adagrad", "RMSprop centered + momentum", "Adam AMSGrad", "AdamW"]:
        ours_class, torch_class, arguments = CASES[name]
        keys = []
        for optimizer_class in (ours_class, torch_class):
            parameters = starting_parameters()
            optimizer = make_optimizer(optimizer_class, parameters, arguments)
            run(optimizer, parameters, 2)
            keys.append(set(optimizer.state_dict()["state"][0]))
        assert keys[0] == keys[1], name


@pytest.mark.parametrize("optimizer_class", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_zero_grad_clears_gradients_and_parameters_without_one_are_left_alone(optimizer_class):
    used, unused = torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = optimizer_class([used, unused], lr=0.1)
    (used ** 2).sum().backward()
    assert used.grad.tolist() == [2.0, 2.0, 2.0]
    optimizer.step()
    assert unused.grad is None and unused.tolist() == [1.0, 1.0] and unused not in optimizer.state
    assert all(value < 1.0 for value in used.tolist())
    optimizer.zero_grad()
    assert used.grad is None
    (used ** 2).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert used.grad.tolist() == [0.0, 0.0, 0.0]


def test_step_returns_the_closures_loss_computed_with_gradients():
    w = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    optimizer = optim.SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 9.0
    assert w.item() == 3.0 - 0.25 * 6.0


BAD_ARGUMENTS = [
    (optim.SGD, dict(lr=-0.1), r"lr must be in \[0, inf\), got -0.1"),
    (optim.SGD, dict(lr="fast"), r"lr must be a number in \[0, inf\), got 'fast'"),
    (optim.SGD, dict(lr=math.nan), r"lr must be in \[0, inf\), got nan"),
    (optim.SGD, dict(momentum=-0.5), r"momentum must be in \[0, inf\), got -0.5"),
    (optim.SGD, dict(dampening=1.5), r"dampening must be in \[0, 1\], got 1.5"),
    (optim.SGD, dict(weight_decay=-1e-4), r"weight_decay must be in \[0, inf\), got -0.0001"),
    (optim.SGD, dict(nesterov=True), r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), r"needs momentum > 0 and dampening = 0, .*=0.1"),
    (optim.Adagrad, dict(lr_decay=-0.1), r"lr_decay must be in \[0, inf\), got -0.1"),
    (optim.Adagrad, dict(eps=-1e-10), r"eps must be in \[0, inf\), got -1e-10"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), r"initial_accumulator_value must be in \[0, inf\)"),
    (optim.RMSprop, dict(alpha=1.0), r"alpha must be in \[0, 1\), got 1.0"),
    (optim.RMSprop, dict(alpha=-0.1), r"alpha must be in \[0, 1\), got -0.1"),
    (optim.RMSprop, dict(momentum=-0.9), r"momentum must be in \[0, inf\), got -0.9"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\), got -0.1"),
    (optim.Adam, dict(betas=0.9), r"betas must be a pair \(beta1, beta2\), each in \[0, 1\), got 0.9"),
    (optim.Adam, dict(eps=-1.0), r"eps must be in \[0, inf\), got -1.0"),
    (optim.AdamW, dict(weight_decay=-0.01), r"weight_decay must be in \[0, inf\), got -0.01"),
    (optim.AdamW, dict(lr=-1), r"lr must be in \[0, inf\), got -1"),
]


@pytest.mark.parametrize("optimizer_class, arguments, message", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_with_the_allowed_range(optimizer_class, arguments, message):
    with pytest.raises(ValueError, match=message):
        optimizer_class([torch.zeros(1, requires_grad=True)], **arguments)


def test_sparse_gradients_are_refused_clearly():
    embedding = torch.nn.Embedding(5, 2, sparse=True)
    optimizer = optim.Adam(embedding.parameters())
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse gradients are not supported"):
        optimizer.step()


SOURCE = Path(optim.__file__).read_text()


def test_the_source_uses_nothing_of_torch_optim_but_the_optimizer_base_class():
    tree = ast.parse(SOURCE)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("torch.optim"):
            assert node.module == "torch.optim" and [a.name for a in node.names] == ["Optimizer"]
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("torch.optim") for a in node.names)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "optim":
            raise AssertionError(f"torch.optim.{node.attr} is used at line {node.lineno}")
    for word in ("_functional", "_single_tensor", "_multi_tensor", "_fused", "foreach"):
        assert word not in SOURCE.replace("``foreach``", "")


def test_no_torch_optim_update_code_runs_during_a_step(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.optim's update code was called")

    for function in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        module = importlib.import_module(f"torch.optim.{function}")
        for name in (function, f"_single_tensor_{function}", f"_multi_tensor_{function}"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)
    for name in CASES:
        if name in ("SGD Nesterov", "Adagrad lr_decay", "RMSprop centered + momentum", "Adam AMSGrad", "AdamW"):
            ours_class, _, arguments = CASES[name]
            parameters = starting_parameters()
            run(make_optimizer(ours_class, parameters, arguments), parameters, 2)
    with pytest.raises(AssertionError, match="update code was called"):        # the trap is armed
        parameters = starting_parameters()
        run(make_optimizer(torch.optim.Adam, parameters, dict(lr=0.1)), parameters, 1)
