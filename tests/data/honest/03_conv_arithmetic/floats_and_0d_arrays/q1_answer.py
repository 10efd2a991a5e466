
def output_size(n, k, s=1, p=0):
    return np.floor((n + 2 * p - k) / s) + 1.0        # a float with no fraction: the exact count
