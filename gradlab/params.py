"""Params: the frozen weights of one recurrent layer, named as in the mathematics.

Which weights a cell has, their shapes and their PyTorch names come from the cell registry
(``gradlab.cells.CELLS``). The RNN, LSTM and GRU store four arrays, stacked by gate in
PyTorch's order (LSTM i, f, g, o; GRU r, z, n; the RNN has one block):

    W   (G n, n)  recurrent weights      (PyTorch weight_hh_l0)
    U   (G n, m)  input weights          (PyTorch weight_ih_l0)
    b   (G n,)    input-side bias        (PyTorch bias_ih_l0)
    b_h (G n,)    recurrent-side bias    (PyTorch bias_hh_l0)

Cells may add more (``Ws`` for the RNN's skip connection through time, ``P`` for LSTM
peepholes) or differ (IndRNN's recurrent vector ``w`` (n,)). ``options`` holds what is not
trained: activation, leak, gru_variant, ...
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .cells import CELLS, get_cell

GATES = {name: spec.blocks for name, spec in CELLS.items()}
TORCH_NAMES = {"W": "weight_hh", "U": "weight_ih", "b": "bias_ih", "b_h": "bias_hh"}
DTYPES = (np.float64, np.float32)


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """np.dtype(dtype) if it is float32 or float64, else ValueError naming ``name``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{name}={dtype!r} is not a dtype; use float32 or float64") from None
    if dt not in DTYPES:
        raise ValueError(f"{name}={dt.name} is not allowed; gradlab computes in float32 or "
                         "float64")
    return dt


def _real_array(name: str, a: Any) -> np.ndarray:
    """np.asarray(a), refused unless it is real floating point (no ints, bools, complex)."""
    arr = np.asarray(a)
    if arr.dtype.kind != "f":
        raise ValueError(f"weight {name!r} has dtype {arr.dtype}; give real floating-point "
                         "values (float32 or float64)")
    return arr


def _frozen_array(a: Any, dtype) -> np.ndarray:
    """A read-only copy, handed out as a view of its read-only owner, so that nobody can make
    it writeable again (what Params.derived keeps must never go stale)."""
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out.view()


def _sizes(spec, w: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """(n, m) read from the weights: n from the recurrent weight, m from the first with an
    input axis; each checked for its number of dimensions first."""
    def read(sym):
        for name, ws in spec.weights.items():
            axis = ws.axis(sym)
            if axis is None or name not in w:
                continue
            if w[name].ndim != len(ws.shape):
                raise ValueError(f"{name} has shape {w[name].shape}; a {spec.name} needs "
                                 f"{_symbolic(ws.shape)}")
            return w[name].shape[axis]
        raise ValueError(f"Params for {spec.name!r} cannot tell the size {sym}")  # unreachable

    return read("n"), read("m")


def _symbolic(shape) -> str:
    return "(" + ", ".join(str(t) for t in shape) + (",)" if len(shape) == 1 else ")")


@dataclass(frozen=True)
class Params:
    """Weights of one layer of a registered ``cell`` ('rnn' | 'indrnn' | 'lstm' | 'gru'),
    read-only."""

    cell: str
    weights: Mapping[str, np.ndarray]
    options: Mapping[str, Any] = field(default_factory=dict)
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _nm: tuple = field(default=(0, 0), init=False, repr=False, compare=False)

    def __post_init__(self):
        spec = get_cell(self.cell)
        if not isinstance(self.weights, Mapping):
            raise ValueError(f"weights must be a mapping of name -> array, got "
                             f"{type(self.weights).__name__}")
        if not isinstance(self.options, Mapping):
            raise ValueError(f"options must be a mapping of name -> value, got "
                             f"{type(self.options).__name__}")
        for name in spec.required:
            if name not in self.weights:
                raise ValueError(f"Params for {self.cell!r} need weight {name!r}")
        for name in self.weights:
            if name not in spec.weights:
                raise ValueError(f"weight {name!r} is not a {self.cell} weight; allowed: "
                                 f"{list(spec.weights)}")
        for name in self.options:
            if name not in spec.options:
                raise ValueError(f"option {name!r} is not a {self.cell} option; allowed: "
                                 f"{sorted(spec.options)}")
        raw = {k: _real_array(k, v) for k, v in self.weights.items()}
        dtype = raw[spec.recurrent].dtype
        if dtype not in DTYPES:
            dtype = np.dtype(np.float64)  # float16 and the like compute in float64
        w = {k: _frozen_array(v, dtype) for k, v in raw.items()}
        n, m = _sizes(spec, w)
        for name in spec.required:
            want = spec.weights[name].dims(n, m)
            if w[name].shape != want:
                raise ValueError(f"{name} has shape {w[name].shape}; a {self.cell} with n={n}, "
                                 f"m={m} needs {_symbolic(spec.weights[name].shape)} = {want}")
        frozen = w
        w, options = spec.check(w, dict(self.options))
        w = {k: v if v is frozen.get(k) else _frozen_array(_real_array(k, v), dtype)
             for k, v in w.items()}
        for name, v in w.items():  # optional weights, once check has settled them
            want = spec.weights[name].dims(n, m)
            if v.shape != want:
                raise ValueError(f"{name} has shape {v.shape}; a {self.cell} with n={n} needs "
                                 f"{_symbolic(spec.weights[name].shape)} = {want}")
        object.__setattr__(self, "weights", MappingProxyType(w))
        object.__setattr__(self, "options", MappingProxyType(options))
        object.__setattr__(self, "_nm", (n, m))

    @property
    def spec(self):
        """The cell's CellSpec (``gradlab.cells.CELLS[cell]``)."""
        return CELLS[self.cell]

    @property
    def n(self) -> int:
        """Hidden size."""
        return self._nm[0]

    @property
    def m(self) -> int:
        """Input size."""
        return self._nm[1]

    @property
    def dtype(self) -> np.dtype:
        return self.weights[CELLS[self.cell].recurrent].dtype

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
        dtype = float_dtype(dtype)
        return Params(self.cell, {k: np.asarray(v, dtype) for k, v in self.weights.items()},
                      self.options)


def _as_array(key: str, v: Any) -> np.ndarray:
    """One state-dict entry as an array; nested dicts and None are refused by name."""
    if v is None:
        raise ValueError(f"state dict entry {key!r} is None; expected a tensor or array")
    if isinstance(v, Mapping):
        inner = ", ".join(list(map(str, v))[:3]) + (", ..." if len(v) > 3 else "")
        raise ValueError(f"state dict entry {key!r} is a nested dict (keys {inner}); expected a "
                         "flat state_dict of tensors, e.g. model.rnn.state_dict()")
    if hasattr(v, "detach"):  # a torch tensor, without importing torch
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.double()
        return v.numpy()
    return np.asarray(v)


def _load_state_dict(state_dict) -> dict[str, np.ndarray]:
    """A dict of arrays/tensors, an .npz file, or a .pt file (needs torch) -> dict of arrays."""
    if isinstance(state_dict, (str, os.PathLike)):
        path = os.fspath(state_dict)
        if path.endswith(".npz"):
            with np.load(path) as f:
                return _checked_dict({k: np.asarray(f[k]) for k in f.files}, path)
        if path.endswith((".pt", ".pth")):
            try:
                import torch
            except ImportError as e:
                raise ImportError(f"reading {path} needs PyTorch; save it as .npz instead") from e
            if os.path.getsize(path) == 0:
                raise ValueError(f"{path} is empty (0 bytes); expected a state_dict saved with "
                                 "torch.save(model.state_dict(), path)")
            try:
                obj = torch.load(path, map_location="cpu", weights_only=True)  # a state_dict
            except (EOFError, RuntimeError, KeyError, pickle.UnpicklingError) as e:
                # truncated, corrupt, not torch's, or objects weights_only refuses to build
                first = str(e).split(".")[0][:80]
                raise ValueError(f"{path} is not a readable PyTorch file ({type(e).__name__}: "
                                 f"{first}); expected a state_dict of tensors saved with "
                                 "torch.save (read with weights_only=True)") from None
            return _checked_dict(obj, path)
        raise ValueError(f"{path}: expected a .npz, .pt or .pth file")
    return _checked_dict(state_dict, "state_dict")


def _checked_dict(obj, where: str) -> dict[str, np.ndarray]:
    if not isinstance(obj, Mapping):
        raise ValueError(f"{where} holds a {type(obj).__name__}; expected a state_dict "
                         "(a dict of name -> tensor)")
    if not obj:
        raise ValueError(f"{where} is an empty state dict; expected PyTorch names like "
                         "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0")
    return {str(k): _as_array(str(k), v) for k, v in obj.items()}


def _torch_weight(key: str, a: np.ndarray, dtype) -> np.ndarray:
    if a.dtype.kind != "f":
        what = "complex" if a.dtype.kind == "c" else f"of dtype {a.dtype}"
        raise ValueError(f"state dict entry {key!r} is {what}; expected real floating-point "
                         "weights")
    return np.asarray(a, dtype=dtype)


def from_torch(cell: str, state_dict, *, layer: int = 0, nonlinearity: str = "tanh",
               gru_variant: str = "torch", dtype=np.float64) -> Params:
    """Params from PyTorch's nn.RNN / nn.LSTM / nn.GRU names (weight_ih_l0, ...).

    ``state_dict`` is a dict of arrays or tensors, an .npz path, or a .pt path (torch needed).
    ``nonlinearity`` (RNN only) is 'tanh' or 'relu' as in PyTorch, or 'linear' / 'sigmoid'.
    Only cells whose CellSpec says ``torch`` load; bidirectional layers (``*_reverse``) and
    keys of the layer that gradlab has no place for (projections) are refused by name.
    """
    spec = get_cell(cell)
    if not spec.torch:
        raise ValueError(f"cell={cell!r} has no PyTorch counterpart (torch.nn has no "
                         f"{spec.label}); from_torch reads "
                         f"{[c for c, s in CELLS.items() if s.torch]}")
    dtype = float_dtype(dtype)
    sd = _load_state_dict(state_dict)
    reverse = sorted(k for k in sd if k.endswith("_reverse"))
    if reverse:
        raise ValueError(f"the state dict is from a bidirectional layer ({', '.join(reverse[:2])}"
                         f"{', ...' if len(reverse) > 2 else ''}); gradlab runs one direction: "
                         "drop the *_reverse keys to load the forward one")
    names = {ours: ws.torch for ours, ws in spec.weights.items() if ws.torch}
    expected = {f"{theirs}_l{layer}" for theirs in names.values()}
    extra = sorted(k for k in sd if k.endswith(f"_l{layer}") and "." not in k
                   and k not in expected)
    if extra:
        raise ValueError(f"state dict keys {extra} have no place in a gradlab {cell}; expected "
                         f"only {sorted(expected)} for layer {layer}")
    recurrent_key = f"{names[spec.recurrent]}_l{layer}"
    weights = {}
    for ours, theirs in names.items():
        key = f"{theirs}_l{layer}"
        if key in sd:
            weights[ours] = _torch_weight(key, sd[key], dtype)
        elif len(spec.weights[ours].shape) == 1 and recurrent_key in sd:
            n_rows = sd[recurrent_key].shape[0]
            weights[ours] = np.zeros(n_rows, dtype=dtype)  # bias=False in PyTorch
        else:
            layers = sorted({k.rsplit("_l", 1)[-1] for k in sd if "_l" in k})
            near = sorted(k for k in sd if k.endswith("." + key))
            hint = f"; found {near[0]!r}: pass the sub-module's state_dict" if near else ""
            raise KeyError(f"{key} not in the state dict (layers present: {layers or 'none'})"
                           f"{hint}")
    options: dict[str, Any] = {}
    if "activation" in spec.options:
        options["activation"] = nonlinearity
    elif nonlinearity != "tanh":
        with_act = " or ".join(f"cell={c!r}" for c, s in CELLS.items()
                               if s.torch and "activation" in s.options)
        raise ValueError(f"nonlinearity={nonlinearity!r} is for {with_act}; an {cell} has fixed "
                         "activations")
    if "gru_variant" in spec.options:
        options["gru_variant"] = gru_variant
    return Params(cell, weights, options)


def to_torch(params_or_grads, *, layer: int = 0) -> dict[str, np.ndarray]:
    """Params (or Grads) -> dict with PyTorch's names (weight_hh_l0, ...).

    Cells PyTorch does not have (IndRNN) and weights it has no place for (skip connections,
    peepholes) raise ValueError.
    """
    weights = getattr(params_or_grads, "weights", None)
    if weights is None:
        weights = params_or_grads.params  # a Grads
    cell = getattr(params_or_grads, "cell", None)
    if cell is not None:
        spec = get_cell(cell)
        if not spec.torch:
            raise ValueError(f"cell={cell!r} has no PyTorch counterpart (torch.nn has no "
                             f"{spec.label}); to_torch writes "
                             f"{[c for c, s in CELLS.items() if s.torch]}")
        names = {k: ws.torch for k, ws in spec.weights.items()}
        where = f"nn.{spec.label}"
    else:
        names, where = TORCH_NAMES, "nn.RNN/LSTM/GRU"
    out = {}
    for k, v in weights.items():
        if names.get(k) is None:
            raise ValueError(f"weight {k!r} has no PyTorch counterpart in {where}")
        out[f"{names[k]}_l{layer}"] = np.array(v)
    return out
