"""Trace and Grads: what a forward pass computed and what backward returns, for every cell.

They sit below both the cells and ``gradlab.ops`` (numpy only), so that each can import them
downwards. A Trace records what made it (``Source``: cell, n, m, dtype and the options), and
every function that takes Params together with a Trace refuses a mismatch by name
(``check_source``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


def _readonly(d: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    for v in d.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return MappingProxyType(dict(d))


def _option_key(value: Any):
    """A comparable, hashable stand-in for one option value (arrays by shape and bits)."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


@dataclass(frozen=True)
class Source:
    """What made a Trace: the cell, hidden size n, input size m, dtype and options."""

    cell: str
    n: int
    m: int
    dtype: str
    options: tuple  # ((name, comparable value), ...) sorted by name

    @classmethod
    def of(cls, params) -> Source:
        """The Source of a Params (anything with cell, n, m, dtype and options)."""
        opts = tuple(sorted((k, _option_key(v)) for k, v in params.options.items()))
        return cls(params.cell, int(params.n), int(params.m), str(np.dtype(params.dtype)), opts)

    def differences(self, other: Source) -> list[str]:
        """'name: ours vs theirs' for every field (and option) that differs."""
        out = [f"{k}={getattr(self, k)!r} vs {getattr(other, k)!r}"
               for k in ("cell", "n", "m", "dtype") if getattr(self, k) != getattr(other, k)]
        if self.cell == other.cell:
            mine, theirs = dict(self.options), dict(other.options)
            for k in sorted(set(mine) | set(theirs)):
                if mine.get(k) != theirs.get(k):
                    out.append(f"option {k}")
        return out


def check_source(params, trace: Trace, what: str) -> None:
    """ValueError naming each difference when ``params`` did not make ``trace``."""
    made = trace.source
    if made is None:  # a Trace built by hand: check what its arrays show
        made = Source(trace.cell, trace.h.shape[-1], trace.x.shape[-1], str(trace.h.dtype),
                      Source.of(params).options)
    diff = made.differences(Source.of(params))
    if diff:
        raise ValueError(f"{what}: params do not match the trace (trace vs params: "
                         f"{'; '.join(diff)}); pass the Params that made the trace")


@dataclass(frozen=True)
class Trace:
    """Everything the forward pass computed, kept for backward and for the views.

    h (B, T, n) = h_1..h_T; c (B, T, n) for the LSTM, else None; gates {name: (B, T, n)}.
    ``cache`` holds the cell's time-major arrays that backward needs; ``source`` what made
    the trace (``gradlab.forward`` records it).
    """

    cell: str
    x: np.ndarray  # (B, T, m)
    h0: np.ndarray  # (B, n)
    h: np.ndarray  # (B, T, n)
    c0: np.ndarray | None = None  # (B, n)
    c: np.ndarray | None = None  # (B, T, n)
    gates: Mapping[str, np.ndarray] = field(default_factory=dict)
    cache: Mapping[str, np.ndarray] = field(default_factory=dict)
    source: Source | None = None

    def __post_init__(self):
        object.__setattr__(self, "gates", _readonly(self.gates))
        object.__setattr__(self, "cache", _readonly(self.cache))


@dataclass(frozen=True)
class Grads:
    """Gradients from backward.

    h (B, T, n) = total dL/dh_t; c (B, T, n) = total dL/dc_t (LSTM); h0, c0 (B, n);
    x (B, T, m) = dL/dx_t; params {name: array} with the same keys as Params.weights;
    cell: the cell they are for (``gradlab.backward`` records it).
    """

    h: np.ndarray
    h0: np.ndarray
    x: np.ndarray
    params: Mapping[str, np.ndarray]
    c: np.ndarray | None = None
    c0: np.ndarray | None = None
    cell: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", _readonly(self.params))
