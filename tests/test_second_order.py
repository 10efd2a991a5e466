"""dlcourse.second_order: Newton's method walks into saddles; the Hessian of a real network is huge."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.models import build
from dlcourse.second_order import (
    HessianSize,
    double_well,
    gradient_and_hessian,
    gradient_descent_path,
    hessian_entries,
    hessian_size,
    newton_path,
    newton_step,
)


def point(*values):
    return torch.tensor(values, dtype=torch.float64)


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@given(st.floats(-3, 3), st.floats(-3, 3))
@settings(max_examples=30, deadline=None)
def test_gradient_and_hessian_match_the_hand_derived_ones(x, y):
    g, H = gradient_and_hessian(double_well, point(x, y))
    assert torch.allclose(g, point(x ** 3 - x, y), rtol=1e-12, atol=1e-12)
    assert torch.allclose(H, torch.tensor([[3 * x ** 2 - 1, 0.0], [0.0, 1.0]], dtype=torch.float64), atol=1e-12)

    g, H = gradient_and_hessian(rosenbrock, point(x, y))
    by_hand_g = point(-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2))
    by_hand_H = torch.tensor([[2 - 400 * (y - x ** 2) + 800 * x ** 2, -400 * x], [-400 * x, 200.0]],
                             dtype=torch.float64)
    assert torch.allclose(g, by_hand_g, rtol=1e-12, atol=1e-9)
    assert torch.allclose(H, by_hand_H, rtol=1e-12, atol=1e-9)


def test_one_newton_step_lands_on_the_minimum_of_a_quadratic_bowl():
    # f(p) = 1/2 p^T A p - b^T p, minimised where A p = b: p = A^-1 b = (1, 7) / 11 for these A and b
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    b = point(1.0, 2.0)

    def bowl(p):
        return 0.5 * p @ A @ p - b @ p

    for start in (point(10.0, -7.0), point(0.0, 0.0), point(-1e3, 5e2)):
        assert torch.allclose(newton_step(bowl, start), point(1 / 11, 7 / 11), rtol=0, atol=1e-12)
    assert not torch.allclose(newton_step(bowl, point(10.0, -7.0), damping=1.0), point(1 / 11, 7 / 11), atol=1e-3)


@given(st.floats(0.01, 0.44), st.sampled_from([-1.0, 1.0]), st.floats(-3, 3))
@settings(max_examples=30, deadline=None)
def test_newton_walks_into_the_saddle_and_gradient_descent_slides_off(size, sign, y):
    start = point(sign * size, y)      # inside |x| < 1/sqrt(5), where Newton's x-map 2x^3 / (3x^2 - 1) shrinks x

    newton = newton_path(double_well, start, steps=20)[-1]
    assert newton.abs().max().item() < 1e-12                                     # the saddle (0, 0)
    g, H = gradient_and_hessian(double_well, newton)
    assert g.abs().max().item() < 1e-12                                          # a critical point ...
    eigenvalues = torch.linalg.eigvalsh(H)
    assert eigenvalues.min().item() < -0.5 and eigenvalues.max().item() > 0.5     # ... and not a minimum

    descent = gradient_descent_path(double_well, start, steps=300, lr=0.1)[-1]
    assert torch.allclose(descent, point(sign, 0.0), atol=1e-6)                  # the minimum on start's side
    assert double_well(descent).item() == pytest.approx(-0.25, abs=1e-12)
    assert double_well(newton).item() == pytest.approx(0.0, abs=1e-20)          # Newton stopped 1/4 higher


def test_damping_above_the_negative_curvature_escapes_the_saddle():
    # H + 2 I = diag(3 x^2 + 1, 3) is positive definite everywhere, so every step goes downhill
    damped = newton_path(double_well, point(0.3, 0.5), steps=100, damping=2.0)
    values = [double_well(p).item() for p in damped]
    assert all(later <= earlier for earlier, later in zip(values, values[1:]))
    assert torch.allclose(damped[-1], point(1.0, 0.0), atol=1e-8)


def test_a_step_where_the_hessian_is_singular_is_refused():
    # at x = 1/sqrt(3) the curvature along x is 0
    with pytest.raises(ValueError, match=r"H \+ damping I is singular .* try a damping > 0"):
        newton_step(double_well, point(3 ** -0.5, 0.0))
    assert torch.isfinite(newton_step(double_well, point(3 ** -0.5, 0.0), damping=0.5)).all()


def test_paths_start_at_start_and_have_one_row_per_step():
    start = point(0.3, 0.5)
    assert newton_path(double_well, start, steps=0).tolist() == [[0.3, 0.5]]
    path = gradient_descent_path(double_well, start, steps=3, lr=0.1)
    assert path.shape == (4, 2) and path[0].tolist() == [0.3, 0.5]
    assert path[1].tolist() == pytest.approx([0.3 - 0.1 * (0.3 ** 3 - 0.3), 0.5 - 0.1 * 0.5], abs=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: newton_path(double_well, point(0.3, 0.5), steps=-1), "steps must be an int >= 0, got -1"),
    (lambda: newton_path(double_well, point(0.3, 0.5), steps=2.5), "steps must be an int >= 0, got 2.5"),
    (lambda: newton_step(double_well, point(0.3, 0.5), damping=-1), "damping must be a number >= 0, got -1"),
    (lambda: gradient_descent_path(double_well, point(0.3), 1, lr=-0.1), "lr must be a number >= 0, got -0.1"),
    (lambda: newton_step(double_well, torch.tensor([1, 2])), "point must be a 1-D floating-point tensor"),
    (lambda: newton_step(double_well, point(1.0, 2.0).reshape(1, 2)), "point must be a 1-D floating-point tensor"),
    (lambda: hessian_entries(-5), "num_params must be an int >= 0, got -5"),
    (lambda: hessian_entries(2.0), "num_params must be an int >= 0, got 2.0"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_hessian_entries_is_n_squared():
    assert hessian_entries(0) == 0
    assert hessian_entries(3) == 9
    assert hessian_entries(138_357_544) == 19_142_809_981_711_936      # VGG-16: 138,357,544^2


def test_hessian_size_of_a_small_model_counts_its_parameters():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))  # 8 + 3 parameters
    assert hessian_size(model, (1, 3)) == HessianSize(params=11, entries=121, float32_bytes=484)


def test_the_hessian_of_resnet_50_takes_petabytes():
    size = hessian_size(build("resnet50", device="meta"), (1, 3, 224, 224))
    n = 25_557_032                                      # ResNet-50's parameters (He et al. / torchvision)
    assert size.params == n
    assert size.entries == n * n == 653_161_884_649_024                 # about 6.53e14
    assert size.float32_bytes == 4 * n * n == 2_612_647_538_596_096     # about 2.6 PB, 4 bytes an entry
