"""CNNs from LeNet to MobileNet, written from scratch in plain PyTorch.

Blocks are named after their papers'; parameter counts equal the reference
implementations' (checked in tests/test_models.py).
"""

from .classic import AlexNet, LeNet5, VGG, alexnet, lenet5, vgg16
from .googlenet import GoogLeNet, Inception, googlenet
from .mobilenet import DepthwiseSeparable, InvertedResidual, MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2
from .resnet import Bottleneck, ResNet, resnet50

__all__ = [
    "AlexNet", "Bottleneck", "DepthwiseSeparable", "GoogLeNet", "Inception", "InvertedResidual", "LeNet5",
    "MobileNetV1", "MobileNetV2", "ResNet", "VGG", "alexnet", "googlenet", "lenet5", "mobilenet_v1",
    "mobilenet_v2", "resnet50", "vgg16",
]
