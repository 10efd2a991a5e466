"""LeNet-5, AlexNet and VGG-16: plain stacks of convolutions, pooling and fully connected layers."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) on 32x32 grey images.

    C1: 6 filters 5x5 -> 28x28; S2: 2x2 average pooling -> 14x14; C3: 16 filters 5x5 -> 10x10;
    S4: pooling -> 5x5; C5: 120 filters 5x5 -> 1x1; F6: 84 units; output: 10 classes.
    tanh activations, as in the paper (its sparse C3 connections are made full here).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s2(torch.tanh(self.c1(x)))
        x = self.s4(torch.tanh(self.c3(x)))
        x = torch.tanh(self.c5(x)).flatten(1)
        return self.output(torch.tanh(self.f6(x)))


def lenet5(num_classes: int = 10) -> LeNet5:
    """LeNet-5 for 1x32x32 inputs: 61,706 parameters with 10 classes."""
    return LeNet5(num_classes)


#: The paper's Table I: the S2 maps (0-5) that each of the 16 C3 maps reads.  Six read three
#: neighbouring maps, six read four neighbouring maps, three read four maps with a gap, one reads all.
LENET5_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def lenet5_paper_parameters() -> dict[str, int]:
    """The trainable parameters of each layer of LeNet-5 as the paper builds it.

    Differences from :class:`LeNet5`: C3 is sparse (``LENET5_C3_TABLE``); each subsampling
    map has a trainable coefficient and a bias; the ten output units are radial basis
    functions whose 84 x 10 centres were chosen by hand and kept fixed, so they are not
    counted.  The total is the paper's "about 60,000".

    >>> counts = lenet5_paper_parameters()
    >>> counts["C3"], sum(counts.values())
    (1516, 60000)
    """
    kernel = 5 * 5
    return {
        "C1": 6 * (kernel + 1),
        "S2": 6 * 2,
        "C3": sum(len(inputs) * kernel + 1 for inputs in LENET5_C3_TABLE),
        "S4": 16 * 2,
        "C5": 120 * (16 * kernel + 1),
        "F6": 84 * (120 + 1),
    }


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) in the common single-GPU layout (as torchvision).

    Five convolutions (11x11 stride 4, 5x5, then three 3x3), overlapping 3x3 stride-2 max
    pooling, ReLU everywhere, and three fully connected layers with dropout.  The paper's
    local response normalisation and two-GPU split are left out; the first layer has 64
    filters instead of 96.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(num_classes: int = 1000) -> AlexNet:
    """AlexNet: 61,100,840 parameters with 1000 classes."""
    return AlexNet(num_classes)


VGG16_STAGES: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                                       512, 512, 512, "M", 512, 512, 512, "M"]


class VGG(nn.Module):
    """VGG (Simonyan & Zisserman, 2014): only 3x3 convolutions (padding 1) in blocks, each
    block ending with 2x2 max pooling, then three fully connected layers."""

    def __init__(self, stages: Sequence[int | str], num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for stage in stages:
            if stage == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(stage), 3, padding=1), nn.ReLU(inplace=True)]
                channels = int(stage)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (13 convolutions, 3 fully connected): 138,357,544 parameters."""
    return VGG(VGG16_STAGES, num_classes)
