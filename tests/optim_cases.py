"""What dlcourse.optim is compared with torch.optim on: the cases, the loss, the run; one home for both users.

``tests/test_optim.py`` requires every case to follow torch's trajectory to ``TOLERANCE``;
``benchmarks/optim_agreement.py`` prints how closely each does.  Imported as
``tests.optim_cases`` (the benchmark runs as ``python -m benchmarks.optim_agreement`` from the
repository) and as ``optim_cases`` by the tests, beside it.
"""

import torch

from dlcourse import optim

STEPS = 200
TOLERANCE = 1e-9

# name: (our class, torch's class, arguments).  Every option of every optimiser appears at least once.
CASES = {
    "SGD": (optim.SGD, torch.optim.SGD, dict(lr=0.02)),
    "SGD momentum": (optim.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9)),
    "SGD momentum + dampening": (optim.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.3)),
    "SGD Nesterov": (optim.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "SGD weight decay": (optim.SGD, torch.optim.SGD, dict(lr=0.02, weight_decay=0.05)),
    "SGD Nesterov + weight decay": (optim.SGD, torch.optim.SGD,
                                    dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.05)),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05)),
    "Adagrad lr_decay": (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05, lr_decay=0.01)),
    "Adagrad weight decay": (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05, weight_decay=0.05)),
    "Adagrad initial accumulator": (optim.Adagrad, torch.optim.Adagrad,
                                    dict(lr=0.05, initial_accumulator_value=0.1, eps=1e-6)),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.003)),
    "RMSprop centered": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.003, alpha=0.9, centered=True)),
    "RMSprop momentum": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.001, momentum=0.8)),
    "RMSprop centered + momentum": (optim.RMSprop, torch.optim.RMSprop,
                                    dict(lr=0.001, momentum=0.8, centered=True, eps=1e-6)),
    "RMSprop weight decay": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.003, weight_decay=0.05)),
    "Adam": (optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    "Adam betas": (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)),
    "Adam weight decay": (optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05)),
    "Adam AMSGrad": (optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    "AdamW": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    "AdamW decay 0.1": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    "AdamW AMSGrad": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
}


def starting_parameters():
    """A tanh MLP 3-6-1 (four tensors) and a 2-vector for a Rosenbrock ravine, in float64."""
    generator = torch.Generator().manual_seed(0)
    w1 = torch.randn(3, 6, generator=generator, dtype=torch.float64) * 0.5
    b1 = torch.randn(6, generator=generator, dtype=torch.float64) * 0.1
    w2 = torch.randn(6, 1, generator=generator, dtype=torch.float64) * 0.5
    b2 = torch.zeros(1, dtype=torch.float64)
    ravine = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    return [t.requires_grad_() for t in (w1, b1, w2, b2, ravine)]


def _data():
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(32, 3, generator=generator, dtype=torch.float64)
    inputs = inputs * torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64)    # badly scaled features
    targets = torch.sin(inputs[:, :1] * 2) + 0.5 * torch.tanh(inputs[:, 1:2])
    return inputs, targets


INPUTS, TARGETS = _data()


def loss_of(parameters):
    """Non-convex and badly conditioned: a tanh MLP's squared error (saddles where hidden units agree,
    features scaled 16:1) plus 0.01 x Rosenbrock (1 - x)^2 + 100 (y - x^2)^2 (a curved ravine)."""
    w1, b1, w2, b2, (x, y) = parameters
    prediction = torch.tanh(INPUTS @ w1 + b1) @ w2 + b2
    fit = ((prediction - TARGETS) ** 2).mean()
    return fit + 0.01 * ((1 - x) ** 2 + 100 * (y - x ** 2) ** 2)


def make_optimizer(optimizer_class, parameters, arguments):
    """Two groups: the weights at the given lr, biases and the ravine vector at half of it."""
    w1, b1, w2, b2, ravine = parameters
    groups = [{"params": [w1, w2]}, {"params": [b1, b2, ravine], "lr": arguments["lr"] / 2}]
    if optimizer_class.__module__.startswith("torch.optim"):
        arguments = dict(arguments, foreach=False)       # torch's single-tensor code, the one we follow
    return optimizer_class(groups, **arguments)


def run(optimizer, parameters, steps, scheduler=None):
    """Parameters after each step, flattened into one row per step (row 0: the start), and the lrs used."""
    rows, lrs = [torch.cat([p.detach().flatten() for p in parameters])], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(parameters).backward()
        lrs.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        rows.append(torch.cat([p.detach().flatten() for p in parameters]))
    return torch.stack(rows), lrs


def max_difference(name, steps=STEPS):
    """max |ours - torch's| over all parameters and all steps, and our trajectory."""
    ours_class, torch_class, arguments = CASES[name]
    ours_parameters, torch_parameters = starting_parameters(), starting_parameters()
    ours, _ = run(make_optimizer(ours_class, ours_parameters, arguments), ours_parameters, steps)
    theirs, _ = run(make_optimizer(torch_class, torch_parameters, arguments), torch_parameters, steps)
    return (ours - theirs).abs().max().item(), ours
