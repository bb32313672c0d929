"""GradientPanel: ||dL/dh_{T-l}|| against the lag l on a log axis, with the rho^l reference.

This is the picture of vanishing and exploding gradients: a straight line on the log axis
whose slope is log(growth per step). Overflow (inf/nan) ends the curve at the last finite
lag and is marked with a vertical line and the label "overflow at lag k" (k: the first lag
that is inf or nan). Exact zeros
(dead relu units) are drawn at a floor far below the window, so the curve dives out of
the bottom instead of breaking the log axis.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.config import LabConfig
from gradlab.lab import Snapshot

from ..theme import Theme, pen, qfont, style_legend, style_plot, superscript_power

FLOOR = 1e-300  # stands in for an exact 0 on the log axis (log10 = -300, far off-screen)
TITLE = "gradient reaching l steps back"
X_LABEL = "lag l (steps back from T)"
Y_LABEL = "‖∂L/∂h<sub>T−l</sub>‖"


def decades(steps: int) -> int:
    """Half-height of the fixed log-y window, in decades, for a horizon of ``steps``.

    The y range depends on the config only (never on the data), so dragging rho reads as
    the curve tilting about its pivot at (0, 1) inside a still frame, not as the axis
    jumping. The window holds rho^l over the whole horizon for rho in [1/1.35, 1.35]
    (8 decades each way at the default 60 steps), clamped to 3..16 decades each way.
    Beyond it the curve leaves through the top or bottom edge, which reads correctly as
    exploded or vanished; the lecturer's slider span 0.8..1.2 stays inside at T = 60.
    """
    return int(np.clip(np.ceil(steps * np.log10(1.35)), 3, 16))


class GradientPanel:
    """Owns a GraphicsLayoutWidget (``.widget``) with one log-y plot; ``show`` updates in place."""

    def __init__(self, theme: Theme):
        self.widget = pg.GraphicsLayoutWidget()
        self.plot = self.widget.addPlot()
        self.plot.setLogMode(x=False, y=True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        # upper left: the one corner no curve reaches in the slider's usual span
        self.legend = self.plot.addLegend(offset=(12, 12), verSpacing=-4)
        self.reference = self.plot.plot(name="ρ<sup>l</sup>", antialias=True)
        self.curve = self.plot.plot(name="‖∂L/∂h<sub>T−l</sub>‖", antialias=True)
        self.overflow_line = pg.InfiniteLine(angle=90, movable=False)
        self.overflow_label = pg.TextItem(anchor=(0.0, 0.5))
        self.plot.addItem(self.overflow_line, ignoreBounds=True)
        self.plot.addItem(self.overflow_label, ignoreBounds=True)
        self.overflow_line.setZValue(5)
        self.overflow_label.setZValue(6)
        self._range_key = None
        self._decades = decades(60)
        self.apply_theme(theme)
        self._set_overflow(None, 0)

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.widget.setBackground(t.background)
        style_plot(self.plot, t, title=TITLE, x=X_LABEL, y=Y_LABEL)
        self.curve.setPen(pen(t.grad, t.line_width))
        self.reference.setPen(pen(t.reference, t.ref_width, dashed=True))
        self.overflow_line.setPen(pen(t.overflow, t.ref_width, dashed=True))
        self.overflow_label.setColor(t.overflow)
        self.overflow_label.fill = pg.mkBrush(t.background + "d0")
        self.overflow_label.setFont(qfont(t, t.label_pt + 1, bold=True))
        style_legend(self.legend, t)

    def show(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot``'s gradient norms and reference line (items updated in place)."""
        steps = snapshot.config.steps
        lags = snapshot.lags.astype(float)  # (T+1,)
        norms = snapshot.grad_norms  # (T+1,)
        k = snapshot.overflow_lag
        good = len(norms) if k is None else k  # lags 0..good-1 are finite
        y = np.maximum(norms[:good], FLOOR)  # exact zeros -> floor (log axis stays valid)
        self.curve.setData(lags[:good], y)

        ref = snapshot.reference  # (T+1,) rho^l; may under/overflow for long horizons
        ok = np.isfinite(ref)
        self.reference.setData(lags[ok], np.maximum(ref[ok], FLOOR))

        self.frame(snapshot.config)
        self._set_overflow(k, steps)

    def frame(self, config: LabConfig) -> None:
        """Set the axes for ``config`` (also before any data): they follow the horizon only."""
        steps = config.steps
        if steps == self._range_key:
            return
        self._range_key = steps
        self._decades = decades(steps)
        self.plot.setXRange(0, steps, padding=0.02)
        # 6% padding leaves room for the tick labels at +-D decades
        self.plot.setYRange(-self._decades, self._decades, padding=0.06)
        self._set_ticks(self._decades)

    def _set_overflow(self, k: int | None, steps: int) -> None:
        visible = k is not None
        self.overflow_line.setVisible(visible)
        self.overflow_label.setVisible(visible)
        if not visible:
            return
        top = self._decades
        self.overflow_line.setValue(k)
        self.overflow_label.setText(f"overflow at lag {k}")
        # the label sits beside the line, in the lower half (a curve that overflows has been
        # climbing, so it runs through the upper half), on whichever side has room
        right_half = k > 0.55 * steps
        self.overflow_label.setAnchor((1.0, 0.5) if right_half else (0.0, 0.5))
        self.overflow_label.setPos(k + (-0.015 if right_half else 0.015) * steps, -0.5 * top)

    def _set_ticks(self, top: int) -> None:
        """Labelled ticks every few decades (at most 7 labels), a grid line every decade."""
        step = next(s for s in (1, 2, 4, 5, 8, 10, 20) if 2 * top / s <= 6)
        major = [(k, superscript_power(k)) for k in range(-top, top + 1) if k % step == 0]
        minor = [(k, "") for k in range(-top, top + 1) if k % step != 0]
        axis = self.plot.getAxis("left")
        axis.enableAutoSIPrefix(False)
        axis.setTicks([major, minor])

