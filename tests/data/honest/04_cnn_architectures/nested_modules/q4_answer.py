
def receptive_field(kernels, strides):
    if not kernels:
        return 1
    # the last layer's field, seen through the layers before it
    inner = receptive_field(kernels[1:], strides[1:])
    return kernels[0] + (inner - 1) * strides[0]
