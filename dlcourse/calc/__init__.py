"""Exam arithmetic for neural networks: shapes, parameters, MACs/FLOPs, memory, training cost.

Write a network as a list of layers, per sample, without the batch::

    >>> from dlcourse.calc import Network, Conv2d, MaxPool2d, AvgPool2d, Flatten, Linear
    >>> net = Network((3, 128, 128), [
    ...     Conv2d(16, 7, padding=1, activation="relu"),
    ...     MaxPool2d(3, stride=2),
    ...     Conv2d(48, 5, activation="relu"),
    ...     AvgPool2d(2, stride=2, padding=2),
    ...     Flatten(),
    ...     Linear(4096, activation="tanh"),
    ...     Linear(2, activation="softmax"),
    ... ])
    >>> net.rows[3].output_shape, net.params, net.macs
    ((48, 30, 30), 176981106, 275500544)

or summarize any ``torch.nn.Module`` (batch included) with ``summarize``.
GPT-2-style language models in closed form (parameters, forward MACs, 6ND, KV cache): ``transformers``.

Conventions:

* MACs count the multiply-accumulates of convolutions, linear layers,
  recurrent layers and attention matrix products, without bias additions;
  FLOPs = 2 x MACs.  Exams that say "flops" often mean multiplications,
  i.e. MACs: check which one a question wants.
* The activation count sums every row's output values, except a Flatten
  (a view) and a fused activation (it writes in place); ``memory_bytes``
  adds the input and the parameters unless told not to.
* Parameters follow PyTorch; recurrent layers have two bias vectors per gate
  block.  A recurrent layer maps ``(seq_len, features)`` to
  ``(seq_len, hidden x directions)`` with
  ``seq_len x gates x hidden x (input + hidden)`` MACs per layer and direction.
* Pooling padding larger than half the kernel is answered with the formula,
  although PyTorch would refuse such a layer.
"""

from dlcourse.calc.costs import TrainingCost, augmented_count, softmax, softmax_cross_entropy_grad, training_cost
from dlcourse.calc.layers import (
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    LayerResult,
    Linear,
    MaxPool2d,
    MultiheadAttention,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from dlcourse.calc.network import Network
from dlcourse.calc.report import Row, Summary
from dlcourse.calc.sizes import conv_output_size
from dlcourse.calc.summarize import group_rows, summarize
from dlcourse.calc.training_memory import TrainingMemory, max_batch_size, training_memory
from dlcourse.calc.transformers import (
    GPT2_PRESETS,
    GPTConfig,
    GPTParams,
    gpt_forward_macs,
    gpt_forward_macs_by_term,
    gpt_params,
    gpt_training_flops,
    kv_cache_bytes,
    training_flops,
)

__all__ = [
    "AvgPool2d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "GRU", "GlobalAvgPool2d",
    "LSTM", "Layer", "LayerResult", "Linear", "MaxPool2d", "MultiheadAttention", "Network",
    "RNN", "ReLU", "Row", "Sigmoid", "Softmax", "Summary", "Tanh", "TrainingCost",
    "augmented_count", "conv_output_size", "softmax", "softmax_cross_entropy_grad",
    "group_rows", "summarize", "training_cost", "TrainingMemory", "max_batch_size", "training_memory",
    "GPT2_PRESETS", "GPTConfig", "GPTParams", "gpt_forward_macs", "gpt_forward_macs_by_term", "gpt_params",
    "gpt_training_flops", "kv_cache_bytes", "training_flops",
]
