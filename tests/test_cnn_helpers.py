"""Digits data, the small CNN's training run, confusion figures and grouped summaries."""

import pytest
import torch

from dlcourse.calc import group_rows, summarize
from dlcourse.data import digits
from dlcourse.display.plots import confusion_figure
from dlcourse.lessons.cnn_architectures import train_digits_cnn
from dlcourse.models import resnet50
from dlcourse.models.small import digits_16x16_cnn


def test_digits_are_the_bundled_1797_images():
    x_train, y_train, x_test, y_test = digits(size=16)
    assert len(x_train) + len(x_test) == 1797
    assert x_train.shape[1:] == (1, 16, 16) and float(x_train.min()) >= 0 and float(x_train.max()) <= 1
    assert sorted(set(y_test.tolist())) == list(range(10))
    assert digits(size=8)[0].shape[1:] == (1, 8, 8)
    with pytest.raises(ValueError, match="size must be at least 8"):
        digits(size=4)
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        digits(test_fraction=1.5)


def test_small_cnn_reaches_97_percent():
    run = train_digits_cnn(progress=False)
    assert run.test_accuracy[-1] >= 0.97
    assert len(run.train_loss) == 40 and run.train_loss[-1] < run.train_loss[0]
    confusion = torch.tensor(run.confusion)
    assert (int(confusion.sum()) == 450
            and int(confusion.trace()) / 450 == pytest.approx(run.test_accuracy[-1], abs=1e-6))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        train_digits_cnn(epochs=0)


def test_small_cnn_shape_and_size():
    model = digits_16x16_cnn()
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == ((16 * 9 + 16 + 32) + (32 * 16 * 9 + 32 + 64)
                                                          + (512 * 64 + 64) + (64 * 10 + 10))


def test_confusion_figure_refuses_a_wrong_matrix():
    with pytest.raises(ValueError, match="square matrix with one row per label"):
        confusion_figure([[1, 2, 3]], ["a"])


def test_grouped_rows_keep_the_totals():
    with torch.device("meta"):
        model = resnet50()
    full = summarize(model, (2, 3, 64, 64))
    grouped = group_rows(full)
    assert [row.path for row in grouped.rows] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                                                  "layer4", "avgpool", "fc"]
    assert [row.kind for row in grouped.rows][:5] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Sequential"]
    assert grouped.rows[4].name == "layer1 (Sequential)"
    assert ((grouped.params, grouped.macs, grouped.activation_count())
            == (full.params, full.macs, full.activation_count()))
    assert len(group_rows(full, depth=2).rows) > len(grouped.rows)
    with pytest.raises(ValueError, match="depth must be a positive int"):
        group_rows(full, depth=0)


def test_model_cards_match_the_models_and_refuse_unknown_names():
    from dlcourse.models.cards import card

    lenet = card("lenet5")
    assert lenet.params == 61_706 and lenet.top1 is None
    # LeNet-5's MACs by hand: C1 6*28*28*25, C3 16*10*10*150, C5 120*400, F6 120*84, output 84*10
    assert lenet.macs == 6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 120 * 400 + 120 * 84 + 84 * 10
    assert lenet.activations_batch64_bytes == 64 * lenet.activations_batch1_bytes
    with pytest.raises(ValueError, match="unknown model 'lenet6'"):
        card("lenet6")


def test_architectures_figure_refuses_mismatched_lists():
    from dlcourse.lessons.cnn_architectures import architectures_figure

    with pytest.raises(ValueError, match="one entry per model"):
        architectures_figure(["a"], [1, 2], [1], [None])
