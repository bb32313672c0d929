"""HiddenStatesPanel: the hidden states h_t as a heatmap, units (y) against time (x).

Diverging colour map with symmetric levels fixed by the config, never by the data, so a
colour means the same value in every frame: [-1, 1] for the bounded activations (tanh,
sigmoid), and +-max(1, 10 * input_scale) for relu and linear (which can grow without bound;
values beyond the level saturate). Non-finite states (overflow) are drawn in the theme's
overflow colour: the image leaves them transparent and a rectangle of that colour behind
the image shows through; a dashed line and label mark the step where overflow began.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from gradlab.config import LabConfig
from gradlab.lab import Snapshot

from ..theme import Theme, pen, qfont, style_axis, style_plot

TITLE = "hidden states h<sub>t</sub>"
X_LABEL = "time step t"
Y_LABEL = "unit"
BOUNDED = ("tanh", "sigmoid")


def level(config: LabConfig) -> float:
    """The symmetric colour level +-L for ``config`` (depends on the config only)."""
    if config.cell != "rnn" or config.activation in BOUNDED:
        return 1.0  # tanh/sigmoid, and the gated cells' h = o * tanh(c) or a convex mix
    return max(1.0, 10.0 * config.input_scale)


def _rect(steps: int, n: int) -> QRectF:
    """The image's place in plot coordinates: pixel centres on t = 1..T and units 1..n."""
    return QRectF(0.5, 0.5, steps, n)


class HiddenStatesPanel:
    """Owns a GraphicsLayoutWidget (``.widget``): image, colour bar, overflow marker."""

    def __init__(self, theme: Theme):
        self.widget = pg.GraphicsLayoutWidget()
        self.plot = self.widget.addPlot()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        self.plot.invertY(True)  # unit 1 at the top, like a matrix
        self.nan_backdrop = QGraphicsRectItem(QRectF(0, 0, 1, 1))
        self.nan_backdrop.setZValue(-10)
        self.nan_backdrop.setVisible(False)  # until there is an image in front of it
        self.plot.addItem(self.nan_backdrop, ignoreBounds=True)
        self.image = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=22,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.overflow_line = pg.InfiniteLine(angle=90, movable=False)
        self.overflow_label = pg.TextItem(anchor=(0.0, 0.0))
        self.plot.addItem(self.overflow_line, ignoreBounds=True)
        self.plot.addItem(self.overflow_label, ignoreBounds=True)
        self.overflow_line.setZValue(5)
        self.overflow_label.setZValue(6)
        self._shape = None
        self._level = None
        self.apply_theme(theme)
        self.overflow_line.setVisible(False)
        self.overflow_label.setVisible(False)

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self._title = TITLE
        self.widget.setBackground(t.background)
        style_plot(self.plot, t, title=TITLE, x=X_LABEL, y=Y_LABEL)
        self.plot.showGrid(x=False, y=False)
        self.colorbar.setColorMap(pg.colormap.get(t.cmap))
        style_axis(self.colorbar.axis, t)
        for side in ("left", "top", "bottom"):
            self.colorbar.getAxis(side).setPen(pg.mkPen(t.muted))
        self.nan_backdrop.setBrush(pg.mkBrush(t.overflow))
        self.nan_backdrop.setPen(pg.mkPen(None))
        self.overflow_line.setPen(pen(t.overflow, t.ref_width, dashed=True))
        self.overflow_label.setColor(t.foreground)
        self.overflow_label.fill = pg.mkBrush(t.background + "e0")
        self.overflow_label.border = pen(t.overflow, 2)
        self.overflow_label.setFont(qfont(t, t.label_pt, bold=True))

    def _set_title(self, h, finite, lv) -> None:
        """Say so in the title when states leave the colour range (the colours saturate)."""
        peak = float(np.max(np.abs(h[finite]), initial=0.0))
        title = TITLE if peak <= lv else f"{TITLE}   (max |h| = {peak:.2g}, colours clipped)"
        if title != self._title:
            self._title = title
            t = self.theme
            self.plot.setTitle(title, color=t.foreground, size=f"{t.title_pt}pt")

    def frame(self, config: LabConfig) -> None:
        """Set the axes and colour levels for ``config`` (also before any data)."""
        lv = level(config)
        if lv != self._level:
            self._level = lv
            self.colorbar.setLevels((-lv, lv))
        shape = (config.steps, config.hidden)
        if shape != self._shape:
            self._shape = shape
            steps, n = shape
            self.nan_backdrop.setRect(_rect(steps, n))
            self.plot.setXRange(0.5, steps + 0.5, padding=0)
            self.plot.setYRange(0.5, n + 0.5, padding=0)

    def show(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.h`` (T, n) with the config's fixed levels."""
        h = snapshot.h  # (T, n)
        steps, n = h.shape  # == (config.steps, config.hidden)
        finite = np.isfinite(h)
        image = h if finite.all() else np.where(finite, h, np.nan)  # inf -> nan: transparent
        self.frame(snapshot.config)
        lv = self._level
        # colours saturate at the levels anyway; clipping (nan stays nan) keeps pyqtgraph's
        # paint-time downsampling (a mean over columns) from overflowing on huge states
        image = np.clip(image, -2 * lv, 2 * lv)
        self.image.setImage(image, autoLevels=False, levels=(-lv, lv))
        self._set_title(h, finite, lv)
        self.image.setRect(_rect(steps, n))  # after setImage: the scale depends on the shape
        self.nan_backdrop.setVisible(True)
        s = snapshot.overflow_step
        self.overflow_line.setVisible(s is not None)
        self.overflow_label.setVisible(s is not None)
        if s is not None:
            self.overflow_line.setValue(s - 0.5)
            self.overflow_label.setText(f"inf/nan from step {s}")
            right_half = s > 0.6 * steps
            self.overflow_label.setAnchor((1.0, 0.0) if right_half else (0.0, 0.0))
            self.overflow_label.setPos(s - 0.5 + (-0.01 if right_half else 0.01) * steps,
                                       0.5 + 0.1 * n)
