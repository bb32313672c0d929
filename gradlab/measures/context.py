"""Context: the experiment a LabConfig describes, built lazily and shared by the measures.

The experiment: a seeded input sequence x_1..x_T (T, m) drives the network from h_0 = 0;
the loss is L = g . h_T (``loss='last'``) or L = sum_t g . h_t (``loss='every'``) for a
fixed random unit vector g (n,). Params come from the Lab's cache of unit-radius draws,
scaled by the spectral radius, with hand-set eigenvalues, the highway bias and the leak
applied (``params_for``).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from ..cells import get_cell
from ..init import init_params
from ..ops import backward, forward
from .scaled import ScaledFlow, scaled_flow


def unit_leaks(config) -> np.ndarray | float:
    """The leak a of every unit: one value, or leaks spread log-uniformly over [a, 1]
    (time constants 1/a_i from 1 to 1/a, evenly spaced in log, unit 1 the slowest)."""
    if config.leak_spread == "one" or config.hidden < 2:
        return float(config.leak)
    return config.leak ** np.linspace(1.0, 0.0, config.hidden)  # (n,)


class BaseDraws:
    """Params at spectral radius 1 and the eigen-decomposition of the shown matrix, per
    (cell, hidden, inputs, init, seed), least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 8):
        self._cache: dict[tuple, tuple] = {}
        self._size = size
        self._lock = threading.Lock()  # the app's two compute lanes share one Lab

    def get(self, cell: str, hidden: int, inputs: int, init: str, seed: int):
        with self._lock:
            return self._get((cell, hidden, inputs, init, seed))

    def _get(self, key: tuple):
        cell, hidden, inputs, init, seed = key
        if key in self._cache:
            self._cache[key] = self._cache.pop(key)  # most recently used last
            return self._cache[key]
        if len(self._cache) >= self._size:
            self._cache.pop(next(iter(self._cache)))
        p = init_params(cell, hidden, inputs, scheme=init, spectral_radius=1.0, seed=seed)
        M = get_cell(cell).shown_matrix(p)  # (n, n)
        lam, V = np.linalg.eig(M)
        self._cache[key] = value = (p, lam, V)
        return value


def edited_matrix(M: np.ndarray, lam: np.ndarray, V: np.ndarray, eigs) -> np.ndarray:
    """M with its eigenvalues lam replaced by ``eigs`` (in M's eigenbasis V): Re(V L V^-1).

    ``eigs`` pairs (re, im) must list one value per eigenvalue, in the order of ``lam``;
    values that belong to a conjugate pair of ``lam`` should be conjugates (the app moves
    both), so the result is real up to rounding.
    """
    new = np.array([complex(re, im) for re, im in eigs])
    if new.shape != lam.shape:
        return M
    with np.errstate(all="ignore"):
        W = (V * new) @ np.linalg.inv(V)
    return np.ascontiguousarray(W.real)


def params_for(config, draws: BaseDraws):
    """The Params the lab runs for ``config``."""
    c = config
    spec = get_cell(c.cell)
    base, lam, V = draws.get(c.cell, c.hidden, c.inputs, c.init, c.seed)
    n = c.hidden
    rec = np.array(base.weights[spec.recurrent], dtype=np.float64)
    if c.eigs and len(c.eigs) == n:
        M = spec.shown_matrix(base)
        edited = edited_matrix(np.asarray(M), lam, V, c.eigs)
        if rec.ndim == 1:  # IndRNN: w is the diagonal
            rec = np.diag(edited).copy()
        else:
            k = _shown_block_index(spec, base, rec.shape[0] // n, n)
            rec[k * n:(k + 1) * n] = edited
    weights = {spec.recurrent: c.spectral_radius * rec}
    if spec.highway is not None and c.gate_bias != 0.0:
        _, k = spec.highway
        b = np.array(base.weights["b"], dtype=np.float64)
        b[k * n:(k + 1) * n] += c.gate_bias
        weights["b"] = b
    options = {}
    if "activation" in spec.options:
        options["activation"] = c.activation
    if "leak" in spec.options:
        options["leak"] = unit_leaks(c)
    return base.replace(weights=weights, **options)


def _shown_block_index(spec, base, blocks: int, n: int) -> int:
    """Which block of the recurrent weight the shown matrix is: ``shown_matrix`` is read on
    a probe whose block k is filled with k (comparing values fails when blocks are equal,
    e.g. every block is I under the identity init)."""
    if blocks == 1:
        return 0
    marks = np.repeat(np.arange(blocks, dtype=np.float64), n)[:, None]  # (G n, 1)
    probe = base.replace(weights={spec.recurrent: np.broadcast_to(marks, (blocks * n, n))})
    return int(np.asarray(spec.shown_matrix(probe))[0, 0])


def inputs_for(config) -> tuple[np.ndarray, np.ndarray]:
    """x (T, m) and the loss direction g (n,), a unit vector, from the config's seed. Each
    has a stream of its own: a longer run extends x, and g does not change with T or m."""
    rng = np.random.default_rng([config.seed, 1])
    x = config.input_scale * rng.standard_normal((config.steps, config.inputs))  # (T, m)
    g = np.random.default_rng([config.seed, 3]).standard_normal(config.hidden)  # (n,)
    g /= np.linalg.norm(g)
    return x, g


def upstream(config, g: np.ndarray) -> np.ndarray:
    """dL/dh_t from the loss alone, (1, T, n): g at the last step, or at every step."""
    dh = np.zeros((1, config.steps, config.hidden))  # (1, T, n)
    if config.loss == "every":
        dh[0, :] = g
    else:
        dh[0, -1] = g
    return dh


class Context:
    """Lazily built pieces of one experiment; every property is computed at most once."""

    def __init__(self, config, draws: BaseDraws):
        self.config = config
        self.draws = draws

    @functools.cached_property
    def spec(self):
        return get_cell(self.config.cell)

    @functools.cached_property
    def params(self):
        return params_for(self.config, self.draws)

    @functools.cached_property
    def _inputs(self):
        return inputs_for(self.config)

    @property
    def x(self) -> np.ndarray:
        return self._inputs[0]  # (T, m)

    @property
    def g(self) -> np.ndarray:
        return self._inputs[1]  # (n,)

    @functools.cached_property
    def dh(self) -> np.ndarray:
        return upstream(self.config, self.g)  # (1, T, n)

    @functools.cached_property
    def trace(self):
        with np.errstate(all="ignore"):
            return forward(self.params, self.x)

    @functools.cached_property
    def grads(self):
        with np.errstate(all="ignore"):
            return backward(self.params, self.trace, self.dh)

    @functools.cached_property
    def scaled(self) -> ScaledFlow:
        """The gradient per lag and per unit in scaled form (beyond float64's range)."""
        return scaled_flow(self.params, self.x, self.trace, self.grads, self.dh,
                           self.overflow_step)

    @functools.cached_property
    def base_eigvals(self) -> np.ndarray:
        """Eigenvalues of the shown matrix at radius 1 (hand-set ones if any), (n,) complex,
        in the order the app edits them."""
        c = self.config
        _, lam, _ = self.draws.get(c.cell, c.hidden, c.inputs, c.init, c.seed)
        if c.eigs and len(c.eigs) == len(lam):
            return np.array([complex(re, im) for re, im in c.eigs])
        return np.array(lam, dtype=complex)

    @functools.cached_property
    def eigvals(self) -> np.ndarray:
        """Eigenvalues of the shown recurrent matrix (radius included), (n,) complex."""
        return self.config.spectral_radius * self.base_eigvals

    @functools.cached_property
    def overflow_step(self) -> int | None:
        """First step t (1..T) whose hidden state is inf or nan, None if none."""
        bad = ~np.isfinite(self.trace.h[0]).all(axis=1)
        return int(np.argmax(bad)) + 1 if bad.any() else None
