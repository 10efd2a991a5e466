
def _bytes_per_value(dtype):
    return 8 if dtype == "float64" else 4 if dtype == "float32" else 2


def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = np.float64(parameters) * _bytes_per_value(dtype)
    chunk = gradient / gpus
    steps = 2 * (gpus - 1)                # reduce-scatter, then all-gather: N - 1 chunks each
    return steps * chunk, gpus * steps * chunk


def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return float(allreduce_bytes(parameters, gpus, dtype)[0]) / (bandwidth_gb_per_s * 1_000_000_000)
