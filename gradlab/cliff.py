"""The Pascanu cliff: the loss surface of a one-unit recurrent net, and descent paths on it.

The model of Pascanu, Mikolov and Bengio (2013), with sigma the logistic sigmoid:

    x_t = w sigma(x_{t-1}) + b,  t = 1..T (T = 50),  x_0 = 0.5,  E = (sigma(x_T) - 0.7)^2

This is gradlab's RNN with one unit and no input: h_t = sigma(x_t) obeys
h_t = sigma(w h_{t-1} + b), i.e. W = [[w]], b = [b], b_h = U = 0, h_0 = sigma(x_0), loss on
h_T only (tests/core/test_cliff.py checks it against gradlab.forward / gradlab.backward).
E, dE/dw and dE/db are exact (forward pass and BPTT in kernels/cliff.py, float64).

The ridge. For w > 1 / sigma'(x_0) the map x -> w sigma(x) + b has two stable fixed points
with an unstable one between them, which separates their basins. When that unstable point
is x_0 itself, i.e. on the line b = x_0 - w sigma(x_0) (``ridge``), a small change of w or b
decides which basin x_T ends in: E jumps, and the gradient there is
|dE/dx_T| (lambda^T - 1) / (lambda - 1) sqrt(1 + sigma(x_0)^2), lambda = w sigma'(x_0),
which grows like lambda^T. The band where it is large is about lambda^-T wide in b: visible
on a 601 x 401 grid near w = 4.3..6, narrower than a grid cell further out, where the heatmap
shows the ridge as the edge of the jump in E.

Public: cliff_loss, cliff_surface -> CliffSurface, ridge, descend -> DescentPath.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels.cliff import cliff_points

from .clip import clip_by_global_norm, clip_by_value, global_norm

STEPS, X0, TARGET = 50, 0.5, 0.7
W_RANGE = (-2.0, 10.0)  # the plotted region, as in the paper's figure
B_RANGE = (-6.0, 2.0)
CLIP_MODES = ("norm", "value")


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a finite number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}={value!r} must be a finite number")
    return v


def _model(steps, x0, target) -> tuple[int, float, float]:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps={steps!r} must be an integer >= 1")
    return int(steps), _finite("x0", x0), _finite("target", target)


def _range(name: str, r) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in r)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={r!r} must be a pair (low, high) of finite numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name}={r!r} must be a pair (low, high) of finite numbers, low < high")
    return lo, hi


def cliff_loss(w, b, *, steps: int = STEPS, x0: float = X0, target: float = TARGET
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, dE/dw, dE/db) at the points (w, b): arrays broadcast together, float64.

    E = (sigma(x_T) - target)^2 with x_t = w sigma(x_{t-1}) + b, x_0 = x0, T = steps;
    the gradient by BPTT (see kernels/cliff.py). inf / nan in w or b propagate.
    """
    steps, x0, target = _model(steps, x0, target)
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = w.shape
    wf = np.ascontiguousarray(w).ravel()  # (P,)
    bf = np.ascontiguousarray(b).ravel()  # (P,)
    E, gw, gb = (np.empty(wf.size) for _ in range(3))  # (P,) each
    cliff_points(wf, bf, steps, x0, target, E, gw, gb)
    return E.reshape(shape), gw.reshape(shape), gb.reshape(shape)


@dataclass(frozen=True)
class CliffSurface:
    """E and its gradient on a grid over (w, b); every array read-only.

    w (nw,), b (nb,): the grid axes, end points included (np.linspace). E, dE_dw, dE_db,
    log10_grad_norm (nb, nw): row i is b[i], column j is w[j] (an image with w across);
    log10_grad_norm = log10 sqrt(dE_dw^2 + dE_db^2) (-inf where the gradient is exactly 0).
    steps, x0, target: the model they were computed for.
    """

    w: np.ndarray  # (nw,)
    b: np.ndarray  # (nb,)
    E: np.ndarray  # (nb, nw)
    dE_dw: np.ndarray  # (nb, nw)
    dE_db: np.ndarray  # (nb, nw)
    log10_grad_norm: np.ndarray  # (nb, nw)
    steps: int = STEPS
    x0: float = X0
    target: float = TARGET

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(w_min, w_max, b_min, b_max) of the grid's end points."""
        return float(self.w[0]), float(self.w[-1]), float(self.b[0]), float(self.b[-1])


def cliff_surface(w_range=W_RANGE, b_range=B_RANGE, shape=(601, 401), steps: int = STEPS,
                  x0: float = X0, target: float = TARGET) -> CliffSurface:
    """E, dE/dw, dE/db and log10 ||grad E|| on a (nw, nb) = ``shape`` grid over w_range x b_range.

    The default 601 x 401 grid takes 25 to 80 ms on one thread of the 2-core machine, idle
    to busy (benchmarks/bench_cliff.py); the first call of a process adds numba's cache load.
    """
    w_lo, w_hi = _range("w_range", w_range)
    b_lo, b_hi = _range("b_range", b_range)
    try:
        nw, nb = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape={shape!r} must be a pair (nw, nb) of integers >= 2") from None
    if nw < 2 or nb < 2 or (nw, nb) != tuple(shape):
        raise ValueError(f"shape={shape!r} must be a pair (nw, nb) of integers >= 2")
    w = np.linspace(w_lo, w_hi, nw)  # (nw,)
    b = np.linspace(b_lo, b_hi, nb)  # (nb,)
    E, gw, gb = cliff_loss(w[None, :], b[:, None], steps=steps, x0=x0, target=target)
    with np.errstate(divide="ignore"):
        log_norm = np.log10(np.hypot(gw, gb))  # (nb, nw)
    return CliffSurface(_frozen(w), _frozen(b), _frozen(E), _frozen(gw), _frozen(gb),
                        _frozen(log_norm), int(steps), float(x0), float(target))


def ridge(w, x0: float = X0):
    """b on the ridge for each w: b = x0 - w sigma(x0) where w sigma'(x0) > 1, nan elsewhere.

    There x_0 is the unstable fixed point between the two basins (module docstring); for
    smaller w the map has a single stable fixed point and no cliff. Returns an array shaped
    like w (a float for a scalar w).
    """
    x0 = _finite("x0", x0)
    with np.errstate(over="ignore"):
        s0 = 1.0 / (1.0 + np.exp(-x0))
    w = np.asarray(w, dtype=np.float64)
    out = np.where(w * s0 * (1.0 - s0) > 1.0, x0 - w * s0, np.nan)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class DescentPath:
    """A gradient-descent run on the cliff surface; every array read-only.

    With k updates: points (k+1, 2) = (w, b) before each update and after the last;
    losses (k+1,) = E at each point; grads (k, 2) = (dE/dw, dE/db) at points[:-1];
    norm_before (k,) = ||grads||; norm_after (k,) = the norm of the step direction actually
    used (equal to norm_before where nothing was clipped); clipped (k,) bool: the clip
    changed the gradient; skipped (k,) bool: the gradient was not finite, so that update was
    skipped (the point stays), as clip_by_global_norm's report suggests.
    points[i+1] = points[i] - lr * clip(grads[i]) where not skipped.
    lr, clip (None or (mode, threshold)), steps, x0, target: what the run used.
    """

    points: np.ndarray  # (k+1, 2)
    losses: np.ndarray  # (k+1,)
    grads: np.ndarray  # (k, 2)
    norm_before: np.ndarray  # (k,)
    norm_after: np.ndarray  # (k,)
    clipped: np.ndarray  # (k,) bool
    skipped: np.ndarray  # (k,) bool
    lr: float
    clip: tuple[str, float] | None = None
    steps: int = STEPS
    x0: float = X0
    target: float = TARGET

    def inside(self, w_range=W_RANGE, b_range=B_RANGE) -> np.ndarray:
        """(k+1,) bool: each point lies in the closed box w_range x b_range."""
        w, b = self.points[:, 0], self.points[:, 1]
        return ((w >= w_range[0]) & (w <= w_range[1]) & (b >= b_range[0]) & (b <= b_range[1]))


def _clip_arg(clip) -> tuple[str, float] | None:
    if clip is None:
        return None
    try:
        mode, threshold = clip
    except (TypeError, ValueError):
        mode, threshold = None, None
    if mode not in CLIP_MODES:
        raise ValueError(f"clip={clip!r} must be None, ('norm', threshold) or "
                         "('value', threshold)")
    t = _finite("clip threshold", threshold)
    if not t > 0:
        raise ValueError(f"clip threshold={threshold!r} must be positive")
    return mode, t


def descend(w0, b0, *, lr: float, updates: int, clip=None, steps: int = STEPS, x0: float = X0,
            target: float = TARGET) -> DescentPath:
    """Plain gradient descent on E from (w0, b0): theta <- theta - lr * clip(grad E(theta)).

    clip: None; ('norm', t): if ||g|| > t, g <- t g / ||g|| (direction kept, gradlab.clip.
    clip_by_global_norm); ('value', t): each component clipped to [-t, t] (clip_by_value).
    ``updates`` = k >= 0 updates; lr > 0. A non-finite gradient skips its update.
    """
    w0, b0, lr = _finite("w0", w0), _finite("b0", b0), _finite("lr", lr)
    if not lr > 0:
        raise ValueError(f"lr={lr!r} must be positive")
    if isinstance(updates, bool) or not isinstance(updates, (int, np.integer)) or updates < 0:
        raise ValueError(f"updates={updates!r} must be an integer >= 0")
    steps, x0, target = _model(steps, x0, target)
    mode = _clip_arg(clip)
    k = int(updates)
    points = np.empty((k + 1, 2))  # (k+1, 2): (w, b)
    losses = np.empty(k + 1)  # (k+1,)
    grads = np.empty((k, 2))  # (k, 2)
    before, after = np.empty(k), np.empty(k)  # (k,)
    clipped, skipped = np.zeros(k, bool), np.zeros(k, bool)  # (k,)
    theta = np.array([w0, b0])  # (2,)
    for i in range(k + 1):
        points[i] = theta
        E, gw, gb = cliff_loss(theta[0], theta[1], steps=steps, x0=x0, target=target)
        losses[i] = E
        if i == k:
            break
        g = np.array([gw, gb], dtype=np.float64)  # (2,)
        grads[i] = g
        if mode is None:
            before[i] = after[i] = global_norm({"g": g})
            step = g
        else:
            clip_fn = clip_by_global_norm if mode[0] == "norm" else clip_by_value
            out, report = clip_fn({"g": g}, mode[1])
            step = out["g"]
            before[i], after[i], clipped[i] = report.norm_before, report.norm_after, report.clipped
        if not np.all(np.isfinite(g)):
            skipped[i], clipped[i] = True, False
            continue
        theta = theta - lr * step
    return DescentPath(_frozen(points), _frozen(losses), _frozen(grads), _frozen(before),
                       _frozen(after), _frozen(clipped), _frozen(skipped), lr, mode, steps, x0,
                       target)
