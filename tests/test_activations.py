"""Activation functions, their derivatives, the explorer and the ReLU/tanh experiment."""

import numpy as np
import pytest
import torch

from dlcourse import activations
from dlcourse.lessons.activations import (
    activation_explorer,
    activation_figure,
    first_epoch_below,
    training_error_curves,
)

TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
    "elu": torch.nn.functional.elu,
    "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu,
}


@pytest.mark.parametrize("name", list(activations.FUNCTIONS))
def test_function_and_derivative_match_torch(name):
    x = np.concatenate([np.linspace(-8, 8, 161), [-1e-3, 1e-3, 40.0, -40.0]])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = TORCH[name](t)
    y.sum().backward()
    np.testing.assert_allclose(activations.FUNCTIONS[name](x), y.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(activations.derivative(name, x), t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_sigmoid_is_stable_far_from_zero():
    assert activations.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_softmax_matches_torch_on_rows():
    x = np.random.default_rng(0).normal(size=(4, 5)) * 30
    np.testing.assert_allclose(activations.softmax(x), torch.softmax(torch.tensor(x), 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(activations.softmax(x).sum(axis=1), np.ones(4))


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activations.derivative("swish", np.zeros(2))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activation_figure("swish")
    with pytest.raises(ValueError, match="x_range must be positive"):
        activation_figure("relu", 0)


def test_explorer_is_a_figure_in_the_book_and_a_widget_in_jupyter(monkeypatch):
    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    figure = activation_explorer("gelu")
    assert figure.axes[0].get_lines()[0].get_label() == "gelu"
    monkeypatch.delenv("DLCOURSE_BOOK_BUILD")
    import ipywidgets

    widget = activation_explorer("tanh")
    assert isinstance(widget, ipywidgets.VBox)
    dropdown = widget.children[0].children[0]
    assert dropdown.value == "tanh" and "relu" in dropdown.options


def test_relu_reaches_25_percent_training_error_several_times_faster_than_tanh():
    curves = training_error_curves({"ReLU": torch.nn.ReLU, "tanh": torch.nn.Tanh}, epochs=40)
    relu, tanh = first_epoch_below(curves["ReLU"], 0.25), first_epoch_below(curves["tanh"], 0.25)
    assert relu is not None and tanh is not None
    assert tanh >= 2 * relu
    assert len(curves["ReLU"]) == 40 and all(0 <= e <= 1 for e in curves["tanh"])
