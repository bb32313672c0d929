"""forward, backward and step Jacobians for any cell: shape checks, then the cell's kernels.

Public shapes are batch-major, as in PyTorch with batch_first=True:
x (B, T, m) or (T, m); Trace.h (B, T, n) holds h_1..h_T; dh (B, T, n) is the upstream
dL/dh_t on every output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import engine
from .cells import get_cell
from .params import Params


def _readonly(d: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    for v in d.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Trace:
    """Everything the forward pass computed, kept for backward and for the views.

    h (B, T, n) = h_1..h_T; c (B, T, n) for the LSTM, else None; gates {name: (B, T, n)}.
    ``cache`` holds the cell's time-major arrays that backward needs.
    """

    cell: str
    x: np.ndarray  # (B, T, m)
    h0: np.ndarray  # (B, n)
    h: np.ndarray  # (B, T, n)
    c0: np.ndarray | None = None  # (B, n)
    c: np.ndarray | None = None  # (B, T, n)
    gates: Mapping[str, np.ndarray] = field(default_factory=dict)
    cache: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "gates", _readonly(self.gates))
        object.__setattr__(self, "cache", _readonly(self.cache))


@dataclass(frozen=True)
class Grads:
    """Gradients from backward.

    h (B, T, n) = total dL/dh_t; c (B, T, n) = total dL/dc_t (LSTM); h0, c0 (B, n);
    x (B, T, m) = dL/dx_t; params {name: array} with the same keys as Params.weights.
    """

    h: np.ndarray
    h0: np.ndarray
    x: np.ndarray
    params: Mapping[str, np.ndarray]
    c: np.ndarray | None = None
    c0: np.ndarray | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", _readonly(self.params))


def _batched(a, name: str, dims: int, dtype, copy: bool = True) -> np.ndarray:
    # a copy for what a Trace keeps: it must not change when the caller reuses its buffer
    # (dh and dc are only read, and copying hundreds of MB would delay a Ctrl-C)
    a = np.array(a, dtype=dtype, copy=True) if copy else np.asarray(a, dtype=dtype)
    if a.ndim == dims - 1:
        a = a[None]
    if a.ndim != dims:
        raise ValueError(f"{name} must have {dims - 1} or {dims} dimensions, got shape {a.shape}")
    return a


def forward(params: Params, x, h0=None, c0=None) -> Trace:
    """Run ``params`` over x (T, m) or (B, T, m); h0, c0 (n,) or (B, n) default to zeros."""
    x = _batched(x, "x", 3, params.dtype)
    B, T, m = x.shape
    if m != params.m:
        raise ValueError(f"x has {m} features per step; these params take m={params.m}")
    if T < 1:
        raise ValueError("x needs at least one time step")
    n = params.n
    h0 = np.zeros((B, n), params.dtype) if h0 is None else _batched(h0, "h0", 2, params.dtype)
    if h0.shape != (B, n):
        raise ValueError(f"h0 has shape {h0.shape}; expected ({B}, {n})")
    if c0 is not None:
        c0 = _batched(c0, "c0", 2, params.dtype)
        if c0.shape != (B, n):
            raise ValueError(f"c0 has shape {c0.shape}; expected ({B}, {n})")
    return engine.call(lambda: get_cell(params.cell).forward(params, x, h0, c0), B * T * n * n)


def backward(params: Params, trace: Trace, dh, *, dc=None, truncate: int | None = None) -> Grads:
    """BPTT for upstream dh (B, T, n) (and dc for the LSTM's cell state).

    ``truncate=k`` is truncated BPTT: the sequence is cut into chunks of k steps (1..k,
    k+1..2k, ...) and no gradient crosses a chunk boundary, while states still carry forward.
    """
    if trace.cell != params.cell:
        raise ValueError(f"trace is from a {trace.cell}, params are a {params.cell}")
    B, T, n = trace.h.shape
    dh = _batched(dh, "dh", 3, params.dtype, copy=False)
    if dh.shape != (B, T, n):
        raise ValueError(f"dh has shape {dh.shape}; expected {(B, T, n)}")
    if dc is not None:
        dc = _batched(dc, "dc", 3, params.dtype, copy=False)
        if dc.shape != (B, T, n):
            raise ValueError(f"dc has shape {dc.shape}; expected {(B, T, n)}")
    k = 0 if truncate is None else int(truncate)
    if truncate is not None and k < 1:
        raise ValueError(f"truncate={truncate!r} must be a positive number of steps, or None")
    return engine.call(lambda: get_cell(params.cell).backward(params, trace, dh, dc, k),
                       2 * B * T * n * n)


def step_jacobians(params: Params, trace: Trace) -> np.ndarray:
    """ds_t/ds_{t-1} for t = 1..T, shape (B, T, d, d); s = h (d = n) or (h, c) (d = 2n)."""
    return get_cell(params.cell).step_jacobians(params, trace)
