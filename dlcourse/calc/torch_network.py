"""``to_torch``: the ``torch.nn`` module that a ``Network`` of layer specs describes, built on the meta device.

The module takes a batch: ``(batch, *network.input_shape)``.  It lets the tools that
run modules (``training_memory``) answer for a ``Network`` by the same rule as for any
other model.  Choices where the spec leaves PyTorch a choice:

* a fused ``activation`` is a separate activation module after the Conv2d or Linear;
* a sequence is batch-first, ``(batch, seq_len, features)``, and a recurrent layer
  returns its output sequence (not the final state);
* ``MultiheadAttention`` is self-attention without returning the attention weights
  (``need_weights=False``, as ``nn.TransformerEncoderLayer`` calls it);
* ``Softmax`` is over the last dimension.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dlcourse.calc import layers
from dlcourse.calc.network import Network

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softmax": lambda: nn.Softmax(dim=-1),
}


class _Sequence(nn.Module):
    """A recurrent layer that returns only its output sequence."""

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


class _SelfAttention(nn.Module):
    """Multi-head self-attention: query, key and value are all the input."""

    def __init__(self, attention: nn.MultiheadAttention) -> None:
        super().__init__()
        self.attention = attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x, x, x, need_weights=False)[0]


def to_torch(network: Network) -> nn.Sequential:
    """An ``nn.Sequential`` on the meta device doing what ``network`` describes, one module per layer.

    >>> from dlcourse.calc import Network, Conv2d, Flatten, Linear
    >>> net = Network((3, 8, 8), [Conv2d(4, 3, activation="relu"), Flatten(), Linear(10)])
    >>> module = to_torch(net)
    >>> sum(p.numel() for p in module.parameters()) == net.params, module(torch.empty(2, 3, 8, 8, device="meta")).shape
    (True, torch.Size([2, 10]))
    """
    if not isinstance(network, Network):
        raise ValueError(f"to_torch needs a dlcourse.calc Network, got {type(network).__name__}")
    modules = []
    shape = network.input_shape
    for layer, row in zip(network.layers, network.rows):
        with torch.device("meta"):
            modules.append(_module(layer, shape))
        shape = row.output_shape
    return nn.Sequential(*modules)


def _module(layer: layers.Layer, shape: tuple[int, ...]) -> nn.Module:
    if isinstance(layer, layers.Conv2d):
        conv = nn.Conv2d(shape[0], layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                         layer.dilation, layer.groups, layer.bias)
        return nn.Sequential(conv, _ACTIVATIONS[layer.activation]()) if layer.activation else conv
    if isinstance(layer, layers.Linear):
        linear = nn.Linear(shape[-1], layer.out_features, layer.bias)
        return nn.Sequential(linear, _ACTIVATIONS[layer.activation]()) if layer.activation else linear
    if isinstance(layer, layers.MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, layers.AvgPool2d):
        return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, layers.GlobalAvgPool2d):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, layers.Flatten):
        return nn.Flatten()
    if isinstance(layer, layers.BatchNorm2d):
        return nn.BatchNorm2d(shape[0])
    if isinstance(layer, layers.Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, layers.RecurrentLayer):
        kind = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[layer.kind]
        return _Sequence(kind(shape[-1], layer.hidden_size, layer.num_layers, bias=layer.bias, batch_first=True,
                              bidirectional=layer.bidirectional))
    if isinstance(layer, layers.MultiheadAttention):
        return _SelfAttention(nn.MultiheadAttention(layer.embed_dim, layer.num_heads, batch_first=True))
    elementwise: dict[type, Callable[[], nn.Module]] = {
        layers.ReLU: nn.ReLU, layers.Tanh: nn.Tanh, layers.Sigmoid: nn.Sigmoid,
        layers.Softmax: lambda: nn.Softmax(dim=-1),
    }
    if type(layer) in elementwise:
        return elementwise[type(layer)]()
    raise ValueError(f"to_torch has no PyTorch module for the layer {layer.name}; expected one of the layer "
                     "specs in dlcourse.calc.layers")
