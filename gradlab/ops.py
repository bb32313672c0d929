"""forward, backward and step Jacobians for any cell: shape checks, then the cell's kernels.

Public shapes are batch-major, as in PyTorch with batch_first=True:
x (B, T, m) or (T, m); Trace.h (B, T, n) holds h_1..h_T; dh (B, T, n) is the upstream
dL/dh_t on every output.
"""

from __future__ import annotations

import dataclasses
from numbers import Integral

import numpy as np

from . import engine
from .cells import get_cell
from .params import Params
from .trace import Grads, Source, Trace, check_source

__all__ = ["Grads", "Trace", "backward", "forward", "step_jacobians"]

MAX_TRUNCATE = 2**62  # any truncate >= T is full BPTT; larger values are refused as typos


def _truncation(truncate, T: int) -> int:
    """The kernels' truncation (0: full BPTT) from ``truncate`` (None or a positive int)."""
    if truncate is None:
        return 0
    if (isinstance(truncate, (bool, np.bool_)) or not isinstance(truncate, Integral)
            or not 1 <= truncate <= MAX_TRUNCATE):
        raise ValueError(f"truncate={truncate!r} must be a positive integer number of steps "
                         f"(at most 2**62), or None for full BPTT")
    return int(min(truncate, T))  # chunks of >= T steps cut nothing


def _batched(a, name: str, dims: int, dtype, copy: bool = True) -> np.ndarray:
    # a copy for what a Trace keeps: it must not change when the caller reuses its buffer
    # (dh and dc are only read, and copying hundreds of MB would delay a Ctrl-C)
    kind = np.asarray(a).dtype.kind
    if kind not in "fiub":  # complex would lose its imaginary part; objects, strings: no
        raise ValueError(f"{name} has dtype {np.asarray(a).dtype}; give real numbers "
                         "(float32 or float64)")
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
    trace = engine.call(lambda: get_cell(params.cell).forward(params, x, h0, c0), B * T * n * n)
    return dataclasses.replace(trace, source=Source.of(params))


def backward(params: Params, trace: Trace, dh, *, dc=None, truncate: int | None = None) -> Grads:
    """BPTT for upstream dh (B, T, n) (and dc for the LSTM's cell state).

    ``truncate=k`` is truncated BPTT: the sequence is cut into chunks of k steps (1..k,
    k+1..2k, ...) and no gradient crosses a chunk boundary, while states still carry forward.
    """
    check_source(params, trace, "backward")
    B, T, n = trace.h.shape
    dh = _batched(dh, "dh", 3, params.dtype, copy=False)
    if dh.shape != (B, T, n):
        raise ValueError(f"dh has shape {dh.shape}; expected {(B, T, n)}")
    if dc is not None:
        dc = _batched(dc, "dc", 3, params.dtype, copy=False)
        if dc.shape != (B, T, n):
            raise ValueError(f"dc has shape {dc.shape}; expected {(B, T, n)}")
    k = _truncation(truncate, T)
    grads = engine.call(lambda: get_cell(params.cell).backward(params, trace, dh, dc, k),
                        2 * B * T * n * n)
    return dataclasses.replace(grads, cell=params.cell)


def step_jacobians(params: Params, trace: Trace) -> np.ndarray:
    """ds_t/ds_{t-1} for t = 1..T, shape (B, T, d, d); s = h (d = n) or (h, c) (d = 2n).

    ``params`` must be those that made ``trace`` (else ValueError naming the difference)."""
    check_source(params, trace, "step_jacobians")
    return get_cell(params.cell).step_jacobians(params, trace)
