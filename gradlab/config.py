"""LabConfig: one frozen, validated description of an experiment in the lab.

Every field is checked on construction; a bad value raises ValueError naming the field,
the value and what is allowed. Configs are values: edit one with ``config.replace(...)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real

from kernels._flags import ACTIVATIONS

from .init import SCHEMES
from .params import GATES

# field -> (low, high) inclusive, for numbers; the app's sliders read their ranges here.
RANGES = {
    "hidden": (2, 512),
    "inputs": (1, 64),
    "steps": (2, 5000),
    "spectral_radius": (0.01, 4.0),
    "leak": (0.01, 1.0),
    "seed": (0, 2**31 - 1),
    "input_scale": (0.0, 10.0),
}
CHOICES = {
    "cell": tuple(c for c in GATES if c != "indrnn"),  # lab.py: _EIG_BLOCK -> registry first
    "activation": tuple(ACTIVATIONS),
    "init": SCHEMES,
}


@dataclass(frozen=True)
class LabConfig:
    """What the lab computes.

    Defaults: a 32-unit tanh RNN over 60 steps, orthogonal W at radius 1 and small inputs, so
    the state starts near the linear regime and the eigenvalues decide what gradients do.
    """

    cell: str = "rnn"
    hidden: int = 32
    inputs: int = 4
    steps: int = 60
    activation: str = "tanh"
    spectral_radius: float = 1.0
    init: str = "orthogonal"
    leak: float = 1.0
    seed: int = 0
    input_scale: float = 0.05

    def __post_init__(self):
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not allowed; choose one of {list(allowed)}")
        for name, (lo, hi) in RANGES.items():
            value = getattr(self, name)
            is_int = isinstance(lo, int) and isinstance(hi, int)
            if isinstance(value, bool) or not isinstance(value, Integral if is_int else Real):
                kind = "an integer" if is_int else "a number"
                raise ValueError(f"{name}={value!r} must be {kind} in [{lo}, {hi}]")
            if not lo <= value <= hi:  # also rejects nan
                raise ValueError(f"{name}={value!r} is out of range; allowed [{lo}, {hi}]")
            object.__setattr__(self, name, int(value) if is_int else float(value))

    def replace(self, **changes) -> LabConfig:
        """A new, validated config with some fields changed."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown LabConfig field(s): {sorted(unknown)}")
        return dataclasses.replace(self, **changes)
