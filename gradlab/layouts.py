"""Named layouts: each lecture topic is a set of panels placed on a grid (no Qt here).

A Layout lists (panel name, row, column, row span, column span); the app builds each panel
once and places the ones of the current layout. Number keys 1..9 switch layouts in the
order below; ``gradlab lab --layout NAME`` opens one. ``config`` holds the LabConfig fields
the topic starts from when it is opened from the command line (the controls stay free).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from .config import RIDGE_B_AT_5

# the LabConfig fields that shape the recurrent network the network views show
NETWORK_CONTROLS = ("spectral_radius", "cell", "hidden", "inputs", "steps", "activation",
                    "init", "leak", "leak_spread", "gate_bias", "loss", "input_scale", "seed",
                    "eigs")


@dataclass(frozen=True)
class Layout:
    """name (command-line key), title (window heading), cells: (panel, row, col, rows,
    cols); row_stretch, col_stretch: relative sizes; config: starting LabConfig fields;
    controls: the LabConfig fields the control column offers in this topic ('eigs': the
    eigenvalue presets)."""

    name: str
    title: str
    cells: tuple
    row_stretch: tuple = (1,)
    col_stretch: tuple = (1,)
    config: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    controls: tuple = NETWORK_CONTROLS

    @property
    def panels(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.cells)


_LAYOUTS = (
    Layout("vanishing", "Vanishing, exploding",
           (("gradient", 0, 0, 1, 1), ("eigen", 0, 1, 1, 1), ("flow", 1, 0, 1, 1),
            ("states", 1, 1, 1, 1)),
           row_stretch=(3, 2), col_stretch=(3, 2)),
    Layout("gates", "Gates, LSTM highway",
           (("gates", 0, 0, 1, 2), ("gradient", 1, 0, 1, 1), ("eigen", 1, 1, 1, 1)),
           row_stretch=(4, 3), col_stretch=(3, 2),
           config=MappingProxyType({"cell": "lstm", "input_scale": 1.0})),
    Layout("spectra", "Jacobian spectra",
           (("spectrum", 0, 0, 1, 1), ("eigen", 0, 1, 1, 1), ("gradient", 1, 0, 1, 2)),
           row_stretch=(3, 2), col_stretch=(3, 2),
           config=MappingProxyType({"hidden": 64, "steps": 200})),
    Layout("leaky", "Leaky units",
           (("leaky", 0, 0, 1, 1), ("eigen", 0, 1, 1, 1), ("states", 1, 0, 1, 2)),
           row_stretch=(3, 2), col_stretch=(3, 2),
           config=MappingProxyType({"leak": 0.2, "spectral_radius": 0.8, "steps": 200})),
    Layout("cells", "Cells compared",
           (("cells", 0, 0, 1, 2), ("gradient", 1, 0, 1, 1), ("gates", 1, 1, 1, 1)),
           row_stretch=(3, 2), col_stretch=(1, 1)),
)

# the clipping layout's start: on the cliff's ridge at w = 5 (b = x0 - w sigma(x0), see
# gradlab.cliff.ridge), where the first raw step is thrown hundreds of units off the surface
# and the clipped one (at most lr x clip = 0.5 long) stays on it
_CLIFF_START = {"cliff_w0": 5.0, "cliff_b0": RIDGE_B_AT_5, "lr": 1.0, "clip": 0.5,
                "clip_mode": "norm", "updates": 40}

_LAYOUTS += (
    Layout("clipping", "Clipping on the cliff",
           (("cliff", 0, 0, 1, 1), ("descent", 0, 1, 1, 1), ("clipnorm", 1, 0, 1, 2)),
           row_stretch=(5, 3), col_stretch=(5, 3),
           config=MappingProxyType(_CLIFF_START),
           controls=("clip", "clip_mode", "lr", "updates", "cliff_w0", "cliff_b0",
                     "spectral_radius")),
)

# attention: a GRU encoder-decoder learns to reverse 8 tokens (G trains it, in seconds)
_LAYOUTS += (
    Layout("attention", "Attention learning",
           (("alignment", 0, 0, 2, 1), ("training", 0, 1, 1, 1), ("encgrad", 1, 1, 1, 1)),
           row_stretch=(1, 1), col_stretch=(1, 1),
           config=MappingProxyType({"cell": "gru", "task": "reverse", "score": "additive"}),
           controls=("task", "score", "cell", "train_updates", "seed")),
)

LAYOUTS: MappingProxyType = MappingProxyType({lay.name: lay for lay in _LAYOUTS})


def get_layout(name: str) -> Layout:
    """The layout called ``name``; ValueError listing the names otherwise."""
    if name not in LAYOUTS:
        raise ValueError(f"layout {name!r} is not one of {list(LAYOUTS)}")
    return LAYOUTS[name]

