
def receptive_field(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        field += (k - 1) * jump
        jump += s - 1
    return field
