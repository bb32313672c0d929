"""The cell registry: every recurrent cell gradlab knows, described once by a CellSpec.

Params, init_params, from_torch/to_torch, the spectra and the lab read ``CELLS`` instead of
branching on names, and the contract suite (tests/contract) runs for every entry. To add a
cell (IndRNN is the worked example):

1. ``kernels/<name>.py``: @njit sweeps (``kernels._flags.kernel``), forward, backward with
   truncation, step Jacobians; numpy/numba only.
2. ``gradlab/cells/<name>.py``: forward/backward/step_jacobians wrappers that return
   ``gradlab.trace`` Trace/Grads, ``check`` for the options, ``init_weights``, and
   ``SPEC = CellSpec(...)``.
3. Its entry below (the import and ``<name>.SPEC``).
4. ``tests/kernels/ref_<name>.py``: the NumPy twin, with ``contract_forward`` and
   ``contract_backward`` taking Params; the contract suite finds it by name.
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
