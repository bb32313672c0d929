"""LabConfig: one frozen, validated description of an experiment in the lab.

Every field is checked on construction; a bad value raises ValueError naming the field,
the value and what is allowed. Configs are values: edit one with ``config.replace(...)``.

Each field carries its own metadata (``FIELDS[name]``: label, unit, range or choices, step,
help, and when it applies), so the app builds its controls from here and a scene or a saved
experiment is checked against the same rules.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType

from kernels._flags import ACTIVATIONS

from .cells import CELLS, get_cell
from .init import SCHEMES


@dataclass(frozen=True)
class FieldInfo:
    """How one LabConfig field is shown and checked.

    kind: 'float' | 'int' | 'choice' | 'eigs'; range (lo, hi) inclusive for numbers;
    choices for 'choice'; step: the control's resolution; applies(config) -> bool says
    whether the field matters for that config (the control is greyed out otherwise).
    """

    label: str
    kind: str
    help: str = ""
    unit: str = ""
    range: tuple | None = None
    choices: tuple = ()
    step: float = 1.0
    decimals: int = 2
    log: bool = False
    applies: Callable[[LabConfig], bool] = field(default=lambda c: True, compare=False)


def _has_highway(c: LabConfig) -> bool:
    return get_cell(c.cell).highway is not None


def _is_rnn(c: LabConfig) -> bool:
    return c.cell == "rnn"


def _takes_activation(c: LabConfig) -> bool:
    return "activation" in get_cell(c.cell).options


LOSSES = ("last", "every")
LEAK_SPREADS = ("one", "log-uniform")
PRESETS = ("none", "diag(0.5, 1.5)", "golden ratio")

FIELDS: MappingProxyType[str, FieldInfo] = MappingProxyType({
    "cell": FieldInfo("cell", "choice", "the recurrent cell", choices=tuple(CELLS)),
    "hidden": FieldInfo("hidden n", "int", "number of hidden units", range=(2, 512)),
    "inputs": FieldInfo("inputs m", "int", "input features per step", range=(1, 64)),
    "steps": FieldInfo("steps T", "int", "sequence length", range=(2, 5000)),
    "activation": FieldInfo("activation", "choice", "the nonlinearity φ",
                            choices=tuple(ACTIVATIONS), applies=_takes_activation),
    "spectral_radius": FieldInfo("spectral radius ρ", "float",
                                 "largest |eigenvalue| of the recurrent matrix",
                                 range=(0.01, 4.0), step=0.01),
    "init": FieldInfo("init", "choice", "how the recurrent matrix is drawn",
                      choices=SCHEMES),
    "leak": FieldInfo("leak a", "float", "h_t = (1 − a) h_{t−1} + a φ(·); a = 1/γ",
                      range=(0.01, 1.0), step=0.01, applies=_is_rnn),
    "leak_spread": FieldInfo("leak per unit", "choice",
                             "one leak for all units, or leaks spread log-uniformly in [a, 1]",
                             choices=LEAK_SPREADS, applies=_is_rnn),
    "gate_bias": FieldInfo("highway bias", "float",
                           "bias of the LSTM forget gate / GRU update gate",
                           range=(-6.0, 6.0), step=0.1, decimals=1, applies=_has_highway),
    "loss": FieldInfo("loss on", "choice", "the loss looks at the last step or every step",
                      choices=LOSSES),
    "input_scale": FieldInfo("input scale", "float", "standard deviation of the inputs x_t",
                             range=(0.0, 10.0), step=0.01),
    "seed": FieldInfo("seed", "int", "seed of every random draw", range=(0, 2**31 - 1)),
    "clip": FieldInfo("clip threshold", "float",
                      "clip the gradient to this global norm (0: off)",
                      range=(0.0, 100.0), step=0.1, decimals=1),
    "cursor": FieldInfo("time cursor t", "int", "the step the views point at (0: the last)",
                        range=(0, 5000)),
    "eigs": FieldInfo("eigenvalues", "eigs", "eigenvalues of W set by hand (dragged)"),
})

# kept for callers that read ranges and choices directly
RANGES = {k: f.range for k, f in FIELDS.items() if f.kind in ("int", "float")}
CHOICES = {k: f.choices for k, f in FIELDS.items() if f.kind == "choice"}
MAX_EIGS = 512


def check_eigs(value) -> tuple[tuple[float, float], ...]:
    """Edited eigenvalues: a tuple of (re, im) pairs, finite, closed under conjugation."""
    try:
        pairs = tuple((float(re), float(im)) for re, im in value)
    except (TypeError, ValueError):
        raise ValueError(f"eigs={value!r} must be a sequence of (re, im) pairs") from None
    if len(pairs) > MAX_EIGS:
        raise ValueError(f"eigs has {len(pairs)} values; at most {MAX_EIGS}")
    for i, (re, im) in enumerate(pairs):
        if not (math.isfinite(re) and math.isfinite(im) and abs(complex(re, im)) <= 10.0):
            raise ValueError(f"eigs[{i}]=({re!r}, {im!r}) is not allowed: eigenvalues must be "
                             "finite with |λ| ≤ 10 (at radius 1)")
    return pairs


@dataclass(frozen=True)
class LabConfig:
    """What the lab computes.

    Defaults: a 32-unit tanh RNN over 60 steps, orthogonal W at radius 1 and small inputs, so
    the state starts near the linear regime and the eigenvalues decide what gradients do.
    ``eigs`` (empty: none) are eigenvalues of W at radius 1, set by hand: W is rebuilt from
    them in the basis of the drawn matrix, and the radius still scales them.
    """

    cell: str = "rnn"
    hidden: int = 32
    inputs: int = 4
    steps: int = 60
    activation: str = "tanh"
    spectral_radius: float = 1.0
    init: str = "orthogonal"
    leak: float = 1.0
    leak_spread: str = "one"
    gate_bias: float = 0.0
    loss: str = "last"
    input_scale: float = 0.05
    seed: int = 0
    clip: float = 0.0
    cursor: int = 0
    eigs: tuple = ()

    def __post_init__(self):
        for name, info in FIELDS.items():
            value = getattr(self, name)
            if info.kind == "choice":
                if not isinstance(value, str) or value not in info.choices:
                    raise ValueError(f"{name}={value!r} is not allowed; choose one of "
                                     f"{list(info.choices)}")
            elif info.kind == "eigs":
                object.__setattr__(self, name, check_eigs(value))
            else:
                lo, hi = info.range
                is_int = info.kind == "int"
                if isinstance(value, bool) or not isinstance(value, Integral if is_int else Real):
                    kind = "an integer" if is_int else "a number"
                    raise ValueError(f"{name}={value!r} must be {kind} in [{lo}, {hi}]")
                if not lo <= value <= hi:  # also rejects nan
                    raise ValueError(f"{name}={value!r} is out of range; allowed [{lo}, {hi}]")
                object.__setattr__(self, name, int(value) if is_int else float(value))
        if self.eigs and len(self.eigs) != self.hidden:  # else they would be silently ignored
            raise ValueError(f"eigs has {len(self.eigs)} eigenvalues but hidden={self.hidden}; "
                             f"give exactly {self.hidden} (one per eigenvalue of W) or none")

    def replace(self, **changes) -> LabConfig:
        """A new, validated config with some fields changed."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown LabConfig field(s): {sorted(unknown)}; known: "
                             f"{sorted(FIELDS)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain values (for TOML files and scene snippets); eigs as lists of [re, im]."""
        d = dataclasses.asdict(self)
        d["eigs"] = [list(p) for p in self.eigs]
        return d

    @property
    def cursor_step(self) -> int:
        """The step t in 1..T the views point at."""
        return self.steps if self.cursor == 0 else min(self.cursor, self.steps)
