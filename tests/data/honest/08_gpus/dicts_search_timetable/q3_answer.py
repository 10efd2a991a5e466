
def speedup_efficiency(times, gpus):
    t = np.array(times, dtype=np.float32)
    speedup = (1 / t) * t[:, 0].reshape(-1, 1)
    return speedup, np.divide(speedup, np.array(gpus, dtype=np.float32)[None, :])
