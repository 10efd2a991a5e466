"""Weight initialisation and input normalisation: checked by hand, against torch.nn.init and torch.autograd."""

import math

import numpy as np
import pytest
import torch

from dlcourse.lessons.neural_nets import (
    SCHEMES,
    activation_stds,
    gradient_stds,
    init_figure,
    init_std,
    largest_stable_learning_rate,
    least_squares_losses,
    random_weights,
    scrambled_digits_accuracies,
    standardise,
    steps_to_reach,
)


def test_init_std_by_hand():
    assert init_std("naive", 300) == 1.0
    assert init_std("tiny", 300) == 0.01
    assert init_std("he", 512) == 0.0625  # sqrt(2/512) = sqrt(1/256)
    assert init_std("xavier", 300, 100) == pytest.approx(math.sqrt(2 / 400))
    assert init_std("xavier", 300) == pytest.approx(math.sqrt(1 / 300))
    with pytest.raises(ValueError, match="unknown scheme"):
        init_std("lecun", 10)
    with pytest.raises(ValueError, match="positive"):
        init_std("he", 0)


@pytest.mark.parametrize("fan_in, fan_out", [(512, 256), (256, 1024)])
def test_init_std_matches_torch_nn_init(fan_in, fan_out):
    torch.manual_seed(0)
    weight = torch.empty(fan_out, fan_in)  # torch stores (out, in)
    torch.nn.init.xavier_normal_(weight)
    # the sample std of n normal draws is within a few times std / sqrt(2n) of the true one
    tolerance = 5 / math.sqrt(2 * weight.numel())
    assert weight.std().item() == pytest.approx(init_std("xavier", fan_in, fan_out), rel=tolerance)
    torch.nn.init.kaiming_normal_(weight, nonlinearity="relu")
    assert weight.std().item() == pytest.approx(init_std("he", fan_in), rel=tolerance)


def test_torch_linear_default_has_a_third_of_one_over_fan_in():
    """What the chapter says about nn.Linear: kaiming_uniform_(a=sqrt(5)), Var(w) = 1 / (3 fan_in)."""
    torch.manual_seed(0)
    weight = torch.nn.Linear(512, 1024).weight
    bound = 1 / math.sqrt(512)
    assert weight.abs().max().item() <= bound
    assert weight.var().item() == pytest.approx(1 / (3 * 512), rel=0.02)


def test_random_weights_have_the_scheme_std_and_share_draws():
    Ws = random_weights(3, 400, "he", seed=5)
    assert [W.shape for W in Ws] == [(400, 400)] * 3
    assert np.std(np.concatenate([W.ravel() for W in Ws])) == pytest.approx(init_std("he", 400), rel=0.01)
    tiny, naive = random_weights(2, 50, "tiny", seed=5), random_weights(2, 50, "naive", seed=5)
    assert all(np.allclose(t, 0.01 * n) for t, n in zip(tiny, naive))
    assert not np.allclose(Ws[0], random_weights(1, 400, "he", seed=6)[0])


def _torch_net(weights, activation):
    layers = []
    for W in weights:
        linear = torch.nn.Linear(W.shape[0], W.shape[1], bias=False).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
        layers += [linear, torch.nn.Tanh() if activation == "tanh" else torch.nn.ReLU()]
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_activation_and_gradient_stds_match_a_torch_network(scheme, activation):
    rng = np.random.default_rng(3)
    inputs, upstream = rng.standard_normal((2, 32, 48))
    weights = random_weights(6, 48, scheme, seed=4)
    net = _torch_net(weights, activation)
    x = torch.from_numpy(inputs).requires_grad_(True)
    outputs = [x]
    for linear, act in zip(net[::2], net[1::2]):
        outputs.append(act(linear(outputs[-1])))
        outputs[-1].retain_grad()
    (outputs[-1] * torch.from_numpy(upstream)).sum().backward()
    np.testing.assert_allclose(activation_stds(weights, inputs, activation),
                               [a.detach().std(unbiased=False).item() for a in outputs], rtol=1e-10)
    np.testing.assert_allclose(gradient_stds(weights, inputs, activation, upstream),
                               [a.grad.std(unbiased=False).item() for a in outputs], rtol=1e-8)


def test_linear_network_variance_grows_by_fan_in_times_var_w():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((512, 512))
    stds = activation_stds(random_weights(4, 512, "naive", seed=2), inputs, "linear")
    ratios = (stds[1:] / stds[:-1]) ** 2
    np.testing.assert_allclose(ratios, 512, rtol=0.1)


@pytest.mark.parametrize("scheme, variance_factor", [("he", 1.0), ("xavier", 0.5)])
def test_relu_network_stds_agree_with_theory_and_torch_init(scheme, variance_factor):
    """E[relu(z)^2] = Var(z) / 2, so each layer multiplies E[a^2] by fan_in Var(w) / 2 (1 for He, 1/2 for
    Xavier on a square layer); the std of relu(z), z ~ N(0, s^2), is s sqrt((1 - 1/pi) / 2).  Networks
    whose weights torch.nn.init draws must land at the same value as ours.  One 30-layer network is
    off by tens of per cent (30 random factors multiply), so both sides average log-stds over 8 seeds."""
    inputs = np.random.default_rng(0).standard_normal((128, 256))
    theory = math.sqrt((1 - 1 / math.pi) * variance_factor**30)  # E[a^2] = factor^k, E[x^2] = 1
    init = {"he": lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"),
            "xavier": torch.nn.init.xavier_normal_}[scheme]
    ours, theirs = [], []
    for seed in range(8):
        ours.append(activation_stds(random_weights(30, 256, scheme, seed=seed), inputs, "relu")[-1])
        torch.manual_seed(seed)
        a = torch.from_numpy(inputs)
        for _ in range(30):
            weight = init(torch.empty(256, 256, dtype=torch.float64))
            a = torch.relu(a @ weight.T)
        theirs.append(a.std().item())
    assert math.exp(np.mean(np.log(ours))) == pytest.approx(theory, rel=0.25)
    assert math.exp(np.mean(np.log(theirs))) == pytest.approx(theory, rel=0.25)


def test_gradient_stds_refuses_a_wrong_upstream_shape():
    weights = random_weights(2, 4, "he")
    with pytest.raises(ValueError, match="upstream"):
        gradient_stds(weights, np.ones((3, 4)), "relu", np.ones((3, 5)))
    with pytest.raises(ValueError, match="unknown activation"):
        activation_stds(weights, np.ones((3, 4)), "sigmoid")


def test_init_figure_draws_every_curve_on_log_axes():
    curves = {"tanh": {"a": [1, 2, 3], "b": [3, 2, 1]}, "relu": {"a": [1, 1, 1], "b": [1, 0.1, 0.01]}}
    fig = init_figure(curves, curves)
    assert [ax.get_title() for ax in fig.axes] == ["tanh: activations", "relu: activations",
                                                    "tanh: gradients", "relu: gradients"]
    assert all(ax.get_yscale() == "log" and len(ax.lines) == 2 for ax in fig.axes)
    assert {line.get_linestyle() for line in fig.axes[0].lines} == {"-", "--"}
    with pytest.raises(ValueError, match="same activations"):
        init_figure(curves, {"tanh": curves["tanh"]})


def test_standardise_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    train = rng.normal([3, 100], [1, 30], size=(500, 2))
    test = rng.normal([3, 100], [1, 30], size=(50, 2))
    train_s, test_s = standardise(train, test)
    np.testing.assert_allclose(train_s.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_s.std(axis=0), 1)
    np.testing.assert_allclose(test_s, (test - train.mean(axis=0)) / train.std(axis=0))
    assert not np.allclose(test_s.mean(axis=0), 0, atol=1e-3)  # the test set keeps its own offset
    with pytest.raises(ValueError, match="constant"):
        standardise(np.ones((3, 2)))


def test_least_squares_losses_match_a_direct_loop_and_torch():
    rng = np.random.default_rng(2)
    X = np.hstack([np.ones((40, 1)), rng.normal(size=(40, 2)) * [1, 5]])
    y = rng.normal(size=40)
    lr = 0.01
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    expected = []
    for _ in range(51):
        loss = ((Xt @ w - yt) ** 2).sum() / (2 * len(y))
        expected.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    np.testing.assert_allclose(least_squares_losses(X, y, lr, 50), expected, rtol=1e-12)


def test_the_stable_learning_rate_limit_is_sharp():
    rng = np.random.default_rng(3)
    X = np.hstack([np.ones((100, 1)), rng.normal(size=(100, 1)) * 20])
    y = X @ [1.0, 0.5] + rng.normal(size=100)
    limit = largest_stable_learning_rate(X)
    assert limit == pytest.approx(2 / np.linalg.eigvalsh(X.T @ X / 100).max())
    below = least_squares_losses(X, y, 0.99 * limit, 2000)
    above = least_squares_losses(X, y, 1.01 * limit, 2000)
    assert below[-1] < below[0] and above[-1] > 1e6 * above[0]


def test_standardising_cuts_the_steps_and_reaches_the_same_minimum():
    rng = np.random.default_rng(0)
    raw = rng.normal([3, 100], [1, 30], size=(200, 2))
    y = raw @ [2, 0.05] + rng.normal(0, 0.5, 200)
    ones = np.ones((200, 1))
    X_raw, X_std = np.hstack([ones, raw]), np.hstack([ones, standardise(raw)[0]])
    best = np.linalg.lstsq(X_raw, y, rcond=None)[1][0] / (2 * 200)
    steps = {}
    for name, X in (("raw", X_raw), ("std", X_std)):
        losses = least_squares_losses(X, y, 0.95 * largest_stable_learning_rate(X), 150_000)
        steps[name] = steps_to_reach(losses, 1.01 * best)
        assert losses[-1] == pytest.approx(best, rel=1e-9 if name == "std" else 0.01)
    assert steps["std"] < 50 < 10_000 < steps["raw"]


def test_steps_to_reach():
    assert steps_to_reach([5, 4, 3], 3) == 2
    assert steps_to_reach([5, 4, 3], 2.9) is None
    assert steps_to_reach([1.0], 2.0) == 0


def test_scrambled_pixels_do_not_change_a_fully_connected_network():
    accuracy = scrambled_digits_accuracies(epochs=2, seed=1)
    ordered, scrambled = accuracy["fully connected"]
    assert ordered == scrambled and ordered > 0.7
    assert set(accuracy) == {"fully connected", "convolutional"}
    assert all(0.1 < a <= 1 for pair in accuracy.values() for a in pair)
