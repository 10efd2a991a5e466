"""conv_output_size: hand-worked values, PyTorch agreement, and every error path."""

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from dlcourse.calc import conv_output_size


@pytest.mark.parametrize(
    "args, expected",
    [
        ((128, 7, 1, 1), 124),  # 128 + 2 - 7 + 1
        ((124, 3, 2, 0), 61),  # floor(121 / 2) + 1 = 60 + 1
        ((57, 2, 2, 2), 30),  # floor((57 + 4 - 2) / 2) + 1 = 29 + 1, not 29
        ((227, 11, 4, 0), 55),  # AlexNet conv1: (227 - 11) / 4 + 1
        ((224, 11, 4, 0), 54),  # with 224 the division is not exact: floor(213 / 4) + 1
        ((32, 3, 1, 2, 2), 32),  # dilation 2: effective kernel 5, 32 + 4 - 5 + 1
    ],
)
def test_hand_worked_sizes(args, expected):
    assert conv_output_size(*args) == expected


def test_ceil_mode_rounds_up_and_drops_a_window_starting_in_the_padding():
    assert conv_output_size(124, 3, 2, ceil_mode=True) == 62  # ceil(121 / 2) + 1
    # size 5, kernel 2, stride 2, padding 1: ceil(5/2) + 1 = 4, but the 4th window
    # would start at 6 >= 5 + 1, inside the right padding, so PyTorch drops it
    assert conv_output_size(5, 2, 2, 1, ceil_mode=True) == 3


def _torch_conv_size(size, kernel, stride, padding, dilation):
    conv = nn.Conv2d(1, 1, (kernel, 1), (stride, 1), (padding, 0), (dilation, 1), device="meta")
    return conv(torch.empty(1, 1, size, 1, device="meta")).shape[2]


def _torch_pool_size(size, kernel, stride, padding, dilation, ceil_mode):
    pool = nn.MaxPool2d((kernel, 1), (stride, 1), (padding, 0), (dilation, 1), ceil_mode=ceil_mode)
    return pool(torch.empty(1, 1, size, 1, device="meta")).shape[2]


windows = st.tuples(
    st.integers(1, 80),  # size
    st.integers(1, 9),  # kernel
    st.integers(1, 5),  # stride
    st.integers(0, 6),  # padding
    st.integers(1, 3),  # dilation
)


@settings(max_examples=300, deadline=None)
@given(windows)
def test_matches_pytorch_conv(window):
    size, kernel, stride, padding, dilation = window
    assume(dilation * (kernel - 1) + 1 <= size + 2 * padding)
    assert conv_output_size(size, kernel, stride, padding, dilation) == _torch_conv_size(*window)


@settings(max_examples=300, deadline=None)
@given(windows, st.booleans())
def test_matches_pytorch_pooling_including_ceil_mode(window, ceil_mode):
    size, kernel, stride, padding, dilation = window
    effective = dilation * (kernel - 1) + 1
    assume(effective <= size + 2 * padding)
    assume(padding <= kernel // 2)  # PyTorch refuses pooling padding above half the kernel
    expected = _torch_pool_size(size, kernel, stride, padding, dilation, ceil_mode)
    assert conv_output_size(size, kernel, stride, padding, dilation, ceil_mode) == expected


def test_pytorch_refuses_large_pooling_padding_but_the_formula_answers():
    with pytest.raises(RuntimeError):
        nn.AvgPool2d(2, stride=2, padding=2)(torch.empty(1, 1, 57, 57))
    assert conv_output_size(57, 2, 2, 2) == 30


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=0, kernel_size=3), "size must be at least 1"),
        (dict(size=8, kernel_size=0), "kernel_size must be at least 1"),
        (dict(size=8, kernel_size=3, stride=0), "stride must be at least 1"),
        (dict(size=8, kernel_size=3, padding=-1), "padding must be at least 0"),
        (dict(size=8, kernel_size=3, dilation=0), "dilation must be at least 1"),
        (dict(size=4, kernel_size=7, padding=1), "effective kernel 7 is larger than the padded input 6"),
        (dict(size=5, kernel_size=3, dilation=3), "effective kernel 7 is larger"),
        (dict(size=8.0, kernel_size=3), "size must be an int"),
    ],
)
def test_bad_input_says_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)
