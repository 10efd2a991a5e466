
def causal_mask(T):
    return [[j <= i for j in range(T)] for i in range(T)]
