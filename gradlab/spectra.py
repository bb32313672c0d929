"""Spectra of the recurrent dynamics: Jacobian singular values per lag, Lyapunov exponents.

jacobian_spectrum: log singular values of ds_T/ds_{T-l} for every lag l (the backward view:
how each direction of a gradient injected at step T grows or shrinks on its way back l
steps). lyapunov_spectrum: the average per-step growth rates of the forward dynamics along
the trajectory. Both are computed in the log domain, so they stay finite where the plain
Jacobian products overflow.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np

from kernels import jacobian as kj
from kernels.lyapunov import lyapunov_exponents

from . import engine
from .cells import get_cell
from .ops import step_jacobians
from .params import Params
from .trace import Trace, check_source

_CHUNK = 16  # lags per hand-over between the two threads of jacobian_spectrum


def _state_jacobians(params: Params, trace: Trace, b, what: str) -> np.ndarray:
    """Step Jacobians ds_t/ds_{t-1}, t = 1..T, of batch element b: (T, d, d)."""
    check_source(params, trace, what)
    get_cell(params.cell).check_spectra(params.options)
    B = trace.h.shape[0]
    if isinstance(b, (bool, np.bool_)) or not isinstance(b, Integral) or not -B <= b < B:
        raise ValueError(f"b={b} is out of range for a batch of {B}")
    return step_jacobians(params, trace)[b]


def log_singular_values(J: np.ndarray, *, threads: bool | None = None) -> np.ndarray:
    """(T, d) log singular values, descending, of P_l = J[T-1] ... J[T-l] for l = 1..T.

    J (T, d, d) holds J[t-1] = ds_t/ds_{t-1}. With ``threads`` (None: what the engine
    allows, i.e. ``GRADLAB_THREADS=2``), the QR updates of the product run in this thread
    while the SVDs of finished lags run in a second one: both kernels release the GIL. By
    default everything runs in the calling thread (never slower on a busy machine).
    """
    J = np.ascontiguousarray(J, dtype=np.float64)
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise ValueError(f"J must have shape (T, d, d), got {J.shape}")
    T, d, _ = J.shape
    if T == 0:
        return np.empty((0, d))
    if threads is None:
        threads = engine.threads() >= 2
    if not threads or T < 2 * _CHUNK or d < 8:
        return kj.log_singular_values(J)
    out = np.full((T, d), np.nan)
    Qt, Tm, delta = kj.new_state(d)
    buffers = [(np.empty((_CHUNK, d)), np.empty((_CHUNK, d, d))) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for k, l0 in enumerate(range(1, T + 1, _CHUNK)):
            c = min(_CHUNK, T + 1 - l0)
            deltas, Ts = buffers[k % 2]  # the job that used them (k - 2) has finished
            done = kj.propagate(J, l0, Qt, Tm, delta, deltas[:c], Ts[:c])
            if pending is not None:
                pending.result()
            pending = pool.submit(kj.graded_spectra, deltas[:done], Ts[:done],
                                  out[l0 - 1:l0 - 1 + done])
            if done < c:
                break
        pending.result()
    return out


def jacobian_spectrum(params: Params, trace: Trace, *, b: int = 0,
                      threads: bool | None = None) -> np.ndarray:
    """Log singular values of ds_T/ds_{T-l} for l = 1..T: (T, d), row l-1 descending.

    s = h (RNN, GRU) or (h, c) (LSTM, d = 2n). Accurate in every singular value (not just
    the largest) and finite for any horizon: the product is kept as a graded QR
    decomposition (see ``kernels.jacobian``), never multiplied out. Directions a step
    annihilates (dead ReLU units, saturated gates) come out at rounding level, about 1e-16
    times the others at that step, not as exact zeros. Lags whose product includes a
    non-finite Jacobian are nan. ``threads=False`` keeps the work in the calling thread
    (see ``log_singular_values``).
    """
    return log_singular_values(_state_jacobians(params, trace, b, "jacobian_spectrum"),
                               threads=threads)


def lyapunov_spectrum(params: Params, trace: Trace, *, b: int = 0, k: int | None = None,
                      warmup: int = 0, seed: int = 0) -> np.ndarray:
    """The k largest Lyapunov exponents (per step, natural log) along the trajectory, (k,).

    Repeated QR (Benettin's method, as in Engelken, Wolf and Abbott 2020): an orthonormal
    frame Q (d, k), random from ``seed``, is pushed forward, Q R = J_t Q, and the exponents
    are the averages of log|diag R| over steps ``warmup``+1 .. T (the first ``warmup``
    steps only align the frame). Returned in descending order. With k = d their sum is the
    mean of log|det J_t|.
    """
    J = _state_jacobians(params, trace, b, "lyapunov_spectrum")
    T, d, _ = J.shape
    k = d if k is None else int(k)
    if not 1 <= k <= d:
        raise ValueError(f"k={k} must be between 1 and the state size d={d}")
    if not 0 <= warmup < T:
        raise ValueError(f"warmup={warmup} must be at least 0 and below the {T} steps")
    Q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return lyapunov_exponents(np.ascontiguousarray(J, dtype=np.float64), Q0, int(warmup))
