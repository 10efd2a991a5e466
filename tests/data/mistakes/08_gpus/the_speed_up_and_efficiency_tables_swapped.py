
def speedup_efficiency(times, gpus):
    times = np.asarray(times, dtype=float)
    speedup = times[:, :1] / times
    return speedup / np.asarray(gpus), speedup
