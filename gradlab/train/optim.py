"""Optimisers: SGD with (optionally Nesterov) momentum, and Adam, as PyTorch defines them.

Both update a dict name -> float array in place from a dict of gradients g with the same
names and shapes; their state (velocities, moments, step count) lives in the optimiser.

SGD (torch.optim.SGD, dampening 0):
    v <- mu v + g                 (v = g at the first step)
    p <- p - lr v                 (Nesterov: p <- p - lr (g + mu v))
Adam (torch.optim.Adam, Kingma and Ba 2015), step t = 1, 2, ...:
    m <- b1 m + (1 - b1) g,       u <- b2 u + (1 - b2) g^2
    p <- p - lr (m / (1 - b1^t)) / (sqrt(u / (1 - b2^t)) + eps)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not v > 0:
        raise ValueError(f"{name}={value!r} must be positive")
    return v


def _fraction(name: str, value: float) -> float:
    v = float(value)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{name}={value!r} must lie in [0, 1)")
    return v


class SGD:
    """Stochastic gradient descent with momentum ``momentum`` in [0, 1)."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.9, *, nesterov: bool = False):
        self.lr = _positive("lr", lr)
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One update of ``params`` in place."""
        mu = self.momentum
        for k, p in params.items():
            g = np.asarray(grads[k], dtype=p.dtype)
            if mu == 0.0:
                p -= self.lr * g
                continue
            v = self.velocity.get(k)
            if v is None:
                v = self.velocity[k] = g.copy()
            else:
                v *= mu
                v += g
            p -= self.lr * (g + mu * v if self.nesterov else v)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


class Adam:
    """Adam with bias correction; ``betas`` = (b1, b2), both in [0, 1)."""

    def __init__(self, lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.lr = _positive("lr", lr)
        self.betas = (_fraction("betas[0]", betas[0]), _fraction("betas[1]", betas[1]))
        self.eps = _positive("eps", eps)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.u: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One update of ``params`` in place."""
        b1, b2 = self.betas
        self.t += 1
        c1 = 1.0 - b1 ** self.t
        c2 = 1.0 - b2 ** self.t
        for k, p in params.items():
            g = np.asarray(grads[k], dtype=p.dtype)
            if k not in self.m:
                self.m[k] = np.zeros_like(p)
                self.u[k] = np.zeros_like(p)
            m, u = self.m[k], self.u[k]
            m *= b1
            m += (1.0 - b1) * g
            u *= b2
            u += (1.0 - b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(u / c2) + self.eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def make_optimizer(name: str, lr: float, **kwargs):
    """An optimiser by name: 'adam' or 'sgd' (momentum 0.9 unless given)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr, **kwargs)
