"""GoogLeNet / Inception v1 (Szegedy et al., 2014), in the layout of torchvision's model.

An Inception block runs four branches side by side on the same input and concatenates
their channels: a 1x1 convolution; a 1x1 "reduce" then a 3x3; a 1x1 reduce then the
"5x5" branch; and a 3x3 max pooling followed by a 1x1 "pool projection".  The 1x1 reduce
layers (bottlenecks) are what keep the network cheap.

By default the model is torchvision's, which differs from the paper in two ways: its
"5x5" branch uses a 3x3 kernel (kept there for compatibility with trained weights), and
every convolution is followed by batch normalisation (so it has no bias).  With the
default settings the parameter count is the reference 6,624,904.  ``googlenet(paper=True)``
is the paper's layout: 5x5 kernels in that branch, no batch normalisation, convolutions
with biases (local response normalisation, which has no parameters, is left out).
"""

from __future__ import annotations

import torch
from torch import nn


class BasicConv2d(nn.Sequential):
    """Convolution (no bias) -> batch norm -> ReLU; or, without batch norm, convolution with a bias -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, batch_norm: bool = True) -> None:
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=not batch_norm)
        norm = [nn.BatchNorm2d(out_channels, eps=0.001)] if batch_norm else []
        super().__init__(conv, *norm, nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Four parallel branches concatenated along the channels."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int,
                 ch5x5_reduce: int, ch5x5: int, pool_proj: int, five_by_five: int = 3, batch_norm: bool = True) -> None:
        super().__init__()
        bn = batch_norm
        self.branch_1x1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=bn)
        self.branch_3x3 = nn.Sequential(BasicConv2d(in_channels, ch3x3_reduce, 1, batch_norm=bn),
                                        BasicConv2d(ch3x3_reduce, ch3x3, 3, padding=1, batch_norm=bn))
        self.branch_5x5 = nn.Sequential(BasicConv2d(in_channels, ch5x5_reduce, 1, batch_norm=bn),
                                        BasicConv2d(ch5x5_reduce, ch5x5, five_by_five, padding=five_by_five // 2,
                                                    batch_norm=bn))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                         BasicConv2d(in_channels, pool_proj, 1, batch_norm=bn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch_1x1, self.branch_3x3, self.branch_5x5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate layer, used only while training."""

    def __init__(self, in_channels: int, num_classes: int, batch_norm: bool = True) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.conv = BasicConv2d(in_channels, 128, 1, batch_norm=batch_norm)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    """22 layers deep: a convolutional stem, nine Inception blocks, global average pooling."""

    def __init__(self, num_classes: int = 1000, aux_classifiers: bool = False, five_by_five: int = 3,
                 batch_norm: bool = True) -> None:
        super().__init__()
        pool = lambda kernel: nn.MaxPool2d(kernel, stride=2, ceil_mode=True)  # noqa: E731
        bn = batch_norm
        self.stem = nn.Sequential(
            BasicConv2d(3, 64, 7, stride=2, padding=3, batch_norm=bn), pool(3),
            BasicConv2d(64, 64, 1, batch_norm=bn), BasicConv2d(64, 192, 3, padding=1, batch_norm=bn), pool(3),
        )
        k = five_by_five
        self.inception3 = nn.Sequential(Inception(192, 64, 96, 128, 16, 32, 32, k, bn),
                                        Inception(256, 128, 128, 192, 32, 96, 64, k, bn), pool(3))
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64, k, bn)
        self.inception4bcd = nn.Sequential(Inception(512, 160, 112, 224, 24, 64, 64, k, bn),
                                           Inception(512, 128, 128, 256, 24, 64, 64, k, bn),
                                           Inception(512, 112, 144, 288, 32, 64, 64, k, bn))
        self.inception4e = nn.Sequential(Inception(528, 256, 160, 320, 32, 128, 128, k, bn), pool(2))
        self.inception5 = nn.Sequential(Inception(832, 256, 160, 320, 32, 128, 128, k, bn),
                                        Inception(832, 384, 192, 384, 48, 128, 128, k, bn))
        self.aux1: InceptionAux | None = InceptionAux(512, num_classes, bn) if aux_classifiers else None
        self.aux2: InceptionAux | None = InceptionAux(528, num_classes, bn) if aux_classifiers else None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.inception4a(self.inception3(self.stem(x)))
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4bcd(x)
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception5(self.inception4e(x))
        out = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if aux1 is not None and aux2 is not None:
            return out, aux1, aux2
        return out


def googlenet(num_classes: int = 1000, aux_classifiers: bool = False, paper: bool = False) -> GoogLeNet:
    """GoogLeNet as torchvision has it (6,624,904 parameters; 13,004,888 with the auxiliary
    classifiers), or with ``paper=True`` as the paper lays it out (5x5 kernels, biases, no
    batch normalisation)."""
    if paper:
        return GoogLeNet(num_classes, aux_classifiers, five_by_five=5, batch_norm=False)
    return GoogLeNet(num_classes, aux_classifiers)
