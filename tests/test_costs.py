"""training_cost, augmented_count, softmax and its gradient, checked by hand and with torch.autograd."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.calc import augmented_count, softmax, softmax_cross_entropy_grad, training_cost


def test_training_cost_by_hand():
    cost = training_cost(1000, batch_size=64, dataset_size=1000, epochs=3)
    assert cost.per_sample == 3000  # forward + backward twice as dear
    assert cost.per_batch == 3000 * 64
    assert cost.iterations_per_epoch == 16  # ceil(1000 / 64): 15 full batches and a partial one
    assert cost.per_epoch == 16 * 3000 * 64
    assert cost.total == 3 * 16 * 3000 * 64


def test_training_cost_of_the_seed_exam_with_backward_equal_to_forward():
    cost = training_cost(275_500_544, 64, 256_000, epochs=100, backward_factor=1.0)
    assert cost.per_batch == 275_500_544 * 2 * 64 == 35_264_069_632
    assert cost.iterations_per_epoch == 4000
    assert cost.total == 35_264_069_632 * 4000 * 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(macs_per_sample=-1, batch_size=1, dataset_size=1), "macs_per_sample must be a number >= 0"),
        (dict(macs_per_sample=1, batch_size=0, dataset_size=1), "batch_size must be a positive int"),
        (dict(macs_per_sample=1, batch_size=1, dataset_size=0), "dataset_size must be a positive int"),
        (dict(macs_per_sample=1, batch_size=1, dataset_size=1, epochs=0), "epochs must be a positive int"),
        (dict(macs_per_sample=1, batch_size=1, dataset_size=1, backward_factor=-1), "backward_factor must be"),
    ],
)
def test_training_cost_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        training_cost(**kwargs)


def test_augmented_count_by_hand():
    assert augmented_count(200, 256) == 51_200
    # left/right flip, up/down flip, +45 and -45 degree rotations: 4 augmentations + the original
    assert augmented_count(200, 256, augmentations=4) == 200 * 256 * 5 == 256_000
    assert augmented_count(200, 256, augmentations=4, keep_original=False) == 200 * 256 * 4
    # AlexNet: 32 x 32 crop positions of 224 in 256, each also mirrored
    assert augmented_count(1, crops_per_image=32 * 32, augmentations=1) == 2048


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0,), {}, "images must be a positive int"),
        ((1, 0), {}, "crops_per_image must be a positive int"),
        ((1, 1, -1), {}, "augmentations must be an int >= 0"),
        ((1, 1, 0), {"keep_original": False}, "at least one augmentation"),
    ],
)
def test_augmented_count_rejects_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        augmented_count(*args, **kwargs)


def test_softmax_of_the_seed_exam_by_hand():
    p = softmax([3.2, 5.1])
    assert p[0] == pytest.approx(1 / (1 + math.exp(1.9)))
    assert round(p[0], 4) == 0.1301 and round(p[1], 4) == 0.8699
    grad = softmax_cross_entropy_grad([3.2, 5.1], target=0)  # the picture shows Ho Guom (class 0)
    assert grad == pytest.approx([p[0] - 1, p[1]])
    # one SGD step on the logit o_HT with learning rate 0.01 moves it down, not up
    assert round(5.1 - 0.01 * grad[1], 4) == 5.0913


logits = st.lists(st.floats(-50, 50), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(logits, st.data())
def test_softmax_and_gradient_match_torch_autograd(values, data):
    target = data.draw(st.integers(0, len(values) - 1))
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(x[None], torch.tensor([target]))
    loss.backward()
    np.testing.assert_allclose(softmax(values), torch.softmax(x, 0).detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(softmax_cross_entropy_grad(values, target), x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_softmax_is_stable_for_huge_logits():
    assert softmax([1000.0, 0.0]).tolist() == [1.0, 0.0]
    assert softmax([-1000.0, -1000.0]).tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    "logits, target, message",
    [
        ([], 0, "non-empty 1-D"),
        ([[1.0, 2.0]], 0, "non-empty 1-D"),
        (["a", 1.0], 0, "logits must be a list of numbers"),
        ([1.0, float("nan")], 0, "finite"),
        ([1.0, 2.0], 2, "target must be a class index from 0 to 1, got 2"),
        ([1.0, 2.0], True, "target must be a class index"),
    ],
)
def test_softmax_rejects_bad_input(logits, target, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy_grad(logits, target)


def test_training_cost_stays_exact_beyond_float_precision():
    big = 2**53 + 1  # not representable as a float
    cost = training_cost(big, batch_size=3, dataset_size=7, epochs=5, backward_factor=1.0)
    assert cost.total == big * 2 * 3 * 3 * 5 and isinstance(cost.total, int)
