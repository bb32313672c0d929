"""The cell registry: every recurrent cell gradlab knows, described once by a CellSpec.

A cell is one kernel file (``kernels/<name>.py``), one cell file (``gradlab/cells/<name>.py``,
which builds its ``SPEC``) and one line below. Params, init_params, from_torch/to_torch,
the spectra and the lab read ``CELLS`` instead of branching on names, and the contract
suite (tests/contract) runs for every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import gru, indrnn, lstm, rnn
from .common import time_major
from .spec import CellSpec, WeightSpec

CELLS: Mapping[str, CellSpec] = MappingProxyType({s.name: s for s in (
    rnn.SPEC,
    indrnn.SPEC,
    lstm.SPEC,
    gru.SPEC,
)})


def get_cell(name: str) -> CellSpec:
    """The CellSpec registered as ``name``; ValueError naming the allowed names."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise ValueError(f"cell={name!r} is not one of {list(CELLS)}") from None


__all__ = ["CELLS", "CellSpec", "WeightSpec", "get_cell", "time_major"]
