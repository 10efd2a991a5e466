"""The scalar autograd engine against torch.autograd and finite differences."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.autograd import Value, gradient_check, numerical_gradient, relative_difference

UNARY = ["tanh", "sigmoid", "relu", "exp", "square", "neg"]
BINARY = ["+", "-", "*", "/"]


def apply_unary(name, x, library):
    if name == "square":
        return x**2
    if name == "neg":
        return -x
    if library == "torch":
        return getattr(torch, name)(x)
    return getattr(x, name)()


def apply_binary(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    return a * b if op == "*" else a / b


@st.composite
def programs(draw):
    """A random straight-line program over three inputs; every step may reuse earlier values."""
    steps = []
    for index in range(draw(st.integers(1, 8))):
        available = 3 + index
        if draw(st.booleans()):
            steps.append(("unary", draw(st.sampled_from(UNARY)), draw(st.integers(0, available - 1))))
        else:
            steps.append(("binary", draw(st.sampled_from(BINARY)), draw(st.integers(0, available - 1)),
                          draw(st.integers(0, available - 1))))
    return steps


def run(program, inputs, library):
    values = list(inputs)
    for step in program:
        if step[0] == "unary":
            values.append(apply_unary(step[1], values[step[2]], library))
        else:
            a, b = values[step[2]], values[step[3]]
            denominator = b.data if library == "ours" else b.item()
            if step[1] == "/" and abs(denominator) < 0.1:
                b = b * b + 1.0  # keep divisions well away from zero
            values.append(apply_binary(step[1], a, b))
    return values[-1]


@settings(max_examples=200, deadline=None)
@given(programs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_programs_match_torch_autograd(program, point):
    ours = [Value(x) for x in point]
    try:
        out = run(program, ours, "ours")
    except OverflowError:  # exp of exp overflows a float (math.exp raises where torch gives inf)
        return
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    expected = run(program, theirs, "torch")
    if not math.isfinite(out.data) or abs(out.data) > 1e6:
        return  # exp of exp can overflow; not a question of gradients
    out.backward()
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-9, abs=1e-12)
    for mine, tensor in zip(ours, theirs):
        reference = 0.0 if tensor.grad is None else tensor.grad.item()
        assert mine.grad == pytest.approx(reference, rel=1e-7, abs=1e-9)


def test_two_two_one_network_with_binary_cross_entropy_matches_torch():
    x = [0.5, -1.0]
    w1 = [[0.1, -0.2], [0.4, 0.3]]  # w1[i][j]: input i -> hidden unit j
    b1 = [0.0, 0.1]
    w2 = [0.7, -0.5]
    b2 = 0.2
    target = 1.0

    def forward(params, lib_sigmoid, lib_log):
        (w11, w12, w21, w22, c1, c2, v1, v2, c) = params
        a1 = lib_sigmoid(x[0] * w11 + x[1] * w21 + c1)
        a2 = lib_sigmoid(x[0] * w12 + x[1] * w22 + c2)
        y_hat = lib_sigmoid(a1 * v1 + a2 * v2 + c)
        return -(target * lib_log(y_hat) + (1 - target) * lib_log(1 - y_hat)), a1, y_hat

    start = [w1[0][0], w1[0][1], w1[1][0], w1[1][1], b1[0], b1[1], w2[0], w2[1], b2]
    ours = [Value(v) for v in start]
    loss, a1, y_hat = forward(ours, lambda v: v.sigmoid(), lambda v: v.log())
    loss.backward()
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    torch_loss, _, _ = forward(theirs, torch.sigmoid, torch.log)
    torch_loss.backward()
    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    for mine, tensor in zip(ours, theirs):
        assert mine.grad == pytest.approx(tensor.grad.item(), rel=1e-10)
    # the textbook formulas: dL/dv1 = (y_hat - y) a1 and dL/dw11 = (y_hat - y) v1 a1 (1 - a1) x1
    assert ours[6].grad == pytest.approx((y_hat.data - target) * a1.data)
    assert ours[0].grad == pytest.approx((y_hat.data - target) * w2[0] * a1.data * (1 - a1.data) * x[0])


def test_reused_values_accumulate_gradients():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    y.backward()  # a second backward starts again from zero
    assert x.grad == 7.0


def test_gradient_check_catches_a_wrong_backward_rule():
    def wrong_tanh(x):
        out = Value(math.tanh(x.data), (x,), "tanh")

        def _backward():
            x.grad += out.grad  # forgot the factor 1 - tanh(x)^2

        out._backward = _backward
        return out

    assert gradient_check(lambda v: v[0].tanh() * v[1], [0.7, 1.3]) < 1e-7
    assert gradient_check(lambda v: wrong_tanh(v[0]) * v[1], [0.7, 1.3]) > 0.1


def test_a_rule_off_by_a_factor_of_two_gives_one_half():
    """|2g - g| / max(|2g|, |g|) = 1/2 whichever way the slip goes; a wrong sign gives 2."""
    def sigmoid_with_slip(x, factor):
        out = x.sigmoid()
        s = out.data

        def _backward():
            x.grad += factor * s * (1 - s) * out.grad

        out._backward = _backward
        return out

    for factor in (2.0, 0.5):
        error = gradient_check(lambda v, f=factor: sigmoid_with_slip(v[0], f) * v[1], [0.3, -0.8])
        assert error == pytest.approx(0.5, abs=1e-7)
    assert gradient_check(lambda v: sigmoid_with_slip(v[0], -1.0) * v[1], [0.3, -0.8]) == pytest.approx(2.0)
    assert relative_difference([1.0, 6.0], [1.0, 3.0]) == 0.5
    assert relative_difference([1.0, 1.5], [1.0, 3.0]) == 0.5
    assert relative_difference([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="same length, got 1 and 2"):
        relative_difference([1.0], [1.0, 2.0])


def test_numerical_gradient_by_hand():
    assert numerical_gradient(lambda v: v[0] * v[0] * v[1], [3.0, 2.0]) == pytest.approx([12.0, 9.0])
    with pytest.raises(ValueError, match="eps must be positive"):
        numerical_gradient(lambda v: v[0], [1.0], eps=0)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Value("3"), "Value holds a real number"),
        (lambda: Value(True), "Value holds a real number"),
        (lambda: Value(2.0) ** Value(2.0), "only a constant exponent"),
        (lambda: Value(-1.0).log(), "log needs a positive value"),
    ],
)
def test_bad_input(build, message):
    with pytest.raises(ValueError, match=message):
        build()
