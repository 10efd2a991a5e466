
def sgd_momentum_step(theta, grad, velocity, lr, momentum, weight_decay=0.0, nesterov=False):
    theta = np.array(theta, dtype=np.float32)
    velocity = np.array(velocity, dtype=np.float32)
    g = np.asarray(grad, dtype=np.float32) + np.float32(weight_decay) * theta
    velocity *= np.float32(momentum)
    velocity += g
    if nesterov:
        theta -= np.float32(lr) * (g + np.float32(momentum) * velocity)
    else:
        theta -= np.float32(lr) * velocity
    return theta, velocity

def sgd_momentum(grad_fn, theta, lr, momentum, steps, weight_decay=0.0, nesterov=False):
    # Sutskever's form: v = momentum * v - lr * g, theta += v (v is -lr times PyTorch's buffer)
    theta = np.array(theta, dtype=np.float32)
    v = np.zeros_like(theta)
    path = [theta.copy()]
    for _ in range(steps):
        g = np.asarray(grad_fn(theta), dtype=np.float32) + np.float32(weight_decay) * theta
        v = np.float32(momentum) * v - np.float32(lr) * g
        theta = theta + (np.float32(momentum) * v - np.float32(lr) * g if nesterov else v)
        path.append(theta.copy())
    return np.stack(path)
