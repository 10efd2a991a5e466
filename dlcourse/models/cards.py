"""One line of facts per model: computed sizes and costs next to what was published."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

from dlcourse.calc import summarize

INPUTS: Dict[str, Tuple[int, int, int]] = {
    "lenet5": (1, 32, 32),
    "alexnet": (3, 224, 224),
    "vgg16": (3, 224, 224),
    "googlenet": (3, 224, 224),
    "resnet50": (3, 224, 224),
    "mobilenet_v1": (3, 224, 224),
    "mobilenet_v2": (3, 224, 224),
}

# Published ImageNet top-1 accuracy (%, single 224 x 224 crop): torchvision's reference
# models, and MobileNet v1's own paper (torchvision has no v1).  LeNet-5 is an MNIST model.
TOP1: Dict[str, Optional[float]] = {
    "lenet5": None, "alexnet": 56.5, "vgg16": 71.6, "googlenet": 69.8,
    "resnet50": 76.1, "mobilenet_v1": 70.6, "mobilenet_v2": 71.9,
}

# Where each top-1 figure comes from (they come from different training recipes, so they
# compare the models only roughly).
TOP1_SOURCE: Dict[str, str] = {
    "lenet5": "an MNIST model", "alexnet": "torchvision", "vgg16": "torchvision", "googlenet": "torchvision",
    "resnet50": "torchvision", "mobilenet_v1": "its paper (torchvision has no v1)", "mobilenet_v2": "torchvision",
}

NAMES = {"lenet5": "LeNet-5", "alexnet": "AlexNet", "vgg16": "VGG-16", "googlenet": "GoogLeNet",
         "resnet50": "ResNet-50", "mobilenet_v1": "MobileNet v1", "mobilenet_v2": "MobileNet v2"}


@dataclass(frozen=True)
class Card:
    key: str
    name: str
    input_shape: Tuple[int, int, int]
    params: int
    macs: int
    activations_batch1_bytes: int
    activations_batch64_bytes: int
    top1: Optional[float]
    top1_source: str = ""


def card(key: str) -> Card:
    """Parameters, MACs and float32 activation memory (input included) at batch 1 and 64."""
    from dlcourse import models

    if key not in INPUTS:
        raise ValueError(f"unknown model {key!r}; known: {', '.join(INPUTS)}")
    with torch.device("meta"):
        model = getattr(models, key)().eval()
    one = summarize(model, (1, *INPUTS[key]))
    many = summarize(model, (64, *INPUTS[key]))
    return Card(key, NAMES[key], INPUTS[key], one.params, one.macs,
                one.memory_bytes(include_params=False), many.memory_bytes(include_params=False), TOP1[key],
                TOP1_SOURCE[key])


def cards() -> List[Card]:
    """A card for every model, oldest first."""
    return [card(key) for key in INPUTS]
