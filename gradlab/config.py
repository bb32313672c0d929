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

from .attention import SCORES
from .cells import CELLS, get_cell
from .init import SCHEMES
from .tasks import TASKS


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
CLIP_MODES = ("norm", "value")
# The Pascanu cliff's descent (gradlab.cliff): only the cliff's measures read these fields.
CLIFF_FIELDS = ("clip_mode", "lr", "updates", "cliff_w0", "cliff_b0")
CLIFF_W_RANGE = (-2.0, 10.0)  # the plotted region of the cliff (gradlab.cliff.W_RANGE)
CLIFF_B_RANGE = (-6.0, 2.0)  # (gradlab.cliff.B_RANGE)
# b on the cliff's ridge at w = 5 (gradlab.cliff.ridge(5.0) = x0 - w sigma(x0), x0 = 0.5):
# a start there is thrown off the surface by its first unclipped update
RIDGE_B_AT_5 = 0.5 - 5.0 / (1.0 + math.exp(-0.5))
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
                      range=(0.0, 20.0), step=0.05, decimals=2),
    "clip_mode": FieldInfo("clip by", "choice",
                           "on the cliff: rescale the whole gradient to the threshold (norm, "
                           "the direction kept) or clip each component (value)",
                           choices=CLIP_MODES),
    "lr": FieldInfo("learning rate η", "float",
                    "step size of gradient descent on the cliff: θ ← θ − η ∇E",
                    range=(0.001, 10.0), step=0.001, decimals=3, log=True),
    "updates": FieldInfo("updates", "int", "gradient-descent updates on the cliff",
                         range=(1, 200)),
    "cliff_w0": FieldInfo("start w₀", "float",
                          "where descent on the cliff starts: the recurrent weight w "
                          "(click the cliff view)", range=CLIFF_W_RANGE, step=0.01),
    "cliff_b0": FieldInfo("start b₀", "float",
                          "where descent on the cliff starts: the bias b (click the cliff "
                          "view)", range=CLIFF_B_RANGE, step=0.01),
    "cursor": FieldInfo("time cursor t", "int", "the step the views point at (0: the last)",
                        range=(0, 5000)),
    "eigs": FieldInfo("eigenvalues", "eigs", "eigenvalues of W set by hand (dragged)"),
    # the attention layout's encoder-decoder (gradlab.measures.attention); ``cell`` and
    # ``seed`` are shared with the rest of the lab
    "task": FieldInfo("task", "choice",
                      "what the encoder-decoder learns: reverse, sort or copy the source",
                      choices=TASKS),
    "score": FieldInfo("attention score", "choice",
                       "how the decoder state scores each encoder state ('none': the "
                       "decoder sees the last encoder state only)",
                       choices=(*SCORES, "none")),
    "train_updates": FieldInfo("training updates", "int",
                               "minibatch updates of one training run (G starts it)",
                               range=(10, 5000), step=50),
})

# kept for callers that read ranges and choices directly
RANGES = {k: f.range for k, f in FIELDS.items() if f.kind in ("int", "float")}
CHOICES = {k: f.choices for k, f in FIELDS.items() if f.kind == "choice"}
MAX_EIGS = 512
# fields only the attention layout reads (its measure also reads ``cell`` and ``seed``)
ATTENTION_FIELDS = ("task", "score", "train_updates")


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
    ``clip`` (0: off) is the threshold of both the main lab's clipping and the cliff's; the
    ``CLIFF_FIELDS`` set gradient descent on the Pascanu cliff (``gradlab.cliff``): clipping
    mode, learning rate, number of updates and the start (w0, b0), by default on the ridge.
    ``eigs`` (empty: none) are eigenvalues of W at radius 1, set by hand: W is rebuilt from
    them in the basis of the drawn matrix, and the radius still scales them.
    ``task``, ``score`` and ``train_updates`` (``ATTENTION_FIELDS``) describe the attention
    layout's encoder-decoder (with ``cell`` and ``seed``) and its training runs.
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
    clip_mode: str = "norm"
    lr: float = 1.0
    updates: int = 40
    cliff_w0: float = 5.0
    cliff_b0: float = RIDGE_B_AT_5
    cursor: int = 0
    eigs: tuple = ()
    task: str = "reverse"
    score: str = "additive"
    train_updates: int = 300

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
