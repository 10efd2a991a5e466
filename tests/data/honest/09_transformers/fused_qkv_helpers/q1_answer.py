
def causal_mask(T):
    positions = np.arange(T)
    return np.less_equal.outer(positions, positions).T
