"""Every shape-only shortcut gives what PyTorch's own meta kernel gives, or steps aside."""

import subprocess
import sys

import pytest
import torch

from dlcourse.calc.meta_shortcuts import SHORTCUTS, shortcut

aten = torch.ops.aten


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


def conv(x, w, stride, padding, dilation, transposed=False, output_padding=None, groups=1):
    output_padding = output_padding or [0] * len(stride)
    return (x, w, None, stride, padding, dilation, transposed, output_padding, groups)


CASES = [
    (aten.convolution.default, conv(meta(2, 3, 17, 15), meta(8, 3, 3, 5), [1, 1], [0, 0], [1, 1]), {}),
    (aten.convolution.default, conv(meta(2, 4, 17, 15), meta(8, 2, 3, 3), [2, 3], [1, 2], [2, 1], groups=2), {}),
    (aten.convolution.default, conv(meta(1, 6, 9), meta(6, 1, 4), [2], [1], [1], groups=6), {}),
    (aten.convolution.default, conv(meta(2, 4, 7, 9), meta(4, 3, 3, 3), [2, 2], [1, 0], [1, 2], True, [1, 0]), {}),
    (aten.convolution.default, conv(meta(2, 4, 7, 9), meta(4, 3, 2, 2), [1, 1], [0, 0], [1, 1], True, groups=2), {}),
    (aten.max_pool2d_with_indices.default, (meta(2, 3, 17, 16), [3, 3], [2, 2]), {}),
    (aten.max_pool2d_with_indices.default, (meta(3, 17, 16), [3, 2], [2, 1], [1, 1], [2, 1], True), {}),
    (aten.max_pool2d_with_indices.default, (meta(1, 1, 5, 5), [2], [], [1], [1], True), {}),
    (aten.avg_pool2d.default, (meta(2, 3, 57, 57), [2, 2], [2, 2], [1, 1], True), {}),
    (aten.avg_pool2d.default, (meta(2, 3, 9, 8), [3, 3]), {}),
    (aten.empty_like.default, (meta(2, 3),), {}),
    (aten.empty_like.default, (meta(2, 3),), {"dtype": torch.bool, "memory_format": torch.preserve_format}),
    (aten.mm.default, (meta(4, 5), meta(5, 6)), {}),
    (aten.addmm.default, (meta(6), meta(4, 5), meta(5, 6)), {}),
    (aten.addmm.default, (meta(4, 1), meta(4, 5), meta(5, 6)), {"beta": 0.5}),
    (aten.bmm.default, (meta(3, 4, 5), meta(3, 5, 2)), {}),
    (aten.native_batch_norm.default, (meta(2, 3, 4, 4), meta(3), meta(3), meta(3), meta(3), True, 0.1, 1e-5), {}),
    (aten.native_layer_norm.default, (meta(2, 5, 8), [8], meta(8), meta(8), 1e-5), {}),
    (aten.native_layer_norm.default, (meta(2, 5, 8), [5, 8], None, None, 1e-5), {}),
    (aten.mean.dim, (meta(2, 3, 7, 7), [-1, -2], True), {}),
    (aten.mean.dim, (meta(2, 3, 7, 7), [1]), {}),
    (aten.mean.dim, (meta(2, 3), None), {}),
    (aten.stack.default, ([meta(2, 3), meta(2, 3), meta(2, 3)], 1), {}),
    (aten.stack.default, ([meta(2, 3), meta(2, 3)], -1), {}),
    (aten._softmax.default, (meta(2, 9), -1, False), {}),
    (aten._safe_softmax.default, (meta(2, 9), -1), {}),
    (aten._log_softmax.default, (meta(2, 9), 1, False), {}),
    (aten.hardswish.default, (meta(2, 9),), {}),
    (aten.hardsigmoid.default, (meta(2, 9),), {}),
    (aten.add.Tensor, (meta(2, 1, 4), meta(3, 1)), {}),
    (aten.mul.Tensor, (meta(2, 3), 0.5), {}),
    (aten.sigmoid.default, (meta(5, dtype=torch.float64),), {}),
    (aten.tanh.default, (meta(5),), {}),
]


@pytest.mark.parametrize("func, args, kwargs", CASES, ids=lambda value: str(value)[:40])
def test_shortcut_matches_the_real_meta_kernel(func, args, kwargs):
    ours = shortcut(func, args, kwargs)
    real = func(*args, **kwargs)
    assert ours is not NotImplemented
    ours = ours if isinstance(ours, tuple) else (ours,)
    real = real if isinstance(real, tuple) else (real,)
    # batch norm's saved statistics are only used by its backward; their shape is not checked
    checked = 1 if func is aten.native_batch_norm.default else len(real)
    for mine, theirs in zip(ours[:checked], real[:checked]):
        assert mine.shape == theirs.shape and mine.dtype == theirs.dtype and mine.device == theirs.device


def test_every_shortcut_is_exercised():
    assert set(SHORTCUTS) <= {case[0] for case in CASES}


def test_in_place_pointwise_returns_its_input():
    x = meta(2, 3)
    assert shortcut(aten.relu_.default, (x,), {}) is x
    assert shortcut(aten.add_.Tensor, (x, meta(3)), {}) is x


@pytest.mark.parametrize(
    "func, args",
    [
        (aten.mm.default, (meta(4, 5), meta(4, 6))),  # inner sizes differ: PyTorch raises
        (aten.addmm.default, (meta(7), meta(4, 5), meta(5, 6))),  # bias does not broadcast
        (aten.bmm.default, (meta(3, 4, 5), meta(2, 5, 2))),
        (aten.add.Tensor, (meta(2, 3), meta(4))),  # shapes do not broadcast
        (aten.add.Tensor, (meta(2, 3), meta(2, 3, dtype=torch.float64))),  # promotion: leave it to torch
        (aten.eq.Tensor, (meta(2, 3), meta(2, 3))),  # result is bool
        (aten.add_.Tensor, (meta(1, 3), meta(2, 3))),  # in place cannot grow the input
        (aten.mean.dim, (meta(2, 3, dtype=torch.float16), [0], False, torch.float32)),
        (aten.mm.default, (meta(4, 5, dtype=torch.int64), meta(5, 6))),
        (aten.convolution.default, conv(meta(2, 4, 9, 9), meta(8, 3, 3, 3), [1, 1], [0, 0], [1, 1])),
        (aten.avg_pool2d.default, (meta(1, 1, 9, 9), [2, 2], [2, 2], [2, 2])),  # padding above k/2
        (aten.max_pool2d_with_indices.default, (meta(1, 1, 2, 2), [3, 3], [2, 2], [0, 0], [1, 1], True)),
        (aten.convolution.default, conv(meta(4, 9, 9), meta(8, 4, 3, 3), [1, 1], [0, 0], [1, 1])),
    ],
)
def test_doubtful_cases_step_aside(func, args):
    assert shortcut(func, args, {}) is NotImplemented


def test_convolution_larger_than_its_input_is_refused_in_words():
    with pytest.raises(ValueError, match="effective kernel 5 is larger than the padded input 4"):
        shortcut(aten.convolution.default, conv(meta(1, 1, 4, 4), meta(1, 1, 5, 5), [1, 1], [0, 0], [1, 1]), {})


def test_summarize_does_not_pay_for_torch_dynamo_or_sympy():
    """The shortcuts exist to avoid importing torch._dynamo (0.8 s) and sympy (0.3 s) in a fresh process."""
    code = (
        "import sys, torch\n"
        "from torch import nn\n"
        "from dlcourse.calc import summarize\n"
        "from dlcourse.models import resnet50\n"
        "summarize(resnet50(), (1, 3, 64, 64))\n"
        "summarize(nn.LSTM(8, 16, 2), (5, 1, 8))\n"
        "summarize(nn.TransformerEncoderLayer(16, 2), (5, 1, 16))\n"
        "print('torch._dynamo' in sys.modules, 'sympy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"
