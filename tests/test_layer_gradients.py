"""The NumPy backward passes of softmax, convolution and max pooling against torch.autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcourse.layer_gradients import (
    conv2d_backward,
    conv2d_forward,
    correlate2d,
    dilate2d,
    full_convolve2d,
    maxpool2d_backward,
    maxpool2d_forward,
    softmax_jacobian,
)
from dlcourse.lessons.backprop import maxpool_gradient_figure


def torch_conv(x, w, dy, b=None, stride=1):
    """PyTorch's output and gradients of conv2d (x: C_in x H x W, w: C_out x C_in x kh x kw, b: C_out)."""
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(np.zeros(w.shape[0]) if b is None else b, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(tx[None], tw, tb, stride=stride)[0]
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def torch_pool(x, dy, size, stride):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = F.max_pool2d(tx, size, stride)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), tx.grad.numpy()


@pytest.mark.parametrize("kh, kw", [(1, 1), (2, 2), (3, 3), (5, 5), (2, 3), (4, 1)])
@pytest.mark.parametrize("c_in, c_out", [(1, 1), (3, 2), (2, 4)])
def test_convolution_matches_torch_autograd(kh, kw, c_in, c_out):
    rng = np.random.default_rng(100 * kh + 10 * kw + c_in)
    h, w_ = rng.integers(kh, kh + 6), rng.integers(kw, kw + 6)
    x = rng.normal(size=(c_in, h, w_))
    w = rng.normal(size=(c_out, c_in, kh, kw))
    dy = rng.normal(size=(c_out, h - kh + 1, w_ - kw + 1))
    b = rng.normal(size=c_out)
    y_torch, dx_torch, dw_torch, db_torch = torch_conv(x, w, dy, b)
    dx, dw, db = conv2d_backward(x, w, dy)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (c_out,)
    np.testing.assert_allclose(conv2d_forward(x, w, b), y_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dw_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db_torch, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("size", [7, 8, 9])
def test_strided_convolution_matches_torch_autograd(stride, k, size):
    """Sizes where the windows reach the last row and where they do not (those inputs get 0)."""
    rng = np.random.default_rng(100 * stride + 10 * k + size)
    x, w = rng.normal(size=(2, size, size + 1)), rng.normal(size=(3, 2, k, k))
    out = ((size - k) // stride + 1, (size + 1 - k) // stride + 1)
    dy = rng.normal(size=(3,) + out)
    y_torch, dx_torch, dw_torch, db_torch = torch_conv(x, w, dy, stride=stride)
    np.testing.assert_allclose(conv2d_forward(x, w, stride=stride), y_torch, rtol=1e-12, atol=1e-12)
    dx, dw, db = conv2d_backward(x, w, dy, stride=stride)
    np.testing.assert_allclose(dx, dx_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dw_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db_torch, rtol=1e-12, atol=1e-12)


def test_dilation_puts_zeros_between_the_values():
    g = np.array([[1.0, 2.0, 3.0]])
    assert dilate2d(g, 3).tolist() == [[1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 3.0]]
    assert dilate2d(g, 1).tolist() == g.tolist()


def test_single_channel_arrays_give_single_channel_gradients():
    x = np.arange(16.0).reshape(4, 4)
    w = np.array([[1.0, 2.0], [-1.0, 0.5]])
    dy = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 0.5, 1.0]])
    dx, dw, db = conv2d_backward(x, w, dy)
    assert dx.shape == (4, 4) and dw.shape == (2, 2) and np.ndim(db) == 0
    _, dx_torch, dw_torch, db_torch = torch_conv(x[None], w[None, None], dy[None])
    np.testing.assert_allclose(dx, dx_torch[0])
    np.testing.assert_allclose(dw, dw_torch[0, 0])
    # by hand: dw[0, 0] = sum_ij dy[i, j] x[i, j]
    #   = (0 + 0 - 2) + (8 + 5 + 0) + (0 + 4.5 + 10) = 25.5
    assert dw[0, 0] == 25.5
    # dx[0, 0] met only w[0, 0], at output (0, 0); dx[3, 3] only w[1, 1], at output (2, 2)
    assert dx[0, 0] == 1.0 and dx[3, 3] == 0.5
    # db = the sum of dy = 1 - 1 + 2 + 1 + 0.5 + 1
    assert db == db_torch[0] == 4.5


def test_full_convolution_has_the_shape_of_the_input_and_is_the_flipped_kernel_on_a_spike():
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    spike = np.zeros((3, 3))
    spike[1, 1] = 1.0
    out = full_convolve2d(spike, w)
    assert out.shape == (3 + 2 - 1, 3 + 3 - 1)
    np.testing.assert_array_equal(out[1:3, 1:4], w)  # a spike copies the kernel as it is


def unflipped_input_gradient(x, w, dy):
    """A typical mistake: the full correlation of dy with w, forgetting to turn w around."""
    kh, kw = w.shape
    return correlate2d(np.pad(dy, ((kh - 1, kh - 1), (kw - 1, kw - 1))), w)


def flipped_weight_gradient(x, w, dy):
    """The opposite mistake: dL/dw as a true convolution of x with dy (dy turned around)."""
    return correlate2d(x, dy[::-1, ::-1])


def relative_difference(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max())


@pytest.mark.parametrize("k", [2, 3, 5])
def test_a_kernel_that_is_not_flipped_is_caught(k):
    rng = np.random.default_rng(k)
    x, w = rng.normal(size=(8, 8)), rng.normal(size=(k, k))
    dy = rng.normal(size=(8 - k + 1, 8 - k + 1))
    _, dx_torch, dw_torch, _ = torch_conv(x[None], w[None, None], dy[None])
    right_dx, right_dw, _ = conv2d_backward(x, w, dy)
    assert relative_difference(right_dx, dx_torch[0]) < 1e-12
    assert relative_difference(right_dw, dw_torch[0, 0]) < 1e-12
    assert relative_difference(unflipped_input_gradient(x, w, dy), dx_torch[0]) > 0.1
    assert relative_difference(flipped_weight_gradient(x, w, dy), dw_torch[0, 0]) > 0.1


def test_a_kernel_symmetric_under_a_half_turn_hides_the_missing_flip():
    """Why the checks use random kernels: on this one the mistake gives the right answer."""
    x, dy = np.arange(25.0).reshape(5, 5), np.arange(16.0).reshape(4, 4)
    symmetric = np.array([[1.0, 2.0], [2.0, 1.0]])
    np.testing.assert_array_equal(symmetric[::-1, ::-1], symmetric)
    np.testing.assert_allclose(unflipped_input_gradient(x, symmetric, dy), conv2d_backward(x, symmetric, dy)[0])


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 3), (2, 1), (3, 2), (2, 3)])
def test_max_pooling_matches_torch_autograd(size, stride):
    rng = np.random.default_rng(10 * size + stride)
    x = rng.normal(size=(2, 3, 9, 8))
    y_torch, _ = torch_pool(x, np.zeros(F.max_pool2d(torch.tensor(x), size, stride).shape), size, stride)
    dy = rng.normal(size=y_torch.shape)
    _, dx_torch = torch_pool(x, dy, size, stride)
    np.testing.assert_array_equal(maxpool2d_forward(x, size, stride), y_torch)
    np.testing.assert_allclose(maxpool2d_backward(x, dy, size, stride), dx_torch, rtol=1e-15, atol=0)


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 2), (2, 1)])
def test_ties_send_the_gradient_to_the_first_maximum_as_pytorch_does(size, stride):
    rng = np.random.default_rng(size + stride)
    x = rng.integers(0, 3, size=(4, 10, 10)).astype(float)  # values 0, 1, 2: most windows tie
    out = maxpool2d_forward(x, size, stride)
    dy = rng.normal(size=out.shape)
    _, dx_torch = torch_pool(x, dy, size, stride)
    dx = maxpool2d_backward(x, dy, size, stride)
    np.testing.assert_allclose(dx, dx_torch, rtol=1e-15, atol=0)
    # one gradient per window reaches the input: none is split or copied among the ties
    assert dx.sum() == pytest.approx(dy.sum())
    window = np.array([[1.0, 3.0], [3.0, 2.0]])
    np.testing.assert_array_equal(maxpool2d_backward(window, np.array([[1.0]])), [[0.0, 1.0], [0.0, 0.0]])


def test_every_window_sends_its_gradient_to_its_maximum_and_zero_elsewhere():
    x = np.array([[1.0, 5.0, 0.0, 2.0],
                  [3.0, 2.0, 7.0, 1.0],
                  [4.0, 0.0, 1.0, 1.0],
                  [2.0, 9.0, 3.0, 8.0]])
    dy = np.array([[0.1, 0.2], [0.3, 0.4]])
    assert maxpool2d_forward(x).tolist() == [[5.0, 7.0], [9.0, 8.0]]
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[3, 1], expected[3, 3] = 0.1, 0.2, 0.3, 0.4
    np.testing.assert_array_equal(maxpool2d_backward(x, dy), expected)


def test_a_gradient_sent_to_every_tie_is_caught():
    x = np.ones((1, 4, 4))
    dy = np.full((1, 2, 2), 0.5)
    _, dx_torch = torch_pool(x, dy, 2, 2)
    to_every_tie = np.repeat(np.repeat(dy, 2, axis=1), 2, axis=2) * (x == 1)
    assert np.abs(to_every_tie - dx_torch).max() == 0.5
    np.testing.assert_array_equal(maxpool2d_backward(x, dy), dx_torch)


def test_wrong_shapes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="does not fit"):
        correlate2d(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"same C_in; got x \(2, 5, 5\) and w \(1, 3, 2, 2\)"):
        conv2d_forward(np.zeros((2, 5, 5)), np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"does not fit in a 2 x 5 input"):
        conv2d_forward(np.zeros((1, 2, 5)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"one value per output channel \(2\)"):
        conv2d_forward(np.zeros((1, 4, 4)), np.zeros((2, 1, 2, 2)), b=np.zeros(3))
    with pytest.raises(ValueError, match=r"shape of the layer's output, \(3, 3\); got \(2, 2\)"):
        conv2d_backward(np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"output, \(1, 3, 3\); got \(3, 3\)"):
        conv2d_backward(np.zeros((1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="stride must be a whole number of at least 1, got 0"):
        conv2d_forward(np.zeros((4, 4)), np.zeros((2, 2)), stride=0)
    with pytest.raises(ValueError, match=r"pooled output, \(2, 2\); got \(3, 3\)"):
        maxpool2d_backward(np.zeros((4, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="does not fit in an input with 1 rows"):
        maxpool2d_forward(np.zeros((1, 4)), 2)
    with pytest.raises(ValueError, match="at least two axes"):
        maxpool2d_forward(np.zeros(4), 2)
    with pytest.raises(ValueError, match="multiples of 2"):
        maxpool_gradient_figure(np.zeros((3, 4)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="one non-empty vector"):
        softmax_jacobian(np.zeros((2, 2)))


def test_the_figure_marks_the_maxima_and_shows_the_gradient():
    x = np.array([[1.0, 5.0], [3.0, 2.0]])
    fig = maxpool_gradient_figure(x, np.array([[0.7]]))
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert texts == [["1", "5", "3", "2"], ["0.7"], ["0", "0.7", "0", "0"]]


@pytest.mark.parametrize("n", [2, 3, 7])
def test_softmax_jacobian_matches_torch_autograd(n):
    z = np.random.default_rng(n).normal(size=n) * 3
    expected = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), torch.tensor(z)).numpy()
    np.testing.assert_allclose(softmax_jacobian(z), expected, rtol=1e-12, atol=1e-15)


def test_softmax_jacobian_by_hand():
    # z = (0, ln 3): p = (1/4, 3/4); J = [[p0 (1 - p0), -p0 p1], [-p1 p0, p1 (1 - p1)]]
    J = softmax_jacobian(np.array([0.0, np.log(3.0)]))
    np.testing.assert_allclose(J, [[3 / 16, -3 / 16], [-3 / 16, 3 / 16]], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_chain_rule_through_softmax_gives_p_minus_y_for_any_target_distribution(seed):
    """J^T dL/dp with dL/dp_i = -y_i / p_i equals p - y, and PyTorch's cross-entropy gradient."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=5) * 2
    y = rng.dirichlet(np.ones(5)) if seed else np.eye(5)[2]   # a soft target, or one-hot
    p = torch.softmax(torch.tensor(z), 0).numpy()
    tz = torch.tensor(z, requires_grad=True)
    F.cross_entropy(tz[None], torch.tensor(y)[None]).backward()   # targets given as probabilities
    via_jacobian = softmax_jacobian(z).T @ (-y / p)
    np.testing.assert_allclose(via_jacobian, tz.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p - y, tz.grad.numpy(), rtol=1e-10, atol=1e-12)
