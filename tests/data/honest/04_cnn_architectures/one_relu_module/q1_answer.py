
def vgg_block(in_channels, out_channels, convs):
    relu = nn.ReLU()                  # stateless: one module can run after every convolution
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1), relu]
    return nn.Sequential(*layers, nn.MaxPool2d(2))
