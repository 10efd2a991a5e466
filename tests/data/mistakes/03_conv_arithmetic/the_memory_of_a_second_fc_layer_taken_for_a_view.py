
def memory_bytes(input_shape, rows, bytes_per_value=4, with_params=True):
    values, previous = int(np.prod(input_shape)), tuple(input_shape)
    for shape, params, macs in rows:
        if not (len(shape) == 1 and int(np.prod(shape)) == int(np.prod(previous))):
            values += int(np.prod(shape))
        values += params if with_params else 0
        previous = tuple(shape)
    return values * bytes_per_value
