
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup, speedup / np.arange(1, times.shape[1] + 1)
