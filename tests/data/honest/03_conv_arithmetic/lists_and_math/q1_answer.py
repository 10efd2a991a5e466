
def output_size(n, k, s=1, p=0):
    return math.floor((n + 2 * p - k) / s) + 1
