
def speedup_efficiency(times, gpus):
    speedup, efficiency = [], []
    for row in times:
        speedup.append([row[0] / t for t in row])
        efficiency.append([row[0] / t / n for t, n in zip(row, gpus)])
    return speedup, efficiency
