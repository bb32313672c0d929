"""Lab: turns a LabConfig into a Snapshot, the frozen results every panel draws.

``Lab.compute(config, measures=names)`` computes only the measures asked for (all when
None), sharing one forward and backward pass between them (``measures.Context``). Each
result is kept, per measure, for the config fields it depends on: moving the time cursor
recomputes only what reads the cursor; a spectrum already computed for the current network
is not computed again when only the clip threshold changes. The kept results are bounded in
number and in bytes (at n = 512, T = 5000 one gates result alone is about 100 MB).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import numpy as np

from .config import LabConfig
from .measures import MEASURES, Context, get_measure
from .measures.context import BaseDraws


def _nbytes(value) -> int:
    """Bytes of the arrays inside a result (what keeping it costs)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, Mapping):
        return sum(_nbytes(v) for v in value.values())
    if hasattr(value, "__dataclass_fields__"):
        return sum(_nbytes(getattr(value, f.name)) for f in fields(value))
    return 0


def _freeze(value):
    """Make every array inside a frozen result read-only (results are shared, never edited)."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, Mapping):
        for v in value.values():
            _freeze(v)
    elif hasattr(value, "__dataclass_fields__"):
        for f in fields(value):
            _freeze(getattr(value, f.name))
    return value


@dataclass(frozen=True)
class Snapshot:
    """The results of some measures for one config. ``snapshot['gradient']`` is one result;
    ``name in snapshot`` says whether it was computed; ``compute_ms`` how long it took."""

    config: LabConfig
    results: Mapping[str, object] = field(default_factory=dict)
    compute_ms: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "results", MappingProxyType(dict(self.results)))

    def __getitem__(self, name: str):
        try:
            return self.results[name]
        except KeyError:
            raise KeyError(f"measure {name!r} is not in this snapshot (computed: "
                           f"{sorted(self.results)})") from None

    def __contains__(self, name: str) -> bool:
        return name in self.results

    def merged(self, other: Snapshot) -> Snapshot:
        """This snapshot with ``other``'s results added (same config)."""
        if other.config != self.config:
            raise ValueError("snapshots of different configs cannot be merged")
        return Snapshot(self.config, {**self.results, **other.results},
                        self.compute_ms + other.compute_ms)

    def caption(self) -> str:
        """One line for a title bar or a slide: what the gradient is doing."""
        return caption(self.config, self.results.get("gradient"))


def caption(c: LabConfig, grad=None) -> str:
    """'RNN tanh  ρ = 1.05  a = 0.5  ·  gradient grows ×1.048 per step' (from the config,
    so it never contradicts the controls; the gradient part only when it is known)."""
    from .cells import get_cell

    spec = get_cell(c.cell)
    act = f" {c.activation}" if "activation" in spec.options else ""
    head = f"{spec.label}{act}  ρ = {c.spectral_radius:.2f}"
    if c.eigs:  # hand-set eigenvalues: the radius the matrix really has
        top = max(abs(complex(re, im)) for re, im in c.eigs)
        head = f"{spec.label}{act}  ρ(W) = {c.spectral_radius * top:.2f} (eigenvalues set by hand)"
    if "leak" in spec.options and (c.leak < 1.0):
        spread = " (spread)" if c.leak_spread != "one" else ""
        head += f"  a = {c.leak:.2f}{spread}"
    if spec.highway is not None and c.gate_bias != 0.0:
        head += f"  {spec.highway[0]}-bias {c.gate_bias:+.1f}"
    if c.clip > 0:
        head += f"  clip {c.clip:g}"
    if grad is None:
        return head
    if grad.overflow_step is not None:
        return f"{head}  ·  hidden state overflows at step {grad.overflow_step}"
    g = grad.growth_per_step
    if not np.isfinite(g):
        return head
    if c.loss == "every":  # each lag also collects its own step's loss: no pure rate
        return f"{head}  ·  loss on every step: lag l sums the terms of steps T−l … T"
    verb = "grows" if g > 1.0 else "shrinks"
    return f"{head}  ·  gradient {verb} ×{g:.3f} per step"


class Lab:
    """Computes Snapshots. Keeps a small cache of unit-radius draws (dragging the radius
    costs no QR or eigendecomposition) and of recent results per measure: at most
    ``4 * cache_size`` of them and ``cache_bytes`` of arrays (the newest is kept whatever its
    size). Thread-safe: the app's cheap and expensive lanes share one Lab."""

    def __init__(self, cache_size: int = 8, cache_bytes: int = 256 * 2**20):
        for name, value in (("cache_size", cache_size), ("cache_bytes", cache_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        self.draws = BaseDraws(cache_size)
        self._results: OrderedDict = OrderedDict()  # key -> (result, bytes), oldest first
        self._cache_size = 4 * cache_size
        self._cache_bytes = cache_bytes
        self._held = 0  # bytes of the kept results
        self._lock = threading.Lock()

    @property
    def cached_bytes(self) -> int:
        """Bytes of arrays in the results kept for reuse."""
        return self._held

    def compute(self, config: LabConfig, measures: Iterable[str] | None = None) -> Snapshot:
        """The results of ``measures`` (names from ``gradlab.measures.MEASURES``; all when
        None; one name alone is fine) for ``config``."""
        if isinstance(measures, str):
            measures = (measures,)
        names = list(MEASURES) if measures is None else list(measures)
        entries = [get_measure(n) for n in names]
        start = time.perf_counter()
        ctx = Context(config, self.draws)
        results = {}
        for m in entries:
            key = (m.name, _key(config, m.ignores))
            with self._lock:  # only the cache is shared: two lanes compute at once
                kept = self._results.get(key)
                if kept is not None:
                    self._results.move_to_end(key)
            if kept is None:
                result = _freeze(m.compute(ctx))
                kept = (result, _nbytes(result))
                with self._lock:
                    self._keep(key, kept)
            results[m.name] = kept[0]
        return Snapshot(config, results, 1000 * (time.perf_counter() - start))

    def _keep(self, key, kept: tuple) -> None:
        """Add (result, bytes) as the newest; drop the oldest beyond the bounds (lock held)."""
        old = self._results.pop(key, None)
        self._held += kept[1] - (old[1] if old is not None else 0)
        self._results[key] = kept
        while len(self._results) > 1 and (len(self._results) > self._cache_size
                                          or self._held > self._cache_bytes):
            _, (_, size) = self._results.popitem(last=False)
            self._held -= size


def _key(config: LabConfig, ignores: frozenset) -> tuple:
    return tuple((f.name, getattr(config, f.name)) for f in fields(config)
                 if f.name not in ignores)


__all__ = ["Lab", "Snapshot", "caption"]
