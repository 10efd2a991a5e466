
def separable_block(in_channels, out_channels, stride):
    relu = nn.ReLU()
    return nn.Sequential(nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
                         nn.BatchNorm2d(in_channels), relu,
                         nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), relu)
