
class AdamState:
    def __init__(self, shape):
        self.t = 0
        self.m = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)

def adam_init(theta):
    return AdamState(np.shape(theta))

def adam_step(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grad, dtype=np.float32)
    state.t += 1
    state.m *= np.float32(beta1)
    state.m += np.float32(1 - beta1) * g
    state.v *= np.float32(beta2)
    state.v += np.float32(1 - beta2) * g * g
    m_hat = state.m / np.float32(1 - beta1 ** state.t)
    v_hat = state.v / np.float32(1 - beta2 ** state.t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + np.float32(eps))
    return theta, state
