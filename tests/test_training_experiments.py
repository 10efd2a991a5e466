"""The optimiser experiments of the optimisers chapter, at tiny sizes."""

import numpy as np
import pytest
import torch

from dlcourse.display.notebook import progress_range
from dlcourse.display.plots import spread_figure, trajectories_figure
from dlcourse.lessons.optimisers import alexnet_recipe, compare_optimizers, plateau_schedule_figure
from dlcourse.models.small import digits_model
from dlcourse.optim import make_optimizer


def test_digits_models_have_the_expected_parameter_counts():
    # logistic: 64 * 10 + 10; mlp: (64 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)
    counts = [sum(p.numel() for p in digits_model(k).parameters()) for k in ("logistic", "mlp")]
    assert counts == [650, 6500 + 10100 + 1010]
    assert digits_model("cnn")(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        digits_model("rnn")


def test_make_optimizer_maps_names_to_the_right_settings():
    w = torch.zeros(3, requires_grad=True)
    adam = make_optimizer("Adam", [w], lr=0.01, momentum=0.8)
    assert adam.param_groups[0]["betas"] == (0.8, 0.999)
    nesterov = make_optimizer("Nesterov", [w], lr=0.01)
    assert nesterov.param_groups[0]["nesterov"] and nesterov.param_groups[0]["momentum"] == 0.9
    assert make_optimizer("AdamW", [w], lr=0.01, weight_decay=0.1).param_groups[0]["weight_decay"] == 0.1


def test_compare_optimizers_shapes_and_determinism():
    settings = {"SGD": {"lr": 0.1}, "Adam": {"lr": 0.01}}
    first = compare_optimizers("logistic", settings, epochs=2, seeds=(0, 1), progress=False)
    again = compare_optimizers("logistic", settings, epochs=2, seeds=(0, 1), progress=False)
    for name in settings:
        assert first.train_loss[name].shape == (2, 2) and first.test_accuracy[name].shape == (2, 2)
        assert np.array_equal(first.train_loss[name], again.train_loss[name])
        assert np.all((first.test_accuracy[name] >= 0) & (first.test_accuracy[name] <= 1))
    # cross-entropy of 10 classes starts near log 10 and falls in the first epochs
    assert first.train_loss["SGD"][0, 0] < np.log(10)
    assert np.all(first.train_loss["SGD"][:, 1] < first.train_loss["SGD"][:, 0])
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        compare_optimizers("logistic", settings, epochs=0)


def test_alexnet_recipe_records_learning_rate_drops():
    # a rate too small to change any prediction: the validation error stays flat, so with
    # patience 0 the plateau rule must divide the rate after epoch 2 (epoch 1 sets the best)
    run = alexnet_recipe(epochs=3, patience=0, progress=False, lr=1e-5)
    assert len(run.train_loss) == len(run.validation_error) == len(run.learning_rate) == 3
    assert run.validation_error[0] == run.validation_error[1] == run.validation_error[2]
    assert run.drops[0] == 2
    assert run.learning_rate[:2] == [1e-5, 1e-5]
    assert run.learning_rate[2] == pytest.approx(1e-6)  # a drop after epoch 2 shows in epoch 3's rate
    assert 0 <= run.test_accuracy <= 1


def test_progress_range_prints_its_final_state_in_a_static_build(monkeypatch, capsys):
    monkeypatch.setenv("DLCOURSE_BOOK_BUILD", "1")
    assert list(progress_range(4, "demo")) == [0, 1, 2, 3]
    assert "4/4" in capsys.readouterr().out


def test_figures_refuse_bad_shapes():
    with pytest.raises(ValueError, match="at least one path"):
        trajectories_figure(np.zeros((2, 2)), np.zeros((2, 2)), np.ones((2, 2)), {})
    with pytest.raises(ValueError, match=r"shape \(steps \+ 1, 2\)"):
        trajectories_figure(np.zeros((2, 2)), np.zeros((2, 2)), np.ones((2, 2)), {"a": np.zeros(3)})
    with pytest.raises(ValueError, match=r"expected shape \(seeds, 2\)"):
        spread_figure([1, 2], {"p": {"a": np.zeros((2, 3))}})
    fig = plateau_schedule_figure([1, 0.5], [0.3, 0.2], [0.01, 0.001], [1])
    assert fig.axes[1].get_yscale() == "log"
