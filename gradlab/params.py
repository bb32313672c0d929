"""Params: the frozen weights of one recurrent layer, named as in the mathematics.

Every cell stores the same four arrays, stacked by gate in PyTorch's order
(LSTM i, f, g, o; GRU r, z, n; the RNN has one block):

    W   (G n, n)  recurrent weights      (PyTorch weight_hh_l0)
    U   (G n, m)  input weights          (PyTorch weight_ih_l0)
    b   (G n,)    input-side bias        (PyTorch bias_ih_l0)
    b_h (G n,)    recurrent-side bias    (PyTorch bias_hh_l0)

Cells may add more (``Ws`` for the RNN's skip connection through time, ``P`` for LSTM
peepholes). ``options`` holds what is not trained: activation, leak, gru_variant, ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
TORCH_NAMES = {"W": "weight_hh", "U": "weight_ih", "b": "bias_ih", "b_h": "bias_hh"}
DTYPES = (np.float64, np.float32)


def _frozen_array(a: Any, dtype) -> np.ndarray:
    """A read-only copy, handed out as a view of its read-only owner, so that nobody can make
    it writeable again (what Params.derived keeps must never go stale)."""
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out.view()


@dataclass(frozen=True)
class Params:
    """Weights of one layer of a ``cell`` ('rnn' | 'lstm' | 'gru'), read-only."""

    cell: str
    weights: Mapping[str, np.ndarray]
    options: Mapping[str, Any] = field(default_factory=dict)
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.cell not in GATES:
            raise ValueError(f"cell={self.cell!r} is not one of {sorted(GATES)}")
        for name in ("W", "U", "b", "b_h"):
            if name not in self.weights:
                raise ValueError(f"Params for {self.cell!r} need weight {name!r}")
        dtype = np.asarray(self.weights["W"]).dtype
        if dtype not in DTYPES:
            dtype = np.dtype(np.float64)
        w = {k: _frozen_array(v, dtype) for k, v in self.weights.items()}
        G = GATES[self.cell]
        W, U = w["W"], w["U"]
        if W.ndim != 2 or W.shape[0] != G * W.shape[1]:
            raise ValueError(f"W has shape {W.shape}; a {self.cell} needs ({G}n, n)")
        n = W.shape[1]
        if U.ndim != 2 or U.shape[0] != G * n:
            raise ValueError(f"U has shape {U.shape}; a {self.cell} with n={n} needs ({G * n}, m)")
        for name in ("b", "b_h"):
            if w[name].shape != (G * n,):
                raise ValueError(f"{name} has shape {w[name].shape}; expected ({G * n},)")
        from .cells import get_cell

        frozen = w
        w, options = get_cell(self.cell).check(w, dict(self.options))
        w = {k: v if v is frozen.get(k) else _frozen_array(v, dtype) for k, v in w.items()}
        object.__setattr__(self, "weights", MappingProxyType(w))
        object.__setattr__(self, "options", MappingProxyType(options))

    @property
    def n(self) -> int:
        """Hidden size."""
        return self.weights["W"].shape[1]

    @property
    def m(self) -> int:
        """Input size."""
        return self.weights["U"].shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.weights["W"].dtype

    def derived(self, key, make):
        """make(), computed on first use and kept with these Params: the layouts of the
        weights that the kernels read (``kernels.matvec.blocked``; up to four, one and two
        pieces, forward and backward, each about the size of W). The weights are read-only
        copies that cannot be made writeable again, so what is kept never goes stale;
        ``replace`` starts afresh."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = make()
            return value

    def replace(self, weights: Mapping[str, Any] | None = None, **options) -> Params:
        """A copy with some weights and/or options replaced."""
        w = dict(self.weights)
        w.update(weights or {})
        o = dict(self.options)
        o.update(options)
        return Params(self.cell, w, o)

    def astype(self, dtype) -> Params:
        return Params(self.cell, {k: np.asarray(v, dtype) for k, v in self.weights.items()},
                      self.options)


def _load_state_dict(state_dict) -> dict[str, np.ndarray]:
    """A dict of arrays/tensors, an .npz file, or a .pt file (needs torch) -> dict of arrays."""
    if isinstance(state_dict, (str, os.PathLike)):
        path = os.fspath(state_dict)
        if path.endswith(".npz"):
            with np.load(path) as f:
                return {k: np.asarray(f[k]) for k in f.files}
        if path.endswith((".pt", ".pth")):
            try:
                import torch
            except ImportError as e:
                raise ImportError(f"reading {path} needs PyTorch; save it as .npz instead") from e
            obj = torch.load(path, map_location="cpu", weights_only=True)  # a state_dict
            return {k: v.detach().cpu().double().numpy() for k, v in obj.items()}
        raise ValueError(f"{path}: expected a .npz, .pt or .pth file")
    out = {}
    for k, v in state_dict.items():
        if hasattr(v, "detach"):  # a torch tensor, without importing torch
            v = v.detach().cpu().double().numpy()
        out[k] = np.asarray(v)
    return out


def from_torch(cell: str, state_dict, *, layer: int = 0, nonlinearity: str = "tanh",
               gru_variant: str = "torch", dtype=np.float64) -> Params:
    """Params from PyTorch's nn.RNN / nn.LSTM / nn.GRU names (weight_ih_l0, ...).

    ``state_dict`` is a dict of arrays or tensors, an .npz path, or a .pt path (torch needed).
    ``nonlinearity`` (RNN only) is 'tanh' or 'relu' as in PyTorch, or 'linear' / 'sigmoid'.
    """
    if cell not in GATES:
        raise ValueError(f"cell={cell!r} is not one of {sorted(GATES)}")
    sd = _load_state_dict(state_dict)
    weights = {}
    for ours, theirs in TORCH_NAMES.items():
        key = f"{theirs}_l{layer}"
        if key in sd:
            weights[ours] = np.asarray(sd[key], dtype=dtype)
        elif ours in ("b", "b_h") and f"weight_hh_l{layer}" in sd:
            n_rows = sd[f"weight_hh_l{layer}"].shape[0]
            weights[ours] = np.zeros(n_rows, dtype=dtype)  # bias=False in PyTorch
        else:
            layers = sorted({k.rsplit("_l", 1)[-1] for k in sd if "_l" in k})
            raise KeyError(f"{key} not in the state dict (layers present: {layers or 'none'})")
    options: dict[str, Any] = {}
    if cell != "rnn" and nonlinearity != "tanh":
        raise ValueError(f"nonlinearity={nonlinearity!r} is for cell='rnn'; an {cell} has fixed "
                         "activations")
    if cell == "rnn":
        options["activation"] = nonlinearity
    elif cell == "gru":
        options["gru_variant"] = gru_variant
    from .cells import get_cell

    return get_cell(cell).make_params(weights, options)


def to_torch(params_or_grads, *, layer: int = 0) -> dict[str, np.ndarray]:
    """Params (or Grads) -> dict with PyTorch's names (weight_hh_l0, ...).

    Weights PyTorch has no place for (skip connections, peepholes) raise ValueError.
    """
    weights = getattr(params_or_grads, "weights", None)
    if weights is None:
        weights = params_or_grads.params  # a Grads
    out = {}
    for k, v in weights.items():
        if k not in TORCH_NAMES:
            raise ValueError(f"weight {k!r} has no PyTorch counterpart in nn.RNN/LSTM/GRU")
        out[f"{TORCH_NAMES[k]}_l{layer}"] = np.array(v)
    return out
