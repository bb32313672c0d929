"""Registry of recurrent cells (interim: the `reg` branch replaces this with the full
CellSpec registry; the names below are the ones the lab relies on).

A cell module provides: ``GATES`` (names of the recorded activations), ``make_params``,
``init_weights``, ``forward``, ``backward`` and ``step_jacobians``.
"""

from dataclasses import dataclass
from importlib import import_module
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class CellSpec:
    """What the lab needs to know about a cell; other attributes come from its module."""

    name: str
    label: str
    blocks: int
    gates: tuple
    unit_gates: tuple
    state: tuple
    recurrent: str
    shown_block: int
    highway: tuple | None
    options: tuple
    torch: bool = True

    def shown_matrix(self, params) -> np.ndarray:
        n = params.n
        k = self.shown_block
        return np.asarray(params.weights[self.recurrent][k * n:(k + 1) * n])

    def __getattr__(self, name):
        return getattr(import_module(f".{self.name}", __name__), name)


CELLS = MappingProxyType({
    "rnn": CellSpec("rnn", "RNN", 1, ("phi",), (), ("h",), "W", 0, None,
                    ("activation", "leak", "residual", "skip_delay")),
    "lstm": CellSpec("lstm", "LSTM", 4, ("i", "f", "g", "o"), ("i", "f", "o"), ("h", "c"),
                     "W", 2, ("f", 1), ("peepholes", "coupled")),
    "gru": CellSpec("gru", "GRU", 3, ("r", "z", "n"), ("r", "z"), ("h",), "W", 2, ("z", 1),
                    ("gru_variant",)),
})


def get_cell(cell: str) -> CellSpec:
    """The spec of ``cell``."""
    if cell not in CELLS:
        raise ValueError(f"cell={cell!r} is not one of {list(CELLS)}")
    return CELLS[cell]


def time_major(a: np.ndarray) -> np.ndarray:
    """(B, T, ...) -> writable C-contiguous (T, B, ...), the kernels' layout; copies only
    when needed (writable inputs keep each kernel to one compiled signature)."""
    t = a.transpose(1, 0, 2)
    if t.flags.c_contiguous and t.flags.writeable:
        return t
    return np.array(t, order="C")
