
def vgg_block(in_channels, out_channels, convs):
    layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    for _ in range(convs - 1):
        layers += [nn.ReLU(), nn.Conv2d(out_channels, out_channels, 3, padding=1)]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))
