"""Lab: turns a LabConfig into a Snapshot, the frozen set of arrays every panel draws.

The experiment: a seeded input sequence x_1..x_T drives the network; the loss is
L = g . h_T for a fixed unit vector g (a loss on the last step only), so the per-lag
gradient norm ||dL/dh_{T-l}|| shows directly how much of the signal survives l steps back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .config import LabConfig
from .init import init_params
from .ops import backward, forward

# which recurrent block's eigenvalues the lab shows, per cell (the content path)
_EIG_BLOCK = {"rnn": 0, "lstm": 2, "gru": 2}


def _frozen(a):
    a = np.asarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Snapshot:
    """Everything the panels draw for one config. Arrays are read-only.

    x (T, m) inputs; h (T, n) hidden states h_1..h_T; lags (T+1,) = 0..T;
    grad_norms (T+1,) = ||dL/dh_{T-l}|| (lag T is h_0); reference (T+1,) = rho_eff^l, where
    rho_eff = max |1 - a + a lambda_i(W)| is the spectral radius of the linearised step
    (= rho for the plain RNN, leak a = 1);
    eigvals (n,) complex eigenvalues of the recurrent matrix; gates {name: (T, n)}.
    overflow_lag: first lag whose gradient is inf/nan (None if none);
    overflow_step: first step whose hidden state is inf/nan (None if none);
    growth_per_step: geometric-mean factor by which the gradient norm changes per lag.
    """

    config: LabConfig
    x: np.ndarray
    h: np.ndarray
    lags: np.ndarray
    grad_norms: np.ndarray
    reference: np.ndarray
    eigvals: np.ndarray
    gates: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    overflow_lag: int | None = None
    overflow_step: int | None = None
    growth_per_step: float = float("nan")
    compute_ms: float = 0.0

    @property
    def spectral_radius(self) -> float:
        """The measured largest |eigenvalue|."""
        return float(np.max(np.abs(self.eigvals)))

    def caption(self) -> str:
        """One line for a title bar or a slide: what the gradient is doing."""
        c = self.config
        act = f" {c.activation}" if c.cell == "rnn" else ""  # gated cells fix their own
        head = f"{c.cell.upper()}{act}  ρ = {c.spectral_radius:.2f}"
        if self.overflow_lag is not None:
            return f"{head}  ·  gradient overflows (inf) at lag {self.overflow_lag}"
        if self.overflow_step is not None:
            return f"{head}  ·  hidden state overflows at step {self.overflow_step}"
        g = self.growth_per_step
        if not np.isfinite(g):
            return head
        verb = "grows" if g > 1.0 else "shrinks"
        return f"{head}  ·  gradient {verb} ×{g:.3f} per step"


def _first_bad(values: np.ndarray) -> int | None:
    bad = ~np.isfinite(values)
    return int(np.argmax(bad)) if bad.any() else None


def row_norms(a: np.ndarray) -> np.ndarray:
    """2-norm of each row without spurious overflow: scale by the largest |entry| first.

    (np.linalg.norm squares entries, so it returns inf from about 1e154 on.)
    """
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(a), axis=-1)
        safe = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        out = safe * np.linalg.norm(a / safe[..., None], axis=-1)
        return np.where(np.isfinite(scale), out, np.abs(scale))


def growth_rate(lags: np.ndarray, norms: np.ndarray) -> float:
    """exp(slope) of a least-squares line through log(norm) against lag, finite points only."""
    ok = np.isfinite(norms) & (norms > 0)
    if ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(lags[ok].astype(float), np.log(norms[ok]), 1)[0]
    return float(np.exp(slope))


class Lab:
    """Computes Snapshots.

    Every recurrent init scheme is linear in the radius, so the lab draws each matrix once at
    radius 1 (with its eigenvalues) and scales it: dragging the radius slider costs no QR and
    no eigendecomposition. The cache is per Lab and small; results do not depend on it.
    """

    def __init__(self, cache_size: int = 8):
        self._base: dict[tuple, tuple] = {}
        self._cache_size = cache_size

    def _unit_radius(self, c: LabConfig):
        """Params at spectral radius 1 and the eigenvalues of the shown block, cached."""
        key = (c.cell, c.hidden, c.inputs, c.init, c.seed)
        if key not in self._base:
            if len(self._base) >= self._cache_size:
                self._base.pop(next(iter(self._base)))
            p = init_params(c.cell, c.hidden, c.inputs, scheme=c.init, spectral_radius=1.0,
                            seed=c.seed)
            k, n = _EIG_BLOCK[c.cell], c.hidden
            self._base[key] = (p, np.linalg.eigvals(p.weights["W"][k * n:(k + 1) * n]))
        return self._base[key]

    def compute(self, config: LabConfig) -> Snapshot:
        start = time.perf_counter()
        c = config
        base, base_eigvals = self._unit_radius(c)
        options = {"activation": c.activation, "leak": c.leak} if c.cell == "rnn" else {}
        p = base.replace(weights={"W": c.spectral_radius * base.weights["W"]}, **options)
        rng = np.random.default_rng([c.seed, 1])
        x = c.input_scale * rng.standard_normal((c.steps, c.inputs))  # (T, m)
        g = rng.standard_normal(c.hidden)
        g /= np.linalg.norm(g)  # (n,): L = g . h_T
        with np.errstate(all="ignore"):
            trace = forward(p, x)
            dh = np.zeros_like(trace.h)  # (1, T, n)
            dh[0, -1] = g
            grads = backward(p, trace, dh)
            h = trace.h[0]  # (T, n)
            per_lag = row_norms(grads.h[0, ::-1])  # lag 0 .. T-1
            norms = np.append(per_lag, row_norms(grads.h0[0]))  # (T+1,)
            lags = np.arange(c.steps + 1)
            eigvals = c.spectral_radius * base_eigvals
            # the linearised step of a leaky RNN is (1 - a) I + a W: eigenvalues 1 - a + a lambda
            leak = c.leak if c.cell == "rnn" else 1.0
            rho_eff = float(np.max(np.abs(1.0 - leak + leak * eigvals)))
            reference = rho_eff ** lags.astype(float)
            growth = growth_rate(lags, norms)
        gates = MappingProxyType({k_: _frozen(v[0]) for k_, v in trace.gates.items()})
        step_bad = _first_bad(np.where(np.isfinite(h).all(axis=1), 0.0, np.nan))
        return Snapshot(
            config=c, x=_frozen(x), h=_frozen(h), lags=_frozen(lags),
            grad_norms=_frozen(norms), reference=_frozen(reference), eigvals=_frozen(eigvals),
            gates=gates, overflow_lag=_first_bad(norms),
            overflow_step=None if step_bad is None else step_bad + 1,
            growth_per_step=growth, compute_ms=1000 * (time.perf_counter() - start),
        )
