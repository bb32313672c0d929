"""Panel: the contract every view of the lab follows, and what they share.

A panel is built once (``__init__`` creates every plot item), then only updated in place:
``show(snapshot)`` draws the results of the measures it names in ``measures`` (setData,
setImage with fixed levels; nothing rebuilt per frame); ``frame(config)`` sets axes that
depend on the config only, also before any data; ``apply_theme(theme)`` restyles the
existing items. The base class gives every panel:

- ``widget``: a container with a one-line subtitle (what the panel shows) above the
  panel's own ``graphics`` (a pyqtgraph GraphicsLayoutWidget), and a "computing…" badge
  that ``set_stale(True)`` shows while the picture is older than the controls;
- ``edited`` (a Qt signal carrying a dict of LabConfig fields) for panels the user can
  drag (eigenvalues), and ``cursor_moved(int)`` for the shared time cursor;
- ``set_cursor(t)`` (draw the shared time cursor; default: nothing) and
  ``set_reveal(phase, fraction)`` for the forward/backward animation (default: nothing);
- ``export(path)``: this panel alone as PNG or SVG.

Subclasses set the class attributes ``name``, ``subtitle`` and ``measures`` and register
themselves in ``gradlab.app.panels.PANELS``.
"""

from __future__ import annotations

import os

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..theme import Theme


class Panel(QObject):
    """Base class of every panel (see the module docstring for the contract)."""

    name: str = ""
    subtitle: str = ""
    measures: tuple[str, ...] = ()

    edited = Signal(dict)  # LabConfig fields to change (e.g. a dragged eigenvalue)
    cursor_moved = Signal(int)  # the time step t the user points at (0: none)

    def __init__(self, theme: Theme):
        super().__init__()
        self.theme = theme
        self.widget = QWidget()
        self.widget.setObjectName("panel")
        box = QVBoxLayout(self.widget)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.subtitle_label = QLabel(self.subtitle, objectName="subtitle")
        self.subtitle_label.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        box.addWidget(self.subtitle_label)
        box.addWidget(self.graphics, 1)
        self.badge = QLabel("computing…", self.widget, objectName="badge")
        self.badge.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.badge.hide()
        self.stale = False
        self.widget.installEventFilter(self)  # keep the badge in its corner on resize

    # -- the contract ---------------------------------------------------------------------
    def show(self, snapshot) -> None:
        raise NotImplementedError

    def frame(self, config) -> None:
        """Axes for ``config`` before any data (default: nothing)."""

    def apply_theme(self, theme: Theme) -> None:
        """Restyle existing items; subclasses call super() first."""
        self.theme = theme
        self.graphics.setBackground(theme.background)
        self.subtitle_label.setStyleSheet(
            f"color: {theme.muted}; background: {theme.background}; "
            f"font-size: {theme.subtitle_pt}pt; padding: 2px 8px;")
        self.badge.setStyleSheet(
            f"color: {theme.background}; background: {theme.accent}; "
            f"font-size: {theme.label_pt}pt; font-weight: bold; padding: 4px 12px; "
            "border-radius: 6px;")

    def set_cursor(self, t: int | None) -> None:
        """Show the shared time cursor at step t (None: hide it)."""

    def set_reveal(self, phase: str, fraction: float) -> None:
        """Animation: 'forward' shows steps 1..fraction*T of the states, 'backward' the
        gradient from T back to (1 - fraction) T, 'done' everything (default: nothing)."""

    # -- shared behaviour -----------------------------------------------------------------
    def set_stale(self, stale: bool) -> None:
        """Show or hide the "computing…" badge (top right of the panel)."""
        self.stale = stale
        if stale:
            self._place_badge()
            self.badge.raise_()
        self.badge.setVisible(stale)

    def _place_badge(self) -> None:
        # in the subtitle strip, right-aligned: it never covers the data
        self.badge.adjustSize()
        top = max(0, (self.subtitle_label.height() - self.badge.height()) // 2)
        self.badge.move(self.widget.width() - self.badge.width() - 8, top)

    def eventFilter(self, watched, event):  # noqa: N802 (Qt name)
        if watched is self.widget and event.type() == QEvent.Type.Resize and self.stale:
            self._place_badge()
        return False

    def export(self, path: str | os.PathLike) -> None:
        """Write this panel (subtitle included) to ``path``: .png or .svg, atomically."""
        from ..share import export_image

        export_image(self.widget, path, self.name)
