"""Layer specs: one small class per layer kind, each knowing its own rules.

A spec describes a layer without its input size.  ``apply(input_shape)``
returns what the layer does to one sample: its output shape, its number of
parameters and its multiply-accumulates (MACs).  Shapes carry no batch
dimension: ``(C, H, W)`` for images, ``(features,)`` for vectors and
``(seq_len, features)`` for sequences.

Conventions (the same everywhere in ``dlcourse.calc``):

* MACs count the multiply-accumulates of convolutions, linear layers,
  recurrent layers and the matrix products of attention.  Bias additions,
  activations, pooling and normalisation count no MACs.  FLOPs = 2 x MACs.
* Parameters follow PyTorch; recurrent layers have two bias vectors
  (``b_ih`` and ``b_hh``) per gate block.
* An ``activation`` fused into a Conv2d or Linear writes in place, so it adds
  no row and no stored values.

Pooling padding: PyTorch refuses padding larger than half the kernel
(``nn.AvgPool2d(2, stride=2, padding=2)`` raises).  Exams still ask for it, so
these specs answer with the formula instead of refusing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dlcourse.calc.sizes import IntOrPair, as_pair, conv_output_size
from dlcourse.validation import checked_int

Shape = tuple[int, ...]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax")


@dataclass(frozen=True)
class LayerResult:
    """What one layer does to one sample."""

    output_shape: Shape
    params: int
    macs: int
    stores_output: bool = True  # False for a view (Flatten): no new values are stored


class Layer:
    """Base class of all layer specs.  Subclasses define ``name`` and ``apply``."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    def apply(self, input_shape: Shape) -> LayerResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


def _check_activation(activation: str | None) -> str | None:
    if activation is None:
        return None
    if not isinstance(activation, str) or activation.lower() not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} or None, got {activation!r}"
        )
    return activation.lower()


def _options(**values: object) -> str:
    shown = [f"{key}={value}" for key, value in values.items() if value is not None]
    return ", ".join(shown)


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _expect_image(input_shape: Shape) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"expects an image (C, H, W), got shape {input_shape}")
    return input_shape  # type: ignore[return-value]


def _expect_sequence(input_shape: Shape) -> tuple[int, int]:
    if len(input_shape) != 2:
        kind = "an image" if len(input_shape) == 3 else "a vector"
        raise ValueError(
            f"expects a sequence (seq_len, features), got {kind} of shape {input_shape}"
        )
    return input_shape  # type: ignore[return-value]


def _window_output(
    height: int,
    width: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
) -> tuple[int, int]:
    return (
        conv_output_size(height, kernel[0], stride[0], padding[0], dilation[0], ceil_mode),
        conv_output_size(width, kernel[1], stride[1], padding[1], dilation[1], ceil_mode),
    )


class Conv2d(Layer):
    """2-D convolution (PyTorch's cross-correlation), input channels taken from the input.

    Parameters: ``out * (in / groups) * kh * kw`` weights plus ``out`` biases.
    MACs: ``out * H_out * W_out * (in / groups) * kh * kw``.

    >>> Conv2d(16, 7, padding=1, activation="relu").apply((3, 128, 128))
    LayerResult(output_shape=(16, 124, 124), params=2368, macs=36164352, stores_output=True)
    """

    def __init__(
        self,
        out_channels: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
        groups: int = 1,
        bias: bool = True,
        activation: str | None = None,
    ) -> None:
        self.out_channels = checked_int("out_channels", out_channels)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride = as_pair(stride, "stride")
        self.padding = as_pair(padding, "padding")
        self.dilation = as_pair(dilation, "dilation")
        self.groups = checked_int("groups", groups)
        self.bias = bool(bias)
        self.activation = _check_activation(activation)
        if out_channels % groups:
            raise ValueError(
                f"out_channels {out_channels} must be divisible by groups {groups}"
            )

    @property
    def name(self) -> str:
        options = _options(
            s=_pair_text(self.stride) if self.stride != (1, 1) else None,
            p=_pair_text(self.padding) if self.padding != (0, 0) else None,
            d=_pair_text(self.dilation) if self.dilation != (1, 1) else None,
            groups=self.groups if self.groups != 1 else None,
            bias=False if not self.bias else None,
        )
        text = f"Conv2d({self.out_channels}, k={_pair_text(self.kernel_size)}"
        text += f", {options})" if options else ")"
        return text + (f"+{self.activation}" if self.activation else "")

    def apply(self, input_shape: Shape) -> LayerResult:
        channels, height, width = _expect_image(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"input has {channels} channels, which groups={self.groups} does not divide"
            )
        out_h, out_w = _window_output(
            height, width, self.kernel_size, self.stride, self.padding, self.dilation
        )
        weights_per_output = (channels // self.groups) * self.kernel_size[0] * self.kernel_size[1]
        params = self.out_channels * weights_per_output + (self.out_channels if self.bias else 0)
        macs = self.out_channels * out_h * out_w * weights_per_output
        return LayerResult((self.out_channels, out_h, out_w), params, macs)


class _Pool2d(Layer):
    kind = "Pool2d"

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: IntOrPair = 0,
        ceil_mode: bool = False,
    ) -> None:
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else as_pair(stride, "stride")
        self.padding = as_pair(padding, "padding")
        self.ceil_mode = bool(ceil_mode)

    @property
    def name(self) -> str:
        options = _options(
            s=_pair_text(self.stride),
            p=_pair_text(self.padding) if self.padding != (0, 0) else None,
            ceil_mode=True if self.ceil_mode else None,
        )
        text = f"{self.kind}({_pair_text(self.kernel_size)}"
        return text + (f", {options})" if options else ")")

    def apply(self, input_shape: Shape) -> LayerResult:
        channels, height, width = _expect_image(input_shape)
        out_h, out_w = _window_output(
            height, width, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode
        )
        return LayerResult((channels, out_h, out_w), 0, 0)


class MaxPool2d(_Pool2d):
    """Max pooling; ``stride`` defaults to the kernel size, as in PyTorch.

    >>> MaxPool2d(3, stride=2).apply((16, 124, 124)).output_shape
    (16, 61, 61)
    """

    kind = "MaxPool2d"


class AvgPool2d(_Pool2d):
    """Average pooling; answers with the formula even where PyTorch refuses the padding.

    >>> AvgPool2d(2, stride=2, padding=2).apply((48, 57, 57)).output_shape
    (48, 30, 30)
    """

    kind = "AvgPool2d"


class GlobalAvgPool2d(Layer):
    """Average over the whole feature map: ``(C, H, W) -> (C, 1, 1)``.

    >>> GlobalAvgPool2d().apply((512, 7, 7)).output_shape
    (512, 1, 1)
    """

    name = "GlobalAvgPool2d()"

    def apply(self, input_shape: Shape) -> LayerResult:
        channels, _, _ = _expect_image(input_shape)
        return LayerResult((channels, 1, 1), 0, 0)


class Flatten(Layer):
    """Flatten a sample to a vector; a view, so it stores no new values.

    >>> Flatten().apply((48, 30, 30)).output_shape
    (43200,)
    """

    name = "Flatten()"

    def apply(self, input_shape: Shape) -> LayerResult:
        return LayerResult((math.prod(input_shape),), 0, 0, stores_output=False)


class Linear(Layer):
    """Fully connected layer on the last dimension (any leading dimensions).

    Parameters ``in * out + out``; MACs ``(leading sizes) * in * out``.

    >>> Linear(4096, activation="tanh").apply((43200,))
    LayerResult(output_shape=(4096,), params=176951296, macs=176947200, stores_output=True)
    """

    def __init__(
        self, out_features: int, bias: bool = True, activation: str | None = None
    ) -> None:
        self.out_features = checked_int("out_features", out_features)
        self.bias = bool(bias)
        self.activation = _check_activation(activation)

    @property
    def name(self) -> str:
        text = f"Linear({self.out_features}" + (", bias=False)" if not self.bias else ")")
        return text + (f"+{self.activation}" if self.activation else "")

    def apply(self, input_shape: Shape) -> LayerResult:
        if len(input_shape) >= 3:
            raise ValueError(
                f"got an image of shape {input_shape} that was not flattened; "
                "put Flatten() (or GlobalAvgPool2d() then Flatten()) before Linear"
            )
        in_features = input_shape[-1]
        leading = math.prod(input_shape[:-1])
        params = in_features * self.out_features + (self.out_features if self.bias else 0)
        macs = leading * in_features * self.out_features
        return LayerResult(input_shape[:-1] + (self.out_features,), params, macs)


class BatchNorm2d(Layer):
    """Batch normalisation over channels: ``2 * C`` learned parameters (gamma, beta).

    The running mean and variance are buffers, not parameters.

    >>> BatchNorm2d().apply((64, 56, 56)).params
    128
    """

    name = "BatchNorm2d()"

    def apply(self, input_shape: Shape) -> LayerResult:
        channels, _, _ = _expect_image(input_shape)
        return LayerResult(input_shape, 2 * channels, 0)


class _Elementwise(Layer):
    """A layer that keeps the shape and has no parameters or MACs."""

    def apply(self, input_shape: Shape) -> LayerResult:
        return LayerResult(input_shape, 0, 0)


class Dropout(_Elementwise):
    """Dropout keeps the shape; at test time it is the identity.

    >>> Dropout(0.5).apply((4096,)).output_shape
    (4096,)
    """

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)

    @property
    def name(self) -> str:
        return f"Dropout({self.p:g})"


class ReLU(_Elementwise):
    """ReLU as its own row (its output counts as stored values)."""

    name = "ReLU()"


class Tanh(_Elementwise):
    """tanh as its own row."""

    name = "Tanh()"


class Sigmoid(_Elementwise):
    """Sigmoid as its own row."""

    name = "Sigmoid()"


class Softmax(_Elementwise):
    """Softmax over the last dimension, as its own row."""

    name = "Softmax()"


class RecurrentLayer(Layer):
    kind = "RNN"
    gates = 1

    def __init__(
        self,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        bias: bool = True,
    ) -> None:
        self.hidden_size = checked_int("hidden_size", hidden_size)
        self.num_layers = checked_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.bias = bool(bias)

    @property
    def name(self) -> str:
        options = _options(
            layers=self.num_layers if self.num_layers != 1 else None,
            bidirectional=True if self.bidirectional else None,
            bias=False if not self.bias else None,
        )
        return f"{self.kind}({self.hidden_size}" + (f", {options})" if options else ")")

    def apply(self, input_shape: Shape) -> LayerResult:
        seq_len, features = _expect_sequence(input_shape)
        hidden, gates = self.hidden_size, self.gates
        directions = 2 if self.bidirectional else 1
        params = macs = 0
        layer_input = features
        for _ in range(self.num_layers):
            per_direction = gates * hidden * (layer_input + hidden)
            params += directions * (per_direction + (2 * gates * hidden if self.bias else 0))
            macs += directions * seq_len * per_direction
            layer_input = hidden * directions
        return LayerResult((seq_len, hidden * directions), params, macs)


class RNN(RecurrentLayer):
    """Elman RNN (tanh): one gate block.

    >>> RNN(64).apply((20, 32))
    LayerResult(output_shape=(20, 64), params=6272, macs=122880, stores_output=True)
    """

    kind = "RNN"
    gates = 1


class LSTM(RecurrentLayer):
    """LSTM: four gate blocks (input, forget, cell, output).

    >>> LSTM(256, num_layers=2).apply((100, 128)).macs
    91750400
    """

    kind = "LSTM"
    gates = 4


class GRU(RecurrentLayer):
    """GRU: three gate blocks (reset, update, new).

    >>> GRU(32, bidirectional=True).apply((10, 16)).output_shape
    (10, 64)
    """

    kind = "GRU"
    gates = 3


class MultiheadAttention(Layer):
    """Multi-head self-attention on a sequence ``(seq_len, embed_dim)``, as ``nn.MultiheadAttention``.

    Parameters: ``4 E^2 + 4 E`` (Q, K, V and output projections with biases).
    MACs: ``4 T E^2`` in the projections plus ``2 T^2 E`` for ``Q K^T`` and ``A V``.

    >>> MultiheadAttention(256, 8).apply((64, 256)).macs
    18874368
    """

    def __init__(self, embed_dim: int, num_heads: int) -> None:
        self.embed_dim = checked_int("embed_dim", embed_dim)
        self.num_heads = checked_int("num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")

    @property
    def name(self) -> str:
        return f"MultiheadAttention({self.embed_dim}, heads={self.num_heads})"

    def apply(self, input_shape: Shape) -> LayerResult:
        seq_len, features = _expect_sequence(input_shape)
        if features != self.embed_dim:
            raise ValueError(
                f"input has {features} features per token but embed_dim is {self.embed_dim}"
            )
        dim = self.embed_dim
        params = 4 * dim * dim + 4 * dim
        macs = 4 * seq_len * dim * dim + 2 * seq_len * seq_len * dim
        return LayerResult(input_shape, params, macs)
