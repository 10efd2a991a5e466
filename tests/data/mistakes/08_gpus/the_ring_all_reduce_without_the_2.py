
def allreduce_bytes(parameters, gpus, dtype="float32"):
    gradient = parameters * {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}[dtype]
    per_gpu = (gpus - 1) / gpus * gradient
    return per_gpu, gpus * per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 1e9)
