
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup, speedup / 2.0 ** np.arange(times.shape[1])
