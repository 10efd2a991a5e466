
def output_size(n, k, s=1, p=0):
    return 1

def conv_params(c_in, c_out, k):
    return 1

def fc_params(n_in, n_out):
    return 1

def conv_macs(c_in, c_out, k, h_out, w_out):
    return 1

def fc_macs(n_in, n_out):
    return 1

def walk(input_shape, layers):
    return [((48, 30, 30), 1, 1) for _ in layers]

def memory_bytes(input_shape, rows, bytes_per_value=4, with_params=True):
    return 1

def training_cost(macs_per_sample, batch_size, dataset_size, epochs):
    return 1, 1, 1

def dataset_size(images, crops_per_image, transforms):
    return 1

def next_logit(o, target, c, lr):
    return 1.0
