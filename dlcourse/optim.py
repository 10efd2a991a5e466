"""Optimisers written from scratch, to be read next to the chapter's equations.

One short class per method: SGD (with momentum and Nesterov), Adagrad, RMSprop, Adam
and AdamW.  Each ``step`` follows the update rule line by line as the paper writes it,
with the paper's equation beside each line, in the paper's symbols: g_t the gradient,
gamma (``lr``) the learning rate, lambda (``weight_decay``) the weight decay, theta the
parameters.

The arguments, their defaults and the order of the operations are those of
``torch.optim`` 2.13 (where the weight decay enters, when the learning rate decays,
which buffer starts at the first gradient), so a run with these classes follows the
same trajectory as a run with ``torch.optim``: the tests check 200 steps in float64
on a non-convex loss and find them bit for bit equal.  That needs the same floating-point
operations too: computing Adam's m_t / (1 - beta1^t) and sqrt(v_t / (1 - beta2^t)) as written,
or Adagrad's g_t / (sqrt(G_t) + eps) with a separate multiply, changes the last bit, and on a
non-convex loss those 1e-16 differences grew to 1e-4 within 200 steps (Adagrad, centered RMSprop).
So the code uses torch's fused forms where torch does: ``a.addcmul_(g, g, value=c)`` is a + c g^2,
``p.addcdiv_(g, d, value=-c)`` is p - c g / d, and ``m.lerp_(g, 1 - beta)`` is beta m + (1 - beta) g.

Each class is a ``torch.optim.Optimizer``, so parameter groups,
``zero_grad``, ``state_dict`` / ``load_state_dict`` and the schedulers of
``torch.optim.lr_scheduler`` work as usual.  Only the arithmetic is ours.

Not supported (torch has them): ``maximize``, ``foreach``, ``fused``, ``capturable``,
``differentiable``, tensor learning rates, sparse and complex parameters.

>>> w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
>>> optimizer = Adam([w], lr=0.1)
>>> for _ in range(3):
...     optimizer.zero_grad()
...     (w ** 2).sum().backward()
...     optimizer.step()
>>> w.detach().round(decimals=2).tolist()    # Adam's first steps move each weight by about lr
[0.7, -1.7]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch.optim import Optimizer

Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]
Closure = Callable[[], torch.Tensor] | None


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov and L2 decay.

    With momentum mu and dampening tau (the buffer starts at the first gradient, b_1 = g_1)::

        g_t = grad f(theta_{t-1}) + lambda theta_{t-1}
        b_t = mu b_{t-1} + (1 - tau) g_t
        theta_t = theta_{t-1} - gamma b_t                  (Nesterov: - gamma (g_t + mu b_t))

    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     optimizer.zero_grad()
    ...     (w ** 2).sum().backward()      # g = 2 w
    ...     optimizer.step()
    >>> round(w.item(), 6)     # 1 - 0.1 * 2 = 0.8, then b = 0.9 * 2 + 1.6 = 3.4 and 0.8 - 0.34 = 0.46
    0.46
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
    ) -> None:
        _check_range("lr", lr, 0, math.inf)
        _check_range("momentum", momentum, 0, math.inf)
        _check_range("dampening", dampening, 0, 1, high_included=True)
        _check_range("weight_decay", weight_decay, 0, math.inf)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r}, "
                f"dampening={dampening!r}"
            )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns the
        closure's loss, if any."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            for p, grad in _parameters_with_gradients(group):
                if group["weight_decay"] != 0:
                    # g_t = g_t + lambda theta_{t-1}
                    grad = grad.add(p, alpha=group["weight_decay"])
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = grad.clone()   # b_1 = g_1
                    else:
                        b = state["momentum_buffer"]
                        # b_t = mu b_{t-1} + (1 - tau) g_t
                        b.mul_(mu).add_(grad, alpha=1 - tau)
                    b = state["momentum_buffer"]
                    # Nesterov looks ahead: g_t + mu b_t
                    grad = grad.add(b, alpha=mu) if group["nesterov"] else b
                p.add_(grad, alpha=-lr)       # theta_t = theta_{t-1} - gamma g_t
        return loss


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each weight's step shrinks with its sum of squared gradients.

    ::

        g_t = grad f(theta_{t-1}) + lambda theta_{t-1}
        gamma_t = gamma / (1 + (t - 1) eta)                (eta: lr_decay)
        G_t = G_{t-1} + g_t^2                              (G_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - gamma_t g_t / (sqrt(G_t) + eps)

    >>> w = torch.tensor([3.0], requires_grad=True)
    >>> optimizer = Adagrad([w], lr=1.0)
    >>> (w ** 2).sum().backward()          # g = 6, G = 36
    >>> _ = optimizer.step()
    >>> w.item()                           # 3 - 6 / 6: the first step is lr, whatever the gradient
    2.0
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
    ) -> None:
        _check_range("lr", lr, 0, math.inf)
        _check_range("lr_decay", lr_decay, 0, math.inf)
        _check_range("weight_decay", weight_decay, 0, math.inf)
        _check_range("initial_accumulator_value", initial_accumulator_value, 0, math.inf)
        _check_range("eps", eps, 0, math.inf)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            for p, grad in _parameters_with_gradients(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])   # G_0
                state["step"] += 1
                t = state["step"]
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])        # g_t = g_t + lambda theta_{t-1}
                lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])     # gamma_t = gamma / (1 + (t-1) eta)
                G = state["sum"]
                G.addcmul_(grad, grad)                                     # G_t = G_{t-1} + g_t^2
                std = G.sqrt().add_(group["eps"])                          # sqrt(G_t) + eps
                p.addcdiv_(grad, std, value=-lr_t)                         # theta_t = theta_{t-1} - gamma_t g_t / std
        return loss


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): divide the gradient by a running root mean square of it.

    ::

        g_t = grad f(theta_{t-1}) + lambda theta_{t-1}
        v_t = alpha v_{t-1} + (1 - alpha) g_t^2
        centered:  gbar_t = alpha gbar_{t-1} + (1 - alpha) g_t   and   v~_t = v_t - gbar_t^2   (a variance)
        momentum mu > 0:  b_t = mu b_{t-1} + g_t / (sqrt(v~_t) + eps),   theta_t = theta_{t-1} - gamma b_t
        otherwise:        theta_t = theta_{t-1} - gamma g_t / (sqrt(v~_t) + eps)

    (v~_t = v_t when not centered; v_0 = gbar_0 = b_0 = 0.)

    >>> w = torch.tensor([3.0], requires_grad=True)
    >>> optimizer = RMSprop([w], lr=0.01, alpha=0.75, eps=0.0)
    >>> (w ** 2).sum().backward()          # g = 6, v = 0.25 * 36 = 9
    >>> _ = optimizer.step()
    >>> round(w.item(), 6)                 # 3 - 0.01 * 6 / 3
    2.98
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
    ) -> None:
        _check_range("lr", lr, 0, math.inf)
        _check_range("alpha", alpha, 0, 1)
        _check_range("eps", eps, 0, math.inf)
        _check_range("weight_decay", weight_decay, 0, math.inf)
        _check_range("momentum", momentum, 0, math.inf)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            lr, alpha, mu = group["lr"], group["alpha"], group["momentum"]
            for p, grad in _parameters_with_gradients(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)                  # v_0 = 0
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)         # b_0 = 0
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)                # gbar_0 = 0
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])            # g_t = g_t + lambda theta_{t-1}
                v = state["square_avg"]
                v.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)            # v_t = alpha v_{t-1} + (1-alpha) g_t^2
                if group["centered"]:
                    g_bar = state["grad_avg"]
                    g_bar.lerp_(grad, 1 - alpha)                               # gbar_t = alpha gbar + (1-alpha) g_t
                    rms = v.addcmul(g_bar, g_bar, value=-1).sqrt_()            # sqrt(v_t - gbar_t^2)
                else:
                    rms = v.sqrt()                                             # sqrt(v_t)
                denominator = rms.add_(group["eps"])                           # rms + eps
                if mu > 0:
                    b = state["momentum_buffer"]
                    b.mul_(mu).addcdiv_(grad, denominator)                     # b_t = mu b_{t-1} + g_t / (rms + eps)
                    p.add_(b, alpha=-lr)                                       # theta_t = theta_{t-1} - gamma b_t
                else:
                    p.addcdiv_(grad, denominator, value=-lr)                   # theta -= gamma g_t / (rms + eps)
        return loss


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with the L2 penalty added to the gradient as torch.optim.Adam does.

    ::

        g_t = grad f(theta_{t-1}) + lambda theta_{t-1}
        m_t = beta1 m_{t-1} + (1 - beta1) g_t              (first moment, m_0 = 0)
        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2            (second moment, v_0 = 0)
        m^_t = m_t / (1 - beta1^t),   v^_t = v_t / (1 - beta2^t)     (bias corrections)
        theta_t = theta_{t-1} - gamma m^_t / (sqrt(v^_t) + eps)

    AMSGrad (Reddi et al., 2018) divides by the largest v_t so far instead:
    vmax_t = max(vmax_{t-1}, v_t) and v^_t = vmax_t / (1 - beta2^t).

    >>> w = torch.tensor([3.0], requires_grad=True)
    >>> optimizer = Adam([w], lr=0.1, eps=0.0)
    >>> (w ** 2).sum().backward()          # m^_1 = g_1 and v^_1 = g_1^2
    >>> _ = optimizer.step()
    >>> round(w.item(), 6)                 # 3 - 0.1 * g / |g|
    2.9
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
    ) -> None:
        _check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            for p, grad in _parameters_with_gradients(group):
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])    # g_t += lambda theta_{t-1}: inside the moments
                _adam_update(p, grad, self.state[p], group)
        return loss


class AdamW(Optimizer):
    """AdamW (Loshchilov and Hutter, 2019): Adam with the weight decay taken out of the gradient.

    The weights shrink first, then Adam's step runs on the plain gradient, so the decay is
    not divided by sqrt(v^_t) (with Adam's L2 penalty, weights with large gradients barely decay)::

        theta_t = theta_{t-1} - gamma lambda theta_{t-1}
        m_t, v_t, m^_t, v^_t as in Adam, from g_t = grad f(theta_{t-1})
        theta_t = theta_t - gamma m^_t / (sqrt(v^_t) + eps)

    >>> w = torch.tensor([3.0], requires_grad=True)
    >>> optimizer = AdamW([w], lr=0.1, eps=0.0, weight_decay=0.5)
    >>> (w ** 2).sum().backward()
    >>> _ = optimizer.step()
    >>> round(w.item(), 6)                 # 3 (1 - 0.1 * 0.5) - 0.1
    2.75
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        _check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            for p, grad in _parameters_with_gradients(group):
                if group["weight_decay"] != 0:
                    p.mul_(1 - group["lr"] * group["weight_decay"])    # theta_t = (1 - gamma lambda) theta_{t-1}
                _adam_update(p, grad, self.state[p], group)
        return loss


def _adam_update(p: torch.Tensor, grad: torch.Tensor, state: dict[str, Any],
                 group: dict[str, Any]) -> None:
    """Adam's moments, bias corrections and step for one parameter
    (shared by Adam and AdamW)."""
    beta1, beta2 = group["betas"]
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)              # m_0 = 0
        state["exp_avg_sq"] = torch.zeros_like(p)           # v_0 = 0
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p)   # vmax_0 = 0
    state["step"] += 1
    t = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    # m_t = beta1 m_{t-1} + (1 - beta1) g_t
    m.lerp_(grad, 1 - beta1)
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    if group["amsgrad"]:
        v_max = state["max_exp_avg_sq"]
        torch.maximum(v_max, v, out=v_max)  # vmax_t = max(vmax_{t-1}, v_t)
        v = v_max
    # theta_t = theta_{t-1} - gamma m^_t / (sqrt(v^_t) + eps), with
    # m^_t = m_t / (1 - beta1^t) and v^_t = v_t / (1 - beta2^t), computed as
    # torch does: the corrections are folded into two scalars.
    step_size = group["lr"] / (1 - beta1 ** t)  # gamma / (1 - beta1^t)
    # sqrt(v^_t) + eps
    denominator = (v.sqrt() / (1 - beta2 ** t) ** 0.5).add_(group["eps"])
    p.addcdiv_(m, denominator, value=-step_size)


def _check_adam_arguments(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    _check_range("lr", lr, 0, math.inf)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1), got {betas!r}")
    _check_range("betas[0]", betas[0], 0, 1)
    _check_range("betas[1]", betas[1], 0, 1)
    _check_range("eps", eps, 0, math.inf)
    _check_range("weight_decay", weight_decay, 0, math.inf)


def _check_range(name: str, value: Any, low: float, high: float, high_included: bool = False) -> None:
    """Raise ValueError unless ``low <= value < high`` (``<= high`` when ``high_included``)."""
    allowed = f"[{low}, {high}]" if high_included else f"[{low}, {high})"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number in {allowed}, got {value!r}")
    inside = low <= value <= high if high_included else low <= value < high
    if not inside:      # also catches nan
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")


def _evaluate(closure: Closure) -> torch.Tensor | None:
    """The closure's loss, computed with gradients on (``step`` itself runs under no_grad)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def _parameters_with_gradients(group: dict[str, Any]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(parameter, gradient) for each parameter of the group that has a gradient."""
    for p in group["params"]:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            raise ValueError("sparse gradients are not supported by dlcourse.optim; use torch.optim instead")
        if p.is_complex():
            raise ValueError("complex parameters are not supported by dlcourse.optim; use torch.optim instead")
        yield p, p.grad


OPTIMIZER_NAMES = ("SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW")


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> Optimizer:
    """One of ``dlcourse.optim``'s optimisers by name, for the chapter's comparisons.

    ``momentum`` is mu for "momentum" and "Nesterov" and beta1 for "Adam" and "AdamW"
    (the decay of their running mean of gradients); the others ignore it.  ``weight_decay``
    is an L2 penalty added to the gradient, except for AdamW, which decays the weights
    directly (decoupled).

    >>> w = torch.zeros(2, requires_grad=True)
    >>> type(make_optimizer("Nesterov", [w], lr=0.1)).__name__
    'SGD'
    """
    if name not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZER_NAMES)}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if name == "SGD":
        return SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "Nesterov"):
        return SGD(params, lr=lr, momentum=momentum, nesterov=name == "Nesterov" and momentum > 0,
                         weight_decay=weight_decay)
    if name == "Adagrad":
        return Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "RMSprop":
        return RMSprop(params, lr=lr, weight_decay=weight_decay)
    adam = Adam if name == "Adam" else AdamW
    return adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
