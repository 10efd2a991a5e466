
class SeparableBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.pointwise = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                       nn.BatchNorm2d(out_channels), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels,
                                                 bias=False),
                                       nn.BatchNorm2d(in_channels), nn.ReLU())

    def forward(self, x):
        return self.pointwise(self.depthwise(x))

def separable_block(in_channels, out_channels, stride):
    return SeparableBlock(in_channels, out_channels, stride)
