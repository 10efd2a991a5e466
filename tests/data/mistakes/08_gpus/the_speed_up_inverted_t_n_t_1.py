
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times / times[:, :1]
    return speedup, speedup / np.asarray(gpus)
