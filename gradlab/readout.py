"""Output layer and losses: y_t = V h_t + b_y, softmax cross-entropy or mean squared error.

Each loss returns the loss, the outputs, dL/dh (B, T, n) ready to pass as ``dh`` to
``gradlab.backward``, and the readout's own gradients, so a training step is

    trace = gradlab.forward(params, x)
    out = cross_entropy(readout, trace, targets)      # targets (B, T); -1 = no loss there
    grads = gradlab.backward(params, trace, out.dh)

(The readout weights are called V and b_y so they never clash with the LSTM's cell state c.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from kernels import readout as kr

NAMES = ("V", "b_y")


def readout_params(hidden: int, outputs: int, *, seed: int = 0,
                   dtype=np.float64) -> dict[str, np.ndarray]:
    """{'V': (outputs, hidden) with N(0, 1/hidden) entries, 'b_y': zeros (outputs,)}."""
    if hidden < 1 or outputs < 1:
        raise ValueError(f"hidden={hidden} and outputs={outputs} must both be at least 1")
    V = np.random.default_rng(seed).standard_normal((outputs, hidden)) / np.sqrt(hidden)
    return {"V": V.astype(dtype), "b_y": np.zeros(outputs, dtype=dtype)}


@dataclass(frozen=True)
class ReadoutLoss:
    """loss (mean over counted steps), y (B, T, k) outputs (logits for cross-entropy),
    dh (B, T, n) = dL/dh_t, grads {'V', 'b_y'}, count = number of steps with a target."""

    loss: float
    y: np.ndarray
    dh: np.ndarray
    grads: Mapping[str, np.ndarray]
    count: int


def _setup(readout: Mapping[str, np.ndarray], h):
    h = getattr(h, "h", h)  # a Trace: its hidden states
    h = np.asarray(h)
    if h.ndim == 2:
        h = h[None]
    if h.ndim != 3:
        raise ValueError(f"h must be (T, n), (B, T, n) or a Trace; got shape {h.shape}")
    dtype = h.dtype if h.dtype in (np.float32, np.float64) else np.float64
    missing = [k for k in NAMES if k not in readout]
    if missing:
        raise ValueError(f"readout needs weights {NAMES}; missing {missing}")
    V = np.ascontiguousarray(readout["V"], dtype=dtype)
    b_y = np.ascontiguousarray(readout["b_y"], dtype=dtype)
    B, T, n = h.shape
    if V.ndim != 2 or V.shape[1] != n or b_y.shape != (V.shape[0],):
        raise ValueError(f"readout V {V.shape}, b_y {b_y.shape} do not fit h with n={n}: "
                         f"expected V (k, {n}) and b_y (k,)")
    return np.ascontiguousarray(h, dtype=dtype).reshape(B * T, n), V, b_y, (B, T, n)


def _result(loss, Y, dH, dV, db, count, shape) -> ReadoutLoss:
    B, T, n = shape
    return ReadoutLoss(float(loss), Y.reshape(B, T, -1), dH.reshape(B, T, n),
                       MappingProxyType({"V": dV, "b_y": db}), int(count))


def outputs(readout: Mapping[str, np.ndarray], h) -> np.ndarray:
    """y_t = V h_t + b_y for every step: (B, T, k)."""
    Hs, V, b_y, (B, T, _) = _setup(readout, h)
    return kr.linear_readout(Hs, V, b_y).reshape(B, T, -1)


def cross_entropy(readout: Mapping[str, np.ndarray], h, targets) -> ReadoutLoss:
    """Softmax cross-entropy of y_t = V h_t + b_y against integer class targets.

    targets (B, T) or (T,) in [0, k); a negative target means no loss at that step (e.g.
    -1 everywhere but the last step). The loss is the mean over counted steps, as in
    torch.nn.functional.cross_entropy.
    """
    Hs, V, b_y, shape = _setup(readout, h)
    t = np.asarray(targets)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"targets must be integer class indices, got dtype {t.dtype}")
    t = t.reshape(shape[:2]) if t.size == shape[0] * shape[1] else t
    if t.shape != shape[:2]:
        raise ValueError(f"targets have shape {np.shape(targets)}; expected {shape[:2]}")
    k = V.shape[0]
    if np.any(t >= k):
        raise ValueError(f"targets must lie below the number of classes k={k}")
    return _result(*kr.softmax_cross_entropy(Hs, V, b_y, t.ravel().astype(np.int64)), shape)


def mean_squared_error(readout: Mapping[str, np.ndarray], h, targets, *,
                       mask=None) -> ReadoutLoss:
    """Mean squared error of y_t = V h_t + b_y against targets (B, T, k) (or (T, k)).

    The mean runs over every output of every counted step; ``mask`` (B, T) of bools picks
    the counted steps (default: all), as torch.nn.functional.mse_loss does with no mask.
    """
    Hs, V, b_y, shape = _setup(readout, h)
    B, T, _ = shape
    k = V.shape[0]
    y = np.asarray(targets, dtype=Hs.dtype)
    if y.ndim == 2:
        y = y[None]
    if y.shape != (B, T, k):
        raise ValueError(f"targets have shape {np.shape(targets)}; expected {(B, T, k)}")
    m = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    if m.ndim == 1:
        m = m[None]
    if m.shape != (B, T):
        raise ValueError(f"mask has shape {np.shape(mask)}; expected {(B, T)}")
    return _result(*kr.mean_squared_error(Hs, V, b_y, np.ascontiguousarray(y).reshape(B * T, k),
                                          m.ravel()), shape)
