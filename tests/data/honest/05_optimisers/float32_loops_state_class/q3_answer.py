
import math

def bias_factor(beta, t):
    power = 1.0
    for _ in range(t):
        power *= beta
    return 1.0 / (1.0 - power)

def uncorrected_first_step(lr, beta1, beta2):
    g = 1.0  # any gradient: m = (1 - beta1) g, v = (1 - beta2) g**2
    m, v = (1 - beta1) * g, (1 - beta2) * g ** 2
    return abs(lr * m / math.sqrt(v))
