
def conv_params(c_in, c_out, k):
    return np.array(float(c_out * (c_in * k * k + 1)))  # a 0-d array

def fc_params(n_in, n_out):
    return float(n_out * (n_in + 1))
