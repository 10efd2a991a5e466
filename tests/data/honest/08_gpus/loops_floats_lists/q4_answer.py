
BYTES_PER_VALUE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}


def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * BYTES_PER_VALUE[dtype]
    per_gpu = 2 * (gpus - 1) * gradient / gpus          # integers until the last division
    return per_gpu, per_gpu * gpus


def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    per_gpu, _ = allreduce_bytes(parameters, gpus, dtype)
    return per_gpu / bandwidth_gb_per_s / 1e9
