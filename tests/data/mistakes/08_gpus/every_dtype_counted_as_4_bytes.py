
def allreduce_bytes(parameters, gpus, dtype="float32"):
    per_gpu = 2 * (gpus - 1) / gpus * parameters * 4
    return per_gpu, gpus * per_gpu

def allreduce_seconds(parameters, gpus, bandwidth_gb_per_s, dtype="float32"):
    return allreduce_bytes(parameters, gpus, dtype)[0] / (bandwidth_gb_per_s * 1e9)
