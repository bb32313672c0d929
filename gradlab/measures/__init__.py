"""Measures: what each view of the lab draws, computed without Qt.

A measure is one small module with a frozen result dataclass and a ``Measure`` entry:
its name, its cost ('cheap' ones come back first, 'expensive' ones follow without delaying
the slider's redraw), the config fields it ignores (so the lab reuses a result when only
those change), and ``compute(ctx) -> result``. ``ctx`` (``Context``) builds the experiment
once per config and shares it between measures: Params, inputs x, the forward Trace and
the backward Grads.

``MEASURES`` maps names to entries; ``Lab.compute(config, measures=...)`` computes only the
names asked for. The recurrent-network measures ignore the attention layout's fields
(``config.ATTENTION_FIELDS``: the registry adds them); the attention measure reads only
the task, cell, score and seed.
names asked for. The recurrent-network measures also ignore the cliff's descent fields
(``config.CLIFF_FIELDS``: the registry adds them), and the cliff's own measures ('cliff',
'descent') ignore everything but those and the clip threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from .context import Context


@dataclass(frozen=True)
class Measure:
    """One registered measure.

    name: its key in a Snapshot; cost: 'cheap' | 'expensive'; ignores: LabConfig fields
    whose value does not change the result; compute(ctx) -> a frozen result; heavy(config)
    -> True where a cheap measure is expensive after all (large sizes; see ``cost_for``).
    """

    name: str
    cost: str
    compute: Callable[[Context], object]
    ignores: frozenset = frozenset()
    doc: str = ""
    heavy: Callable[[object], bool] | None = None

    def cost_for(self, config=None) -> str:
        """The cost for ``config`` (``cost`` when None)."""
        if config is not None and self.heavy is not None and self.heavy(config):
            return "expensive"
        return self.cost


def _registry() -> MappingProxyType:
    from ..config import ATTENTION_FIELDS, CLIFF_FIELDS
    from . import (
        attention,
        cells,
        cliff,
        clipping,
        descent,
        eigen,
        gates,
        gradient,
        leaky,
        spectrum,
        states,
        step_eigen,
    )

    network = [m.MEASURE for m in (gradient, states, gates, eigen, leaky, cells, clipping,
                                   step_eigen, spectrum)]
    others = frozenset(ATTENTION_FIELDS) | frozenset(CLIFF_FIELDS)
    entries = [dataclasses.replace(e, ignores=e.ignores | others) for e in network]
    entries.append(dataclasses.replace(attention.MEASURE,
                                       ignores=attention.MEASURE.ignores | frozenset(CLIFF_FIELDS)))
    entries += [cliff.MEASURE, descent.MEASURE]
    return MappingProxyType({e.name: e for e in entries})


MEASURES: MappingProxyType = _registry()


def get_measure(name: str) -> Measure:
    if name not in MEASURES:
        raise ValueError(f"measure {name!r} is not one of {list(MEASURES)}")
    return MEASURES[name]


__all__ = ["MEASURES", "Context", "Measure", "get_measure"]
