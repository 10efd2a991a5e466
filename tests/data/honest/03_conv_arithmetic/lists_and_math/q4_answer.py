
def walk(input_shape, layers):
    rows, shape = [], list(input_shape)
    for layer in layers:
        if layer[0] == "conv":
            _, filters, k, s, p = layer
            size = [output_size(n, k, s, p) for n in shape[1:]]
            rows.append([[filters] + size, conv_params(shape[0], filters, k), conv_macs(shape[0], filters, k, *size)])
            shape = [filters] + size
        elif layer[0] == "flatten":
            shape = [int(np.prod(shape))]
            rows.append([shape, 0, 0])
        elif layer[0] == "fc":
            rows.append([[layer[1]], fc_params(shape[0], layer[1]), fc_macs(shape[0], layer[1])])
            shape = [layer[1]]
        else:
            _, k, s, p = layer
            shape = [shape[0]] + [output_size(n, k, s, p) for n in shape[1:]]
            rows.append([shape, 0, 0])
    return rows
