"""The course's CNNs by name: one entry per model, with everything the package says about it.

``build``, the model cards (``dlcourse.models.cards``) and ``dlcourse.hardware.parallel``
read this registry; a new model is one more entry here.

>>> info = model_info("resnet50")
>>> info.name, info.input_shape, info.top1
('ResNet-50', (3, 224, 224), 76.1)
>>> list(MODELS)[:3]
['lenet5', 'alexnet', 'vgg16']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from dlcourse.models.classic import alexnet, lenet5, vgg16
from dlcourse.models.googlenet import googlenet
from dlcourse.models.mobilenet import mobilenet_v1, mobilenet_v2
from dlcourse.models.resnet import resnet50


@dataclass(frozen=True)
class ModelInfo:
    """One model: the ``key`` that ``build`` takes, its ``name`` as the book writes it, its ``builder``,
    the ``input_shape`` of one image (C, H, W) as its paper fed it, and its published ImageNet top-1
    accuracy (%, single 224 x 224 crop; None for LeNet-5, an MNIST model) with where it comes from."""

    key: str
    name: str
    builder: Callable[..., nn.Module]
    input_shape: tuple[int, int, int]
    top1: float | None
    top1_source: str


# Top-1 figures: torchvision's reference models, and MobileNet v1's own paper (torchvision has no v1).
# They come from different training recipes, so they compare the models only roughly.
#: Every model, oldest first.
MODELS: dict[str, ModelInfo] = {info.key: info for info in [
    ModelInfo("lenet5", "LeNet-5", lenet5, (1, 32, 32), None, "an MNIST model"),
    ModelInfo("alexnet", "AlexNet", alexnet, (3, 224, 224), 56.5, "torchvision"),
    ModelInfo("vgg16", "VGG-16", vgg16, (3, 224, 224), 71.6, "torchvision"),
    ModelInfo("googlenet", "GoogLeNet", googlenet, (3, 224, 224), 69.8, "torchvision"),
    ModelInfo("resnet50", "ResNet-50", resnet50, (3, 224, 224), 76.1, "torchvision"),
    ModelInfo("mobilenet_v1", "MobileNet v1", mobilenet_v1, (3, 224, 224), 70.6, "its paper (torchvision has no v1)"),
    ModelInfo("mobilenet_v2", "MobileNet v2", mobilenet_v2, (3, 224, 224), 71.9, "torchvision"),
]}


def model_info(key: str) -> ModelInfo:
    """The registry's entry for ``key``; a ValueError that lists the known keys if there is none.

    >>> model_info("lenet6")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'lenet6'; known: lenet5, alexnet, vgg16, googlenet, resnet50, mobilenet_v1, mobilenet_v2
    """
    if key not in MODELS:
        raise ValueError(f"unknown model {key!r}; known: {', '.join(MODELS)}")
    return MODELS[key]
