"""Loss surfaces and optimiser paths: gradients by hand against autograd, first steps by hand."""

import math

import numpy as np
import pytest
import torch

from dlcourse.lessons.optimisers import SURFACES, optimizer_path, ravine, rosenbrock, surface_grid


def autograd_gradient(function, point):
    leaf = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    function(leaf).backward()
    return leaf.grad.tolist()


@pytest.mark.parametrize("point", [(0.5, -1.5), (-2.0, 0.3), (1.0, 1.0)])
def test_surface_gradients_by_hand(point):
    x, y = point
    assert autograd_gradient(ravine, point) == pytest.approx([x / 10, 4 * y])
    assert autograd_gradient(rosenbrock, point) == pytest.approx(
        [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_sgd_and_momentum_first_steps_by_hand():
    sgd = optimizer_path(ravine, (-4.0, 1.0), "SGD", steps=2, lr=0.2)
    # x <- x - 0.2 x / 10, y <- y - 0.2 * 4 y
    assert sgd[1].tolist() == pytest.approx([-3.92, 0.2])
    assert sgd[2].tolist() == pytest.approx([-3.8416, 0.04])
    momentum = optimizer_path(ravine, (2.0, 1.0), "momentum", steps=2, lr=0.1, momentum=0.5)
    # b1 = g1 = (0.2, 4): (1.98, 0.6); g2 = (0.198, 2.4), b2 = 0.5 b1 + g2 = (0.298, 4.4)
    assert momentum[1].tolist() == pytest.approx([1.98, 0.6])
    assert momentum[2].tolist() == pytest.approx([1.98 - 0.0298, 0.6 - 0.44])


def test_adam_first_step_is_lr_in_each_coordinate():
    path = optimizer_path(rosenbrock, (-1.5, 2.0), "Adam", steps=1, lr=0.05)
    # both gradient entries are negative at (-1.5, 2): Adam moves each by +lr (up to eps)
    assert path[1].tolist() == pytest.approx([-1.45, 2.05], abs=1e-7)


def test_paths_agree_with_torch_optim():
    start = (-1.5, 2.0)
    ours = optimizer_path(rosenbrock, start, "RMSprop", steps=50, lr=0.01)
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    reference = torch.optim.RMSprop([point], lr=0.01)
    for _ in range(50):
        reference.zero_grad()
        rosenbrock(point).backward()
        reference.step()
    assert ours[-1].tolist() == pytest.approx(point.tolist(), abs=1e-12)


def test_gradient_descent_on_the_ravine_contracts_as_predicted():
    lr = 0.45
    path = optimizer_path(ravine, (-4.5, 1.0), "SGD", steps=10, lr=lr)
    assert path[10, 0] == pytest.approx(-4.5 * (1 - lr * 0.1) ** 10)
    assert path[10, 1] == pytest.approx((1 - lr * 4) ** 10)


def test_saddle_setting_escapes_with_adam_and_grid_values():
    setting = SURFACES["saddle"]
    end = optimizer_path(setting.function, setting.start, "Adam", setting.steps, setting.lrs["Adam"])[-1]
    assert abs(end[0]) == pytest.approx(1.0, abs=0.1)
    X, Y, Z = surface_grid(ravine, (-2, 2), (-1, 1), points=5)
    assert Z[2, 0] == pytest.approx(4 / 20) and Z[0, 2] == pytest.approx(2.0)
    assert math.isclose(float(np.min(Z)), 0.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: optimizer_path(ravine, (0.0, 0.0), "Newton", 1, 0.1), "unknown optimizer 'Newton'"),
        (lambda: optimizer_path(ravine, (0.0,), "SGD", 1, 0.1), "start must be a point"),
        (lambda: optimizer_path(ravine, (0.0, 1.0), "SGD", -1, 0.1), "steps must be an int >= 0"),
        (lambda: optimizer_path(ravine, (0.0, 1.0), "SGD", 500, 2.0), "diverged"),
        (lambda: optimizer_path(ravine, (0.0, 1.0), "momentum", 1, 0.1, momentum=1.0), "momentum must be in"),
        (lambda: surface_grid(ravine, (0, 1), (0, 1), points=1), "points must be at least 2"),
    ],
)
def test_refusals(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_optimizer_explorer(monkeypatch):
    from matplotlib.figure import Figure

    from dlcourse.lessons.optimisers import optimizer_explorer, optimizer_figure

    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    fig = optimizer_explorer()
    assert isinstance(fig, Figure) and fig.axes[0].get_xlabel() == "x" and fig.axes[0].get_ylabel() == "y"
    monkeypatch.delenv("DLCOURSE_BOOK_BUILD")
    import ipywidgets

    box = optimizer_explorer("saddle", "Adam", lr=0.05)
    assert isinstance(box, ipywidgets.VBox)
    controls = box.children[0].children + box.children[1].children
    assert [c.value for c in controls[:2]] == ["saddle", "Adam"]
    controls[2].value = 1.5  # SGD-like steps this large diverge: reported, not raised
    with pytest.raises(ValueError, match="unknown surface"):
        optimizer_figure("bowl")
