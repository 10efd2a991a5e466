"""MobileNet v1 (Howard et al., 2017) and v2 (Sandler et al., 2018).

A depthwise separable convolution replaces one k x k convolution from M to N channels
(cost k k M N D D for a D x D output) by a depthwise k x k convolution, one filter per
channel (k k M D D), and a pointwise 1 x 1 convolution (M N D D): the cost ratio is
1/N + 1/k^2, eight to nine times fewer multiplications for 3 x 3 kernels.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
            groups: int = 1, activation: type = nn.ReLU) -> nn.Sequential:
    """Convolution without bias, batch norm, activation (ReLU for v1, ReLU6 for v2)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        activation(inplace=True),
    )


class DepthwiseSeparable(nn.Sequential):
    """3x3 depthwise convolution (groups = channels) then 1x1 pointwise convolution."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__(
            conv_bn(in_channels, in_channels, 3, stride, groups=in_channels),
            conv_bn(in_channels, out_channels, 1),
        )


class MobileNetV1(nn.Module):
    """A standard 3x3 convolution, 13 depthwise separable blocks, global pooling, one FC layer."""

    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, 32, 3, stride=2)]
        channels = 32
        for out_channels, stride in self.BLOCKS:
            layers.append(DepthwiseSeparable(channels, out_channels, stride))
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class InvertedResidual(nn.Module):
    """Expand with 1x1 (t times), 3x3 depthwise, project back with a linear 1x1; add the
    input when the shapes allow (stride 1, same channels)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = in_channels * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn(in_channels, hidden, 1, activation=nn.ReLU6))
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    """Inverted residual blocks with linear bottlenecks (expansion t, channels c, repeats n, stride s)."""

    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, 32, 3, stride=2, activation=nn.ReLU6)]
        channels = 32
        for expand, out_channels, repeats, stride in self.SETTINGS:
            for index in range(repeats):
                layers.append(InvertedResidual(channels, out_channels, stride if index == 0 else 1, expand))
                channels = out_channels
        layers.append(conv_bn(channels, 1280, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def mobilenet_v1(num_classes: int = 1000) -> MobileNetV1:
    """MobileNet v1 (width 1.0, 224x224, batch norm, no convolution bias): 4,231,976 parameters."""
    return MobileNetV1(num_classes)


def mobilenet_v2(num_classes: int = 1000) -> MobileNetV2:
    """MobileNet v2 (width 1.0): 3,504,872 parameters."""
    return MobileNetV2(num_classes)
