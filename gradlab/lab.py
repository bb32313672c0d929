"""Lab: turns a LabConfig into a Snapshot, the frozen results every panel draws.

``Lab.compute(config, measures=names)`` computes only the measures asked for (all when
None), sharing one forward and backward pass between them (``measures.Context``). Each
result is kept, per measure, for the config fields it depends on: moving the time cursor
recomputes only what reads the cursor; a spectrum already computed for the current network
is not computed again when only the clip threshold changes.
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
    verb = "grows" if g > 1.0 else "shrinks"
    return f"{head}  ·  gradient {verb} ×{g:.3f} per step"


class Lab:
    """Computes Snapshots. Keeps a small cache of unit-radius draws (dragging the radius
    costs no QR or eigendecomposition) and of recent results per measure. Thread-safe: the
    app's cheap and expensive lanes share one Lab."""

    def __init__(self, cache_size: int = 8):
        self.draws = BaseDraws(cache_size)
        self._results: OrderedDict = OrderedDict()
        self._cache_size = 4 * cache_size
        self._lock = threading.Lock()

    def compute(self, config: LabConfig, measures: Iterable[str] | None = None) -> Snapshot:
        """The results of ``measures`` (names from ``gradlab.measures.MEASURES``; all when
        None) for ``config``."""
        names = list(MEASURES) if measures is None else list(measures)
        entries = [get_measure(n) for n in names]
        start = time.perf_counter()
        ctx = Context(config, self.draws)
        results = {}
        for m in entries:
            key = (m.name, _key(config, m.ignores))
            with self._lock:  # only the cache is shared: two lanes compute at once
                hit = self._results.get(key)
                if hit is not None:
                    self._results.move_to_end(key)
            if hit is None:
                hit = _freeze(m.compute(ctx))
                with self._lock:
                    self._results[key] = hit
                    while len(self._results) > self._cache_size:
                        self._results.popitem(last=False)
            results[m.name] = hit
        return Snapshot(config, results, 1000 * (time.perf_counter() - start))


def _key(config: LabConfig, ignores: frozenset) -> tuple:
    return tuple((f.name, getattr(config, f.name)) for f in fields(config)
                 if f.name not in ignores)


__all__ = ["Lab", "Snapshot", "caption"]
