"""receptive_field: hand-worked stacks, and the field measured by PyTorch on real networks.

The measurement here is written independently of ``dlcourse.calc.receptive_field``: a real
``torch.nn`` network with all-ones weights (average pooling for pooling, whose weights are
positive too), an input of ones, and the gradient of one output value with respect to the
input.  The input pixels with a non-zero gradient are the output's receptive field.
"""

from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch import nn

from dlcourse.calc import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
)
from dlcourse.calc.receptive_field import measure_receptive_field, receptive_field
from dlcourse.lessons.conv_arithmetic import receptive_field_figure


def fields(layers):
    return [row.field[0] for row in receptive_field(layers)]


def jumps(layers):
    return [row.jump[0] for row in receptive_field(layers)]


# ---------------------------------------------------------------- worked by hand


def test_three_3x3_convolutions_see_7():
    # 1 + 2 + 2 + 2
    assert fields([Conv2d(8, 3), Conv2d(8, 3), Conv2d(8, 3)]) == [3, 5, 7]
    assert jumps([Conv2d(8, 3), Conv2d(8, 3), Conv2d(8, 3)]) == [1, 1, 1]


def test_strides_multiply_the_steps_of_later_layers():
    # conv3 s2, conv3 s2, conv3: 1 + 2*1 + 2*2 + 2*4 = 15; jumps 2, 4, 4
    stack = [Conv2d(8, 3, stride=2), Conv2d(8, 3, stride=2), Conv2d(8, 3)]
    assert fields(stack) == [3, 7, 15]
    assert jumps(stack) == [2, 4, 4]


def test_vgg16_convolutional_part_sees_212_pixels():
    # blocks of 2, 2, 3, 3, 3 convolutions 3x3 (padding 1), each block followed by max pooling 2x2 s2
    # fields by hand: 5, 6 | 14, 16 | 40, 44 | 92, 100 | 196, 212 (conv5_3: 196, pool5: 212)
    stack = []
    for convs in (2, 2, 3, 3, 3):
        stack += [Conv2d(64, 3, padding=1), ReLU()] * convs + [MaxPool2d(2)]
    rows = receptive_field(stack)
    pools = [row.field[0] for row in rows if row.name.startswith("MaxPool2d")]
    assert pools == [6, 16, 44, 100, 212]
    assert rows[-2].field == (196, 196) and rows[-1].jump == (32, 32)


def test_dilations_1_2_4_grow_the_field_exponentially():
    # effective kernels 3, 5, 9: 1 + 2 + 4 + 8 = 15 (3, 7, 15 as in dilated context modules)
    stack = [Conv2d(8, 3, padding=1), Conv2d(8, 3, padding=2, dilation=2), Conv2d(8, 3, padding=4, dilation=4)]
    assert fields(stack) == [3, 7, 15]
    assert jumps(stack) == [1, 1, 1]


def test_per_pixel_layers_and_one_by_one_convolutions_keep_the_field():
    assert fields([Conv2d(8, 5), ReLU(), BatchNorm2d(), Conv2d(8, 1)]) == [5, 5, 5, 5]


def test_pooling_counts_like_a_convolution_window():
    # conv3, max pool 2 s2 (+1), conv3 (+2*2): 3, 4, 8
    assert fields([Conv2d(8, 3), MaxPool2d(2), Conv2d(8, 3)]) == [3, 4, 8]
    assert fields([AvgPool2d(3, stride=2), AvgPool2d(3, stride=2)]) == [3, 7]


def test_padding_moves_the_field_not_its_size():
    rows = receptive_field([Conv2d(8, 3, padding=1), Conv2d(8, 3, stride=2, padding=1)])
    assert [row.field for row in rows] == [(3, 3), (5, 5)]
    # output 0 of layer 2 reads layer-1 outputs -1..1, which read input pixels -2..2
    assert rows[-1].start == (-2, -2)


def test_height_and_width_are_separate():
    rows = receptive_field([Conv2d(8, (3, 5)), Conv2d(8, (1, 3), stride=(1, 2)), Conv2d(8, 3)])
    assert rows[-1].field == (5, 11)  # height 1 + 2 + 0 + 2; width 1 + 4 + 2 + 2*2
    assert rows[-1].jump == (1, 2)


def test_torch_layers_are_accepted():
    stack = [nn.Conv2d(3, 8, 3, stride=2), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, dilation=2)]
    # 3, then +1*2 = 5, then +4*4 = 21
    assert fields(stack) == [3, 5, 21]


@pytest.mark.parametrize(
    "layers, message",
    [
        ([], "empty"),
        ("conv", "list of layer specs"),
        ([Conv2d(8, 3), Flatten()], "layer 2 (Flatten) has no sliding window"),
        ([Conv2d(8, 3), Linear(10)], "layer 2 (Linear)"),
        ([GlobalAvgPool2d()], "layer 1 (GlobalAvgPool2d)"),
        ([SimpleNamespace(kernel_size=0, stride=1)], "kernel must be at least 1"),
        ([SimpleNamespace(kernel_size=3, stride=1, padding=-1)], "padding must be at least 0"),
    ],
)
def test_layers_without_a_window_are_refused(layers, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        receptive_field(layers)


# ---------------------------------------------------------------- measured by PyTorch


def torch_network(specs):
    """A real network for a stack of (kind, kernel, stride, padding, dilation), all weights 1."""
    modules = []
    for kind, kernel, stride, padding, dilation in specs:
        if kind == "conv":
            conv = nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False).double()
            nn.init.ones_(conv.weight)
            modules.append(conv)
        elif kind in ("max", "avg"):  # a max sends its gradient to one pixel: average has the same window
            modules.append(nn.AvgPool2d(kernel, stride, padding))
        else:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def spec_layers(specs):
    layers = []
    for kind, kernel, stride, padding, dilation in specs:
        if kind == "conv":
            layers.append(Conv2d(4, kernel, stride, padding, dilation))
        elif kind == "max":
            layers.append(MaxPool2d(kernel, stride, padding))
        elif kind == "avg":
            layers.append(AvgPool2d(kernel, stride, padding))
        else:
            layers.append(ReLU())
    return layers


def gradient_spans(network, size):
    """The index of the middle output row and the input rows with a non-zero gradient of that
    output value and of the one below it (centre column), on an input of size x 256 pixels."""
    image = torch.ones(1, 1, size, 256, dtype=torch.float64, requires_grad=True)
    out = network(image)
    middle, column = out.shape[2] // 2, out.shape[3] // 2
    spans = []
    for row in (middle, middle + 1):
        (grad,) = torch.autograd.grad(out[0, 0, row, column], image, retain_graph=True)
        seen = grad[0, 0].nonzero()
        spans.append((int(seen[:, 0].min()), int(seen[:, 0].max())))
    return middle, spans


layer_specs = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(st.sampled_from(["max", "avg"]), st.just(k), st.integers(1, 3), st.integers(0, k // 2),
                            st.just(1))
    ),
    st.just(("relu", 1, 1, 0, 1)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(layer_specs, min_size=1, max_size=4))
def test_field_jump_and_start_match_the_gradient_of_a_real_network(specs):
    network = torch_network(specs)
    rows = receptive_field(spec_layers(specs))
    field, jump, start = rows[-1].field[0], rows[-1].jump[0], rows[-1].start[0]
    # By hand: kernels <= 4, dilation <= 2 and strides <= 3 in at most 4 layers give a field of at
    # most 1 + 6 * (1 + 3 + 9 + 27) = 241 pixels, hanging at most 2 * 40 = 80 pixels into the
    # padding, and a jump of at most 3**4 = 81: at 2048 pixels the middle outputs are far from the
    # border, and a gap inside a field (dilation, stride) is shorter than the field.
    size = 2048
    middle, (here, below) = gradient_spans(network, size)
    assert here[0] > 241 and below[1] < size - 1 - 241  # so the measurement is not clipped
    assert here[1] - here[0] + 1 == field  # the size of the field
    assert below[0] - here[0] == jump  # neighbouring outputs are one jump apart
    assert here[0] == start + middle * jump  # output i starts at start + i * jump


@settings(max_examples=30, deadline=None)
@given(st.lists(layer_specs, min_size=1, max_size=4))
def test_measure_receptive_field_agrees_with_the_formula(specs):
    layers = spec_layers(specs)
    assert measure_receptive_field(layers) == receptive_field(layers)[-1].field


def test_measure_receptive_field_gives_up_past_max_size():
    with pytest.raises(ValueError, match="more than max_size=64"):
        measure_receptive_field([Conv2d(1, 9, stride=4)] * 4, max_size=64)


# ---------------------------------------------------------------- the figure


def test_figure_labels_every_layer_and_keeps_its_text_inside():
    stack = [Conv2d(8, 3, stride=2), ReLU(), Conv2d(8, 3, stride=2), Conv2d(8, 3)]
    fig = receptive_field_figure(stack)
    left, right = fig.axes
    assert [t.get_text() for t in left.texts] == ["3 (jump 2)", "3 (jump 2)", "7 (jump 4)", "15 (jump 4)"]
    assert left.get_xlabel() and right.get_xlabel() and right.get_ylabel()
    renderer = FigureCanvasAgg(fig).get_renderer()
    frame = fig.bbox
    texts = [t for ax in fig.axes for t in ax.texts] + [label for ax in fig.axes for label in ax.get_yticklabels()]
    for text in texts + [right.get_legend()]:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text
    for text in left.texts:  # the bar labels stay inside the left panel
        assert text.get_window_extent(renderer).x1 <= left.get_window_extent(renderer).x1


def test_figure_refuses_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="labels has 1 entries for 2 layers"):
        receptive_field_figure([Conv2d(8, 3), Conv2d(8, 3)], labels=["a"])
