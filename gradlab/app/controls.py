"""Controls: the side column of sliders, combo boxes and spin boxes that edit a LabConfig.

Every user edit builds a new validated LabConfig and emits ``config_edited(config)``.
``set_config`` updates the widgets from a config with their signals blocked, so programmatic
changes (scenes, keyboard nudges, reset) never echo back as edits. Allowed choices and
ranges come from gradlab.config.CHOICES and RANGES.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gradlab.config import CHOICES, RANGES, LabConfig

RHO_DEFAULT_RANGE = (0.5, 1.5)  # the slider's usual span; widened on demand up to RANGES
RHO_TICK = 0.01  # slider resolution
LEAK_TICK = 0.01

KEY_HELP = ("keys:  ← →  or  [ ]   ρ ± 0.01\n"
            "↑ ↓   ρ ± 0.05\n"
            "T theme   R reset\n"
            "F fullscreen   Esc leave it")


def _ticks(value: float, tick: float) -> int:
    return int(round(value / tick))


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


class Controls(QWidget):
    """The control column. ``config`` is the config the widgets currently show."""

    config_edited = Signal(object)  # LabConfig, on user edits only
    reset_requested = Signal()
    theme_requested = Signal()

    def __init__(self, config: LabConfig, parent=None):
        super().__init__(parent)
        self.setObjectName("controls")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._config = config
        rho_lo, rho_hi = RANGES["spectral_radius"]
        self._rho_limits = (rho_lo, rho_hi)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 10)
        outer.setSpacing(8)

        # spectral radius: the main control, with its value in large type
        self.rho_value = QLabel(objectName="rho_value")
        self.rho_value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rho_slider = QSlider(Qt.Orientation.Horizontal)
        self.rho_slider.setSingleStep(1)
        self.rho_slider.setPageStep(5)
        lo = _clamp(RHO_DEFAULT_RANGE[0], rho_lo, rho_hi)
        hi = _clamp(RHO_DEFAULT_RANGE[1], rho_lo, rho_hi)
        self._rho_span = (_ticks(lo, RHO_TICK), _ticks(hi, RHO_TICK))
        self.rho_slider.setRange(*self._rho_span)
        self.rho_slider.setToolTip("spectral radius ρ of the recurrent matrix W\n" + KEY_HELP)
        rho_title = QLabel("spectral radius of W", objectName="rho_title")
        outer.addWidget(rho_title)
        outer.addWidget(self.rho_value)
        outer.addWidget(self.rho_slider)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)

        self.cell = QComboBox()
        self.cell.addItems(list(CHOICES["cell"]))
        self.activation = QComboBox()
        self.activation.addItems(list(CHOICES["activation"]))
        self.init = QComboBox()
        self.init.addItems(list(CHOICES["init"]))
        self.steps = self._spin("steps")
        self.hidden = self._spin("hidden")
        self.seed = self._spin("seed")
        self.input_scale = QDoubleSpinBox()
        self.input_scale.setRange(*RANGES["input_scale"])
        self.input_scale.setDecimals(2)
        self.input_scale.setSingleStep(0.01)
        self.input_scale.setKeyboardTracking(False)

        self.leak_slider = QSlider(Qt.Orientation.Horizontal)
        self.leak_slider.setRange(_ticks(RANGES["leak"][0], LEAK_TICK),
                                  _ticks(RANGES["leak"][1], LEAK_TICK))
        self.leak_slider.setPageStep(5)
        self.leak_value = QLabel()
        self.leak_value.setMinimumWidth(48)
        leak_row = QHBoxLayout()
        leak_row.addWidget(self.leak_slider, 1)
        leak_row.addWidget(self.leak_value)

        form.addRow("cell", self.cell)
        form.addRow("activation", self.activation)
        form.addRow("init", self.init)
        form.addRow("steps T", self.steps)
        form.addRow("hidden n", self.hidden)
        form.addRow("leak a", leak_row)
        form.addRow("input scale", self.input_scale)
        form.addRow("seed", self.seed)
        outer.addLayout(form)

        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Reset (R)")
        self.theme_button = QPushButton("Theme (T)")
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.theme_button)
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.help = QLabel(KEY_HELP, objectName="help")
        outer.addWidget(self.help)

        # each widget edits only its own field (a radius set by a scene, e.g. 1.234, survives
        # an edit of the seed)
        self.rho_slider.valueChanged.connect(
            lambda v: self._edit(spectral_radius=round(v * RHO_TICK, 6)))
        self.leak_slider.valueChanged.connect(lambda v: self._edit(leak=round(v * LEAK_TICK, 6)))
        self.cell.currentTextChanged.connect(lambda v: self._edit(cell=v))
        self.activation.currentTextChanged.connect(lambda v: self._edit(activation=v))
        self.init.currentTextChanged.connect(lambda v: self._edit(init=v))
        self.steps.valueChanged.connect(lambda v: self._edit(steps=v))
        self.hidden.valueChanged.connect(lambda v: self._edit(hidden=v))
        self.seed.valueChanged.connect(lambda v: self._edit(seed=v))
        self.input_scale.valueChanged.connect(lambda v: self._edit(input_scale=round(v, 6)))
        self.reset_button.clicked.connect(self.reset_requested)
        self.theme_button.clicked.connect(self.theme_requested)
        for w in (self.reset_button, self.theme_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.set_config(config)

    @staticmethod
    def _spin(name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(*RANGES[name])
        spin.setKeyboardTracking(False)  # typing "500" computes once, not for 5, 50, 500
        spin.setAccelerated(True)
        return spin

    def key_routed_widgets(self) -> tuple[QWidget, ...]:
        """Widgets whose key presses the window may take for its lecture keys (not the spin
        boxes, which need arrows and digits while typing)."""
        return (self, self.rho_slider, self.leak_slider, self.cell, self.activation, self.init,
                self.reset_button, self.theme_button)

    @property
    def config(self) -> LabConfig:
        return self._config

    def set_config(self, config: LabConfig) -> None:
        """Show ``config`` in the widgets without emitting ``config_edited``."""
        self._config = config
        blockers = [QSignalBlocker(w) for w in (
            self.rho_slider, self.leak_slider, self.cell, self.activation, self.init,
            self.steps, self.hidden, self.seed, self.input_scale)]
        rho = _ticks(config.spectral_radius, RHO_TICK)
        # the usual span, widened to reach a radius a scene asked for (e.g. 4.0 for overflow)
        self.rho_slider.setRange(min(rho, self._rho_span[0]), max(rho, self._rho_span[1]))
        self.rho_slider.setValue(rho)
        self.leak_slider.setValue(_ticks(config.leak, LEAK_TICK))
        self.cell.setCurrentText(config.cell)
        self.activation.setCurrentText(config.activation)
        self.activation.setEnabled(config.cell == "rnn")
        self.leak_slider.setEnabled(config.cell == "rnn")
        self.init.setCurrentText(config.init)
        self.steps.setValue(config.steps)
        self.hidden.setValue(config.hidden)
        self.seed.setValue(config.seed)
        self.input_scale.setValue(config.input_scale)
        del blockers
        self._show_values(config)

    def _show_values(self, config: LabConfig) -> None:
        self.rho_value.setText(f"ρ = {config.spectral_radius:.2f}")
        self.leak_value.setText(f"{config.leak:.2f}")

    def nudged(self, delta: float) -> LabConfig:
        """The current config with rho moved by ``delta``, clamped to the allowed range."""
        rho = _clamp(round(self._config.spectral_radius + delta, 6), *self._rho_limits)
        return self._config.replace(spectral_radius=rho)

    def _edit(self, **change) -> None:
        try:
            config = self._config.replace(**change)
        except ValueError:  # cannot happen with ranges taken from RANGES; keep the old config
            self.set_config(self._config)
            return
        self._config = config
        self.activation.setEnabled(config.cell == "rnn")
        self.leak_slider.setEnabled(config.cell == "rnn")
        self._show_values(config)
        self.config_edited.emit(config)
