"""LabWindow: the main window. Wires controls -> ComputeWorker -> panels; owns no maths.

Data flows one way: a control edit (or ``set_config`` from a scene, or a key) becomes a
LabConfig, the worker turns it into a Snapshot, and every panel draws that Snapshot. Slots
here only hand configs to the worker and snapshots to the panels.

Keys (for a lecturer): Left/Right and [ / ] nudge rho by 0.01, Up/Down (and PageUp/PageDown)
by 0.05, T toggles the theme, F fullscreen, Esc leaves fullscreen, R resets to the starting
config. They work whichever control has focus (spin boxes keep their own keys), and give way
to any enabled QShortcut on the window for the same key (the scene player's, while it plays).
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, Qt, Slot
from PySide6.QtGui import QImage, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from gradlab.config import LabConfig
from gradlab.lab import Lab, Snapshot

from .controls import Controls
from .panels import EigenPanel, GradientPanel, HiddenStatesPanel
from .theme import get_theme, other, palette, stylesheet
from .worker import ComputeWorker

log = logging.getLogger(__name__)

CONTROL_WIDTH = 300  # px; the panels get the rest


class LabWindow(QMainWindow):
    """The lab: three panels, a caption strip, a summary line and a control column."""

    def __init__(self, config: LabConfig | None = None, *, theme: str = "dark",
                 synchronous: bool = False, lab: Lab | None = None):
        super().__init__()
        self.setWindowTitle("gradlab — vanishing and exploding gradients")
        self._initial = config if config is not None else LabConfig()
        self._config = self._initial
        self._requested: LabConfig | None = None
        self._snapshot: Snapshot | None = None
        self._theme = get_theme(theme)

        self.worker = ComputeWorker(lab, synchronous=synchronous, parent=self)
        self.worker.snapshot_ready.connect(self._draw)
        self.worker.failed.connect(self._failed)

        self.gradient = GradientPanel(self._theme)
        self.hidden = HiddenStatesPanel(self._theme)
        self.eigen = EigenPanel(self._theme)
        self.panels = (self.gradient, self.hidden, self.eigen)
        self.controls = Controls(self._config)
        self.controls.setFixedWidth(CONTROL_WIDTH)
        self.controls.config_edited.connect(self._request)
        self.controls.reset_requested.connect(self.reset)
        self.controls.theme_requested.connect(self.toggle_theme)

        self.caption = QLabel(objectName="caption")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setVisible(False)
        self.summary = QLabel(objectName="summary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.compute_label = QLabel()
        self.statusBar().addPermanentWidget(self.compute_label)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.gradient.widget, 0, 0)
        grid.addWidget(self.eigen.widget, 0, 1)
        grid.addWidget(self.hidden.widget, 1, 0, 1, 2)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 3)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        main = QVBoxLayout()
        main.setContentsMargins(4, 4, 4, 0)
        main.setSpacing(2)
        main.addWidget(self.caption)
        main.addLayout(grid, 1)
        main.addWidget(self.summary)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addLayout(main, 1)
        body.addWidget(self.controls)
        central = QWidget(objectName="central")
        central.setLayout(body)
        self.setCentralWidget(central)

        key = Qt.Key
        self._keys = {
            key.Key_Right: lambda: self.nudge_rho(+0.01),
            key.Key_BracketRight: lambda: self.nudge_rho(+0.01),
            key.Key_Left: lambda: self.nudge_rho(-0.01),
            key.Key_BracketLeft: lambda: self.nudge_rho(-0.01),
            key.Key_Up: lambda: self.nudge_rho(+0.05),
            key.Key_PageUp: lambda: self.nudge_rho(+0.05),  # presenter clickers send these
            key.Key_Down: lambda: self.nudge_rho(-0.05),
            key.Key_PageDown: lambda: self.nudge_rho(-0.05),
            key.Key_T: self.toggle_theme,
            key.Key_F: self.toggle_fullscreen,
            key.Key_Escape: self.leave_fullscreen,
            key.Key_R: self.reset,
        }
        # sliders, combo boxes and buttons would eat the arrow keys: route the lecture keys
        # to the window instead (spin boxes keep their keys, for typing numbers)
        for widget in self.controls.key_routed_widgets():
            widget.installEventFilter(self)

        self._apply_theme_chrome()
        self.resize(1280, 720)
        self.summary.setText("computing… (the very first start compiles the kernels)")
        for panel in self.panels:
            panel.frame(self._config)  # empty but well-framed axes until the first snapshot
        self._request(self._config)

    # -- public API ------------------------------------------------------------------------
    @property
    def config(self) -> LabConfig:
        """The config last requested (what the controls show)."""
        return self._config

    @property
    def snapshot(self) -> Snapshot | None:
        """The Snapshot the panels show now (None before the first compute finishes)."""
        return self._snapshot

    @property
    def theme(self) -> str:
        return self._theme.name

    def set_config(self, config: LabConfig) -> None:
        """Show ``config`` in the controls (no echo) and compute it; synchronous windows
        compute and redraw before returning."""
        self.controls.set_config(config)
        self._request(config)

    def set_caption(self, text: str) -> None:
        """A large caption strip above the panels; ``''`` hides it."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def set_theme(self, name: str) -> None:
        """Restyle every existing item for theme ``name`` ('dark' or 'light')."""
        self._theme = get_theme(name)
        for panel in self.panels:
            panel.apply_theme(self._theme)
        self._apply_theme_chrome()

    def show_controls(self, visible: bool) -> None:
        """Hide the control column for clean slide renders (the panels take the width)."""
        self.controls.setVisible(visible)

    def grab_rgb(self) -> np.ndarray:
        """The whole window rendered now, as an (H, W, 3) uint8 array (a copy).

        H, W are the window's size times the screen's device pixel ratio (1 offscreen).
        A window that was never shown is shown off-screen first, so its layouts settle.
        """
        if not self.isVisible():
            self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            self.show()
        QCoreApplication.sendPostedEvents()  # pending layout requests, so the pixels are current
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        w, h = image.width(), image.height()
        rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
        return rows.reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3).copy()

    def nudge_rho(self, delta: float) -> None:
        """Move the spectral radius by ``delta`` (clamped to the allowed range)."""
        self.set_config(self.controls.nudged(delta))

    def reset(self) -> None:
        """Back to the config the window started with."""
        self.set_config(self._initial)

    def toggle_theme(self) -> None:
        self.set_theme(other(self._theme.name))

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    # -- slots: hand configs to the worker, snapshots to the panels --------------------------
    @Slot(object)
    def _request(self, config: LabConfig) -> None:
        self._config = config
        if config == self._requested:
            return
        self._requested = config
        self.worker.submit(config)

    @Slot(object)
    def _draw(self, snapshot: Snapshot) -> None:
        try:
            for panel in self.panels:
                panel.show(snapshot)
        except Exception as exc:  # a drawing bug must not take the lecture down
            log.exception("drawing a snapshot failed")
            self.statusBar().showMessage(f"drawing failed: {type(exc).__name__}: {exc}")
            return
        self._snapshot = snapshot
        self.summary.setText(snapshot.caption())
        self.compute_label.setText(f"computed in {snapshot.compute_ms:.1f} ms")

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.statusBar().showMessage(message)
        self._requested = None  # let the same config be asked for again

    def _apply_theme_chrome(self) -> None:
        self.setPalette(palette(self._theme))
        self.setStyleSheet(stylesheet(self._theme))

    def _handle_key(self, event: QKeyEvent) -> bool:
        mods = event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                    | Qt.KeyboardModifier.AltModifier
                                    | Qt.KeyboardModifier.MetaModifier)
        action = self._keys.get(event.key())
        if action is None or mods != Qt.KeyboardModifier.NoModifier:
            return False
        if self._shortcut_owns(event):  # e.g. the scene player took Left/Right for its steps
            return False
        action()
        return True

    def _shortcut_owns(self, event: QKeyEvent) -> bool:
        combo = QKeySequence(event.keyCombination()).toString()
        return any(sc.isEnabled() and sc.key().toString() == combo
                   for sc in self.findChildren(QShortcut))

    def keyPressEvent(self, event):  # noqa: N802 (Qt name)
        if not self._handle_key(event):
            super().keyPressEvent(event)

    def eventFilter(self, watched, event):  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.KeyPress and self._handle_key(event):
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event):  # noqa: N802 (Qt name)
        self.hide()  # vanish at once, even if a first compute is still compiling kernels
        self.worker.stop()
        super().closeEvent(event)
