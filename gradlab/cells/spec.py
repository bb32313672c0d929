"""CellSpec and WeightSpec: how a recurrent cell is described once, for everything else to read.

A cell file (``gradlab/cells/<name>.py``) builds one ``CellSpec``; the registry
(``gradlab.cells.CELLS``) lists them. Params validation, init_params, from_torch/to_torch,
the spectra and the lab read the spec instead of branching on cell names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _dim(term, n: int, m: int) -> int:
    """One symbolic dimension ('n', 'm', '4n', 3) for hidden size n and input size m."""
    if isinstance(term, int):
        return term
    k, sym = term[:-1], term[-1]
    return (int(k) if k else 1) * {"n": n, "m": m}[sym]


@dataclass(frozen=True)
class WeightSpec:
    """One weight: its shape in terms of n (hidden) and m (inputs), e.g. ('4n', 'n'); its
    PyTorch name without the layer suffix ('weight_hh'), or None where PyTorch has none;
    ``optional`` weights are present only with some options (the RNN's skip matrix Ws,
    the LSTM's peepholes P)."""

    shape: tuple
    torch: str | None = None
    optional: bool = False

    def dims(self, n: int, m: int) -> tuple[int, ...]:
        """The concrete shape for hidden size n and input size m."""
        return tuple(_dim(t, n, m) for t in self.shape)

    def axis(self, sym: str) -> int | None:
        """The axis whose size is exactly the symbol ``sym`` ('n' or 'm'), if any."""
        return next((i for i, t in enumerate(self.shape) if t == sym), None)


def _no_refusal(options) -> None:
    return None


@dataclass(frozen=True)
class CellSpec:
    """Everything gradlab needs to know about one recurrent cell.

    name, label ('RNN', ...; also the torch.nn class when ``torch``); blocks G (weights are
    stacked by gate: W (G n, n)); gates: names recorded in Trace.gates; unit_gates: those on
    a [0, 1] scale; state: ('h',) or ('h', 'c'); weights {name: WeightSpec}; options
    {name: default}, ``choices`` {name: allowed values} for the discrete ones, and
    ``check(weights, options) -> (weights, options)`` (options complete with defaults;
    Params calls it on construction); recurrent: the weight the spectral radius scales;
    shown_matrix(params) -> (n, n), the matrix whose eigenvalues the lab shows; highway:
    (gate, block) whose bias opens the memory path, or None; torch: whether torch.nn has
    the cell with the same weights.

    forward(params, x (B, T, m), h0 (B, n), c0) -> Trace; backward(params, trace, dh, dc,
    truncate) -> Grads; step_jacobians(params, trace) -> (B, T, d, d).
    init_weights(n, m, rngs, R, options) -> weights, given R, the drawn recurrent weight;
    init_recurrent(n, scheme, spectral_radius, rng) draws R when it is not G stacked (n, n)
    matrices (None: ``gradlab.init.recurrent_matrix`` per block).
    check_spectra(options) raises ValueError when ds_T/ds_{T-l} is not a product of step
    Jacobians (the RNN's skip connection through time).
    """

    name: str
    label: str
    blocks: int
    gates: tuple[str, ...]
    unit_gates: tuple[str, ...]
    state: tuple[str, ...]
    weights: Mapping[str, WeightSpec]
    options: Mapping[str, Any]
    check: Callable
    recurrent: str
    shown_matrix: Callable
    highway: tuple[str, int] | None
    torch: bool
    forward: Callable
    backward: Callable
    step_jacobians: Callable
    init_weights: Callable
    init_recurrent: Callable | None = None
    choices: Mapping[str, tuple] = field(default_factory=dict)
    check_spectra: Callable = _no_refusal

    def __post_init__(self):
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    @property
    def required(self) -> tuple[str, ...]:
        """The weights every Params of this cell has."""
        return tuple(k for k, w in self.weights.items() if not w.optional)
