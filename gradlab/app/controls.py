"""Controls: the side column that edits a LabConfig, built from its field metadata.

Every LabConfig field in ``gradlab.config.FIELDS`` gets a control of its kind: a slider with
its value for a float with a range, a spin box for an int, a combo box for a choice; it is
greyed out while ``applies(config)`` is False (the leak for an LSTM, ...). The spectral
radius is the main control, on top, with its value in large type. 'eigs' (edited by
dragging in the eigenvalue panel, or set by a preset here) and 'cursor' (the time cursor,
moved in the panels) have no control of their own.

Every user edit builds a new validated LabConfig and emits ``config_edited(config)``;
changing the cell, the size, the init or the seed clears hand-set eigenvalues (they belong
to the matrix that was drawn). ``set_config`` shows a config with signals blocked, so
programmatic changes (scenes, keys, reset) never echo back as edits.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gradlab.config import FIELDS, PRESETS, FieldInfo, LabConfig
from gradlab.layouts import LAYOUTS

MAIN = "spectral_radius"
NOT_CONTROLS = ("eigs", "cursor")
CLEARS_EIGS = ("cell", "hidden", "inputs", "init", "seed")  # a new matrix: old edits are void
RHO_DEFAULT_RANGE = (0.5, 1.5)  # the main slider's usual span; widened on demand
LOG_TICKS = 1000

KEY_HELP = "← → ↑ ↓ ρ   1–7 topic   ? help and keys"


def _combo(**kwargs) -> QComboBox:
    """A combo box whose width follows the column, not its longest item."""
    combo = QComboBox(**kwargs)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


class FloatSlider(QWidget):
    """A horizontal slider over a FieldInfo's range (linear in steps, or logarithmic) with
    its value beside it; ``value_edited(float)`` on user moves only."""

    value_edited = Signal(float)

    def __init__(self, info: FieldInfo, parent=None):
        super().__init__(parent)
        self.info = info
        lo, hi = info.range
        self.log = bool(info.log) and lo > 0
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(5)
        if self.log:
            self.slider.setRange(0, LOG_TICKS)
        else:
            self.slider.setRange(self._ticks(lo), self._ticks(hi))
        self.value_label = QLabel(objectName="value")
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        self.slider.valueChanged.connect(self._moved)
        self._value = lo

    def _ticks(self, value: float) -> int:
        return int(round(value / self.info.step))

    def to_value(self, tick: int) -> float:
        lo, hi = self.info.range
        if self.log:
            return float(lo * (hi / lo) ** (tick / LOG_TICKS))
        return round(tick * self.info.step, 10)

    def to_tick(self, value: float) -> int:
        lo, hi = self.info.range
        if self.log:
            return int(round(LOG_TICKS * math.log(value / lo) / math.log(hi / lo)))
        return self._ticks(value)

    def value(self) -> float:
        return self._value

    def set_value(self, value: float) -> None:
        self._value = float(value)
        with QSignalBlocker(self.slider):
            self.slider.setValue(self.to_tick(value))
        self._show()

    def _show(self) -> None:
        self.value_label.setText(f"{self._value:.{self.info.decimals}f}")

    def _moved(self, tick: int) -> None:
        lo, hi = self.info.range
        self._value = _clamp(self.to_value(tick), lo, hi)
        self._show()
        self.value_edited.emit(self._value)


class Controls(QWidget):
    """The control column. ``config`` is the config the widgets currently show; ``editors``
    maps each LabConfig field with a control to its widget, ``labels`` to its label."""

    config_edited = Signal(object)  # LabConfig, on user edits only
    reset_requested = Signal()
    theme_requested = Signal()
    help_requested = Signal()
    preset_chosen = Signal(str)  # an eigenvalue preset (not 'none') from gradlab.config.PRESETS
    layout_chosen = Signal(str)  # a layout name from gradlab.layouts.LAYOUTS

    def __init__(self, config: LabConfig, parent=None):
        super().__init__(parent)
        self.setObjectName("controls")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._config = config
        self.editors: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(4)

        # the topic (named layout), then the spectral radius: the main control
        self.layout_combo = _combo(objectName="layout")
        for i, lay in enumerate(LAYOUTS.values(), start=1):
            self.layout_combo.addItem(f"{i}  {lay.title}", lay.name)
        self.layout_combo.setToolTip("the topic: which views are shown (keys 1–7)")
        outer.addWidget(self.layout_combo)

        rho = FIELDS[MAIN]
        self.rho_title = QLabel(rho.label, objectName="rho_title")
        self.rho_title.setToolTip(rho.help)
        self.rho_value = QLabel(objectName="rho_value")
        self.rho_value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rho_slider = QSlider(Qt.Orientation.Horizontal, objectName="rho_slider")
        self.rho_slider.setSingleStep(1)
        self.rho_slider.setPageStep(5)
        self._rho_limits = rho.range
        lo = _clamp(RHO_DEFAULT_RANGE[0], *rho.range)
        hi = _clamp(RHO_DEFAULT_RANGE[1], *rho.range)
        self._rho_span = (self._rho_tick(lo), self._rho_tick(hi))
        self.rho_slider.setRange(*self._rho_span)
        self.rho_slider.setToolTip(f"{rho.label}: {rho.help}\n{KEY_HELP}")
        outer.addWidget(self.rho_title)
        outer.addWidget(self.rho_value)
        outer.addWidget(self.rho_slider)
        self.editors[MAIN] = self.rho_slider
        self.rho_slider.valueChanged.connect(
            lambda v: self._edit(spectral_radius=round(v * FIELDS[MAIN].step, 6)))

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(3)
        for name, info in FIELDS.items():
            if name == MAIN or name in NOT_CONTROLS:
                continue
            editor = self._make_editor(name, info)
            label = QLabel(info.label + (f" ({info.unit})" if info.unit else ""))
            tip = f"{info.label}: {info.help}" if info.help else info.label
            label.setToolTip(tip)
            editor.setToolTip(tip)
            self.editors[name] = editor
            self.labels[name] = label
            form.addRow(label, editor)

        # eigenvalue presets from the lecture notes
        self.preset = _combo(objectName="preset")
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("set the eigenvalues of the recurrent matrix (at radius 1) to a "
                               "lecture example; 'none' goes back to the drawn matrix")
        self.eigs_note = QLabel(objectName="note")
        self.eigs_note.setWordWrap(True)
        self.preset_label = QLabel("eigenvalues")
        form.addRow(self.preset_label, self.preset)
        form.addRow(self.eigs_note)
        outer.addLayout(form)
        self.form = form

        buttons = QGridLayout()
        self.reset_button = QPushButton("Reset R")
        self.theme_button = QPushButton("Theme T")
        self.help_button = QPushButton("Explain ?")
        self.reset_button.setToolTip("back to the starting config (R)")
        self.theme_button.setToolTip("dark or light (T)")
        self.help_button.setToolTip("what the quantities mean, with their formulas (?)")
        for i, b in enumerate((self.reset_button, self.theme_button, self.help_button)):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(b, 0, i)
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.help = QLabel(KEY_HELP, objectName="help")
        self.help.setWordWrap(True)
        outer.addWidget(self.help)

        self.reset_button.clicked.connect(self.reset_requested)
        self.theme_button.clicked.connect(self.theme_requested)
        self.help_button.clicked.connect(self.help_requested)
        self.preset.textActivated.connect(self._preset)
        self.layout_combo.activated.connect(
            lambda i: self.layout_chosen.emit(self.layout_combo.itemData(i)))
        self.set_config(config)

    # -- building ------------------------------------------------------------------------
    def _make_editor(self, name: str, info: FieldInfo) -> QWidget:
        if info.kind == "choice":
            combo = _combo()
            combo.addItems([str(c) for c in info.choices])
            combo.textActivated.connect(lambda v, name=name: self._edit(**{name: v}))
            return combo
        if info.kind == "int":
            spin = QSpinBox()
            spin.setRange(*info.range)
            spin.setSingleStep(max(1, int(info.step)))
            spin.setKeyboardTracking(False)  # typing "500" computes once, not for 5, 50, 500
            spin.setAccelerated(True)
            spin.setMinimumWidth(70)  # not the width of its largest value (2^31 for the seed)
            spin.valueChanged.connect(lambda v, name=name: self._edit(**{name: int(v)}))
            # a committed number is no longer "being typed" (the arrows go back to rho)
            spin.editingFinished.connect(lambda spin=spin: spin.lineEdit().setModified(False))
            return spin
        if info.kind == "float" and info.range is not None:
            slider = FloatSlider(info)
            slider.value_edited.connect(lambda v, name=name: self._edit(**{name: v}))
            return slider
        raise ValueError(f"field {name!r} of kind {info.kind!r} has no control")

    def _rho_tick(self, value: float) -> int:
        return int(round(value / FIELDS[MAIN].step))

    # -- reading and showing -------------------------------------------------------------
    def spin_boxes(self) -> tuple[QAbstractSpinBox, ...]:
        return tuple(w for w in self.editors.values() if isinstance(w, QAbstractSpinBox))

    @property
    def config(self) -> LabConfig:
        return self._config

    def set_config(self, config: LabConfig) -> None:
        """Show ``config`` in the widgets without emitting ``config_edited``."""
        self._config = config
        rho = self._rho_tick(config.spectral_radius)
        with QSignalBlocker(self.rho_slider):
            # the usual span, widened to reach a radius a scene asked for (e.g. 4.0)
            self.rho_slider.setRange(min(rho, self._rho_span[0]), max(rho, self._rho_span[1]))
            self.rho_slider.setValue(rho)
        for name, editor in self.editors.items():
            if name == MAIN:
                continue
            value = getattr(config, name)
            with QSignalBlocker(editor):
                if isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                elif isinstance(editor, QSpinBox):
                    editor.setValue(int(value))
                else:
                    editor.set_value(value)
        self._show_state(config)

    def set_layout(self, name: str) -> None:
        """Show layout ``name`` as the current topic (no signal), with the controls that
        topic offers (``Layout.controls``); the others are hidden, not reset."""
        with QSignalBlocker(self.layout_combo):
            self.layout_combo.setCurrentIndex(max(0, self.layout_combo.findData(name)))
        shown = set(LAYOUTS[name].controls)
        for field, editor in self.editors.items():
            if field == MAIN:
                for w in (self.rho_title, self.rho_value, self.rho_slider):
                    w.setVisible(MAIN in shown)
            else:
                self.form.setRowVisible(editor, field in shown)
        self.form.setRowVisible(self.preset, "eigs" in shown)
        self.form.setRowVisible(self.eigs_note, "eigs" in shown)

    def _show_state(self, config: LabConfig) -> None:
        self.rho_value.setText(f"ρ = {config.spectral_radius:.2f}")
        for name, editor in self.editors.items():
            if name == MAIN:
                continue
            on = bool(FIELDS[name].applies(config))
            editor.setEnabled(on)
            self.labels[name].setEnabled(on)
        with QSignalBlocker(self.preset):
            if not config.eigs:
                self.preset.setCurrentText("none")
        self.eigs_note.setText(f"{len(config.eigs)} eigenvalues set by hand" if config.eigs
                               else "as drawn (drag one to edit)")

    def nudged(self, delta: float) -> LabConfig:
        """The current config with rho moved by ``delta``, clamped to the allowed range."""
        rho = _clamp(round(self._config.spectral_radius + delta, 6), *self._rho_limits)
        return self._config.replace(spectral_radius=rho)

    # -- edits ---------------------------------------------------------------------------
    def _edit(self, **change) -> None:
        if any(k in CLEARS_EIGS and getattr(self._config, k) != v for k, v in change.items()):
            change.setdefault("eigs", ())
        try:
            config = self._config.replace(**change)
        except ValueError:  # ranges come from FIELDS, so only by accident: keep the old config
            self.set_config(self._config)
            return
        if config == self._config:
            return
        self._config = config
        self._show_state(config)
        self.config_edited.emit(config)

    def _preset(self, name: str) -> None:
        if name == "none":
            self._edit(eigs=())
        else:
            self.preset_chosen.emit(name)
