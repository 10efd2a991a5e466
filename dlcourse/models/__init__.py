"""Networks written from scratch in plain PyTorch, named after their papers' blocks."""

from .resnet import Bottleneck, ResNet, resnet50

__all__ = ["Bottleneck", "ResNet", "resnet50"]
