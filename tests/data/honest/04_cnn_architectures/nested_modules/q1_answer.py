
def vgg_block(in_channels, out_channels, convs):
    pairs = [nn.Sequential(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size=3, padding=1),
                           nn.ReLU(inplace=True)) for i in range(convs)]
    return nn.Sequential(nn.Sequential(*pairs), nn.MaxPool2d(kernel_size=2, stride=2))
