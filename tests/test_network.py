"""Network: hand-worked examples, random networks checked against PyTorch, and every error path."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlcourse.calc import (
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    MultiheadAttention,
    Network,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)


def seed_exam_network(input_shape=(3, 128, 128)):
    return Network(
        input_shape,
        [
            Conv2d(16, 7, stride=1, padding=1, activation="relu"),
            MaxPool2d(3, stride=2),
            Conv2d(48, 5, activation="relu"),
            AvgPool2d(2, stride=2, padding=2),
            Flatten(),
            Linear(4096, activation="tanh"),
            Linear(2, activation="softmax"),
        ],
    )


def test_seed_exam_by_hand():
    net = seed_exam_network()
    shapes = [row.output_shape for row in net.rows]
    # 128+2-7+1 = 124; floor((124-3)/2)+1 = 61; 61-5+1 = 57; floor((57+4-2)/2)+1 = 30
    assert shapes[:4] == [(16, 124, 124), (16, 61, 61), (48, 57, 57), (48, 30, 30)]
    assert shapes[4:] == [(30 * 30 * 48,), (4096,), (2,)]
    conv1 = 16 * (7 * 7 * 3) + 16
    conv2 = 48 * (5 * 5 * 16) + 48
    fc1 = 43200 * 4096 + 4096
    fc2 = 4096 * 2 + 2
    assert [row.params for row in net.rows] == [conv1, 0, conv2, 0, 0, fc1, fc2]
    assert net.params == 176_981_106 == conv1 + conv2 + fc1 + fc2
    macs = [124 * 124 * 16 * 147, 0, 57 * 57 * 48 * 400, 0, 0, 43200 * 4096, 4096 * 2]
    assert [row.macs for row in net.rows] == macs
    assert net.macs == 275_500_544 and net.flops == 2 * 275_500_544
    assert [row.flops for row in net.rows] == [2 * m for m in macs]
    values = 3 * 128 * 128 + 16 * 124 * 124 + 16 * 61 * 61 + 48 * 57 * 57 + 48 * 30 * 30 + 4096 + 2
    assert net.activation_count() == values == 557_954
    assert net.activation_count(include_input=False) == values - 49_152
    assert net.memory_bytes() == 4 * (values + 176_981_106)
    assert net.memory_bytes(include_params=False) == 4 * values == 2_231_816
    assert net.memory_bytes(bytes_per_value=2, include_params=False, include_input=False) == 2 * (values - 49_152)
    assert net.output_shape == (2,)


def test_table_and_html_show_rows_and_totals():
    net = seed_exam_network()
    text = str(net)
    assert "(48, 30, 30)" in text and "176,981,106" in text and "275,500,544" in text
    assert "FLOPs (= 2 x MACs): 551,001,088" in text
    lines = text.splitlines()
    assert len({line.index("(") for line in lines[2:10] if "(" in line}) > 0
    html = net._repr_html_()
    assert html.count("<tr>") == 1 + 1 + 7  # header, input, seven layers
    assert "176,981,106" in html


def test_recurrent_layers_by_hand():
    # LSTM(128 -> 256, 2 layers) on 100 steps: 100*4*256*(128+256) + 100*4*256*(256+256)
    lstm = Network((100, 128), [LSTM(256, num_layers=2)])
    assert lstm.macs == 91_750_400
    assert lstm.params == 4 * 256 * (128 + 256) + 2 * 4 * 256 + 4 * 256 * (256 + 256) + 2 * 4 * 256
    gru = Network((10, 16), [GRU(32, bidirectional=True)])
    assert gru.output_shape == (10, 64)
    assert gru.params == 2 * (3 * 32 * (16 + 32) + 2 * 3 * 32)
    assert gru.macs == 2 * 10 * 3 * 32 * (16 + 32)
    rnn = Network((20, 8), [RNN(4, bias=False), Linear(3)])
    assert rnn.rows[0].params == 4 * (8 + 4)
    assert rnn.output_shape == (20, 3) and rnn.rows[1].macs == 20 * 4 * 3


def test_attention_by_hand():
    attention = Network((64, 256), [MultiheadAttention(256, 8)])
    assert attention.macs == 16_777_216 + 2_097_152  # 4*64*256^2 projections + 2*64^2*256
    assert attention.params == 4 * 256 * 256 + 4 * 256


@pytest.mark.parametrize(
    "layer, torch_module",
    [
        (LSTM(24, num_layers=2, bidirectional=True), nn.LSTM(12, 24, num_layers=2, bidirectional=True)),
        (GRU(24, num_layers=3), nn.GRU(12, 24, num_layers=3)),
        (RNN(24, bias=False), nn.RNN(12, 24, bias=False)),
        (MultiheadAttention(12, 3), nn.MultiheadAttention(12, 3)),
    ],
)
def test_sequence_layer_params_and_shapes_match_pytorch(layer, torch_module):
    net = Network((7, 12), [layer])
    assert net.params == sum(p.numel() for p in torch_module.parameters())
    x = torch.zeros(7, 1, 12)
    out = torch_module(x, x, x)[0] if isinstance(torch_module, nn.MultiheadAttention) else torch_module(x)[0]
    assert net.output_shape == tuple(out.shape[::2])  # (seq, batch, features) -> (seq, features)


ACTIVATION_MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softmax": lambda: nn.Softmax(-1)}


def _to_torch(layer, shape):
    """Build the PyTorch module that the spec describes, for an input of ``shape`` (no batch)."""
    if isinstance(layer, Conv2d):
        conv = nn.Conv2d(shape[0], layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                         layer.dilation, layer.groups, layer.bias, device="meta")
        return nn.Sequential(conv, ACTIVATION_MODULES[layer.activation]()) if layer.activation else conv
    if isinstance(layer, Linear):
        linear = nn.Linear(shape[-1], layer.out_features, layer.bias, device="meta")
        return nn.Sequential(linear, ACTIVATION_MODULES[layer.activation]()) if layer.activation else linear
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, AvgPool2d):
        return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, BatchNorm2d):
        return nn.BatchNorm2d(shape[0], device="meta")
    if isinstance(layer, GlobalAvgPool2d):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    return {ReLU: nn.ReLU, Tanh: nn.Tanh, Sigmoid: nn.Sigmoid}[type(layer)]()


@st.composite
def image_layer(draw, channels):
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool", "bn", "act"]))
    pair = st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5)))
    if kind == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        return Conv2d(groups * draw(st.integers(1, 4)), draw(pair), draw(pair), draw(st.integers(0, 2)),
                      draw(st.integers(1, 2)), groups, draw(st.booleans()),
                      draw(st.sampled_from([None, "relu", "tanh"])))
    if kind in ("maxpool", "avgpool"):
        kernel = draw(st.integers(1, 4))
        layer = MaxPool2d if kind == "maxpool" else AvgPool2d
        return layer(kernel, draw(st.integers(1, 3)), draw(st.integers(0, kernel // 2)), draw(st.booleans()))
    if kind == "bn":
        return BatchNorm2d()
    return draw(st.sampled_from([ReLU(), Tanh(), Sigmoid()]))


def _window_hangs_off_the_input(layer, shape):
    """PyTorch's ceil_mode accepts a pooling window larger than the padded input; we refuse it."""
    if not isinstance(layer, (MaxPool2d, AvgPool2d)):
        return False
    return any(k > size + 2 * p for k, size, p in zip(layer.kernel_size, shape[1:], layer.padding))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_networks_match_pytorch(data):
    """Shapes, parameters and MACs of random valid networks equal PyTorch's (batch of 1).

    PyTorch builds the same layers; its FlopCounterMode (FLOPs = 2 x MACs) counts the MACs.
    A layer PyTorch refuses must be refused by Network too.
    """
    shape = (data.draw(st.integers(1, 6)), data.draw(st.integers(6, 40)), data.draw(st.integers(6, 40)))
    layers, modules = [], []
    current = shape
    for _ in range(data.draw(st.integers(1, 5))):
        layer = data.draw(image_layer(current[0]))
        module = _to_torch(layer, current).eval()  # eval: batch norm accepts a 1x1 map at batch 1
        try:
            out = module(torch.empty((1,) + current, device="meta"))[0]
            if _window_hangs_off_the_input(layer, current):
                raise RuntimeError("accepted by PyTorch's ceil_mode, refused by Network")
        except RuntimeError:
            with pytest.raises(ValueError, match=f"layer {len(layers) + 1} "):
                Network(shape, layers + [layer])
            break
        layers.append(layer)
        modules.append(module)
        current = tuple(out.shape)
    if not layers:
        return  # the first layer was refused, and so checked above
    if data.draw(st.booleans()):
        for layer in (Flatten(), Linear(data.draw(st.integers(1, 30)), activation="relu"), Linear(3)):
            module = _to_torch(layer, current)
            current = tuple(module(torch.empty((1,) + current, device="meta")).shape[1:])
            layers.append(layer)
            modules.append(module)
    net = Network(shape, layers)
    torch_net = nn.Sequential(*modules)
    with FlopCounterMode(display=False) as counter:
        out = torch_net(torch.empty((1,) + shape, device="meta"))[0]
    assert net.output_shape == tuple(out.shape)
    assert [row.output_shape for row in net.rows][-1] == tuple(out.shape)
    assert net.params == sum(p.numel() for p in torch_net.parameters())
    assert 2 * net.macs == counter.get_total_flops()


@pytest.mark.parametrize(
    "input_shape, layers, message",
    [
        ((3, 32, 32), [Conv2d(8, 3), Conv2d(6, 3, groups=3)],
         r"layer 2 \(Conv2d\(6, k=3, groups=3\)\) cannot follow input of shape \(8, 30, 30\): "
         r"input has 8 channels, which groups=3 does not divide"),
        ((3, 8, 8), [MaxPool2d(2), MaxPool2d(2), MaxPool2d(2), MaxPool2d(2)],
         r"layer 4 .* shape \(3, 1, 1\): effective kernel 2 is larger than the padded input 1"),
        ((3, 8, 8), [Conv2d(4, 3), Linear(10)],
         r"layer 2 \(Linear\(10\)\) cannot follow input of shape \(4, 6, 6\): got an image .* not flattened"),
        ((3, 8, 8), [LSTM(16)],
         r"layer 1 \(LSTM\(16\)\) cannot follow input of shape \(3, 8, 8\): "
         r"expects a sequence \(seq_len, features\), got an image"),
        ((10,), [GRU(4)], r"expects a sequence .* got a vector"),
        ((5, 12), [MultiheadAttention(16, 4)], r"input has 12 features per token but embed_dim is 16"),
        ((100,), [Conv2d(4, 3)], r"layer 1 .* expects an image \(C, H, W\), got shape \(100,\)"),
        ((100,), [MaxPool2d(2)], r"expects an image"),
        ((100,), [GlobalAvgPool2d()], r"expects an image"),
        ((100,), [BatchNorm2d()], r"expects an image"),
        ((3, 8, 8), ["conv"], r"layer 1 is 'conv', not a layer spec"),
    ],
)
def test_layers_that_cannot_follow_name_position_and_shapes(input_shape, layers, message):
    with pytest.raises(ValueError, match=message):
        Network(input_shape, layers)


@pytest.mark.parametrize("bad", [(3, -1, 8), (), (1, 2, 3, 4), "3x8x8", (3.0, 8, 8), 5])
def test_bad_input_shape(bad):
    with pytest.raises(ValueError, match="input_shape must be"):
        Network(bad, [Flatten()])


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Conv2d(0, 3), "out_channels must be a positive int"),
        (lambda: Conv2d(6, 3, groups=4), "out_channels 6 must be divisible by groups 4"),
        (lambda: Conv2d(6, (3, 3, 3)), r"kernel_size must be an int or an \(h, w\) pair"),
        (lambda: Conv2d(6, 3, activation="gelu"), "activation must be one of"),
        (lambda: Linear(0), "out_features must be a positive int"),
        (lambda: Dropout(1.0), r"dropout probability p must be in \[0, 1\)"),
        (lambda: LSTM(0), "hidden_size must be a positive int"),
        (lambda: GRU(8, num_layers=0), "num_layers must be a positive int"),
        (lambda: MultiheadAttention(10, 3), "embed_dim 10 must be divisible by num_heads 3"),
        (lambda: MaxPool2d(True), "kernel_size must be an int"),
    ],
)
def test_bad_layer_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_memory_bytes_rejects_bad_value_size():
    with pytest.raises(ValueError, match="bytes_per_value must be a positive int"):
        seed_exam_network().memory_bytes(bytes_per_value=0)


def test_flatten_and_fused_activations_store_nothing_extra():
    fused = Network((1, 4, 4), [Conv2d(2, 3, activation="relu"), Flatten()])
    separate = Network((1, 4, 4), [Conv2d(2, 3), ReLU(), Flatten(), Softmax(), Dropout()])
    assert fused.activation_count() == 16 + 2 * 2 * 2
    assert separate.activation_count() == 16 + 8 + 8 + 8 + 8  # conv, relu, softmax, dropout rows
    assert math.prod(separate.output_shape) == 8


def test_batch_totals_scale_everything_but_the_parameters():
    from dlcourse.calc.report import batch_totals

    net = Network((10,), [Linear(5)])  # 55 params, 50 MACs, 10 + 5 stored values
    totals = batch_totals(net, 8, bytes_per_value=2)
    assert totals == {
        "batch_size": 8,
        "macs": 400,
        "flops": 800,
        "memory_bytes_activations_only": 8 * 15 * 2,
        "memory_bytes": 8 * 15 * 2 + 55 * 2,
    }
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        batch_totals(net, 0)
