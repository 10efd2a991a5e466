
import math

def bias_factor(beta, t):
    return 1.0 / (1.0 - math.pow(beta, t))

def uncorrected_first_step(lr, beta1, beta2):
    return lr * (1 - beta1) * (1 - beta2) ** -0.5
