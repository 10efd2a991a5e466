"""The course's models, written from scratch in plain PyTorch.

CNNs from LeNet to MobileNet (blocks named after their papers'; parameter counts equal the
reference implementations', checked in tests/test_models.py); recurrent layers and cells
(RNN, LSTM, GRU), attention (four score functions and multi-head attention) and the
Transformer's LayerNorm and encoder layer, that load the state dicts of their ``torch.nn``
namesakes and give the same outputs (checked in tests/test_recurrent.py, tests/test_attention.py
and tests/test_transformer.py); and GPT-2, checked against a twin built from torch's layers.
"""

from dlcourse.models.attention import (
    AdditiveAttention,
    CosineAttention,
    DotProductAttention,
    GeneralAttention,
    MultiHeadAttention,
    causal_mask,
)
from dlcourse.models.classic import (
    LENET5_C3_TABLE,
    VGG,
    AlexNet,
    LeNet5,
    alexnet,
    lenet5,
    lenet5_paper_parameters,
    vgg16,
)
from dlcourse.models.googlenet import GoogLeNet, Inception, googlenet
from dlcourse.models.mobilenet import (
    DepthwiseSeparable,
    InvertedResidual,
    MobileNetV1,
    MobileNetV2,
    mobilenet_v1,
    mobilenet_v2,
)
from dlcourse.models.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    gradient_norms_through_time,
    recurrent_parameter_count,
)
from dlcourse.models.registry import MODELS, ModelInfo, model_info
from dlcourse.models.resnet import Bottleneck, ResNet, resnet50
from dlcourse.models.transformer import (
    GPT,
    Block,
    CausalSelfAttention,
    LayerNorm,
    TransformerEncoderLayer,
    sinusoidal_positions,
    torch_gpt_twin,
)


def build(name: str, device: str = "cpu", **kwargs):
    """One of the course's models by name (a key of ``MODELS``), in evaluation mode.

    On ``device="meta"`` nothing is allocated: a VGG-16 of 138 million parameters costs
    no memory, and ``dlcourse.calc.summarize`` still gives its shapes and counts.

    >>> model = build("vgg16", device="meta")
    >>> sum(p.numel() for p in model.parameters()), model.training
    (138357544, False)
    """
    builder = model_info(name).builder
    import torch

    with torch.device(device):
        return builder(**kwargs).eval()


__all__ = [
    "AlexNet", "Bottleneck", "DepthwiseSeparable", "GoogLeNet", "Inception", "InvertedResidual", "LeNet5",
    "MobileNetV1", "MobileNetV2", "ResNet", "VGG", "alexnet", "googlenet", "lenet5", "mobilenet_v1",
    "mobilenet_v2", "resnet50", "vgg16", "build", "MODELS", "ModelInfo", "model_info", "LENET5_C3_TABLE",
    "lenet5_paper_parameters",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "gradient_norms_through_time", "recurrent_parameter_count",
    "DotProductAttention", "GeneralAttention", "AdditiveAttention", "CosineAttention", "MultiHeadAttention",
    "causal_mask", "LayerNorm", "TransformerEncoderLayer", "CausalSelfAttention", "Block", "GPT", "torch_gpt_twin",
    "sinusoidal_positions",
]
