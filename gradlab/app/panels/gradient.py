"""GradientPanel: log10 ||dL/dh_{T-l}|| against the lag l, with what governs it.

This is the picture of vanishing and exploding gradients: on a log axis a straight line
whose slope is log(growth per step). The measure carries the norms in scaled form
(``GradientFlow.log10_norms``), so the curve is drawn at its true height in decades even
at 1e-2000; the y window follows the config only (``decades(steps)`` each way, so dragging
rho reads as the curve tilting about its pivot at lag 0 inside a still frame). Where the
curve leaves the window an arrow at that edge says how far it went ("1.2×10⁻²⁰⁹⁷ at lag
3000"). Also drawn: the reference the cell's decay follows (rho^l, the leaky step's
rho_eff^l, the product of the LSTM's forget gates or the GRU's update gates), the memory
horizon (the lag where the gradient fell 10^-3 below lag 0), and, when the hidden state
itself overflowed, the lags that have no gradient, marked "state overflows at step k".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

from ..theme import Theme, pen, qfont, style_plot, superscript_power
from ._decades import decade_ticks
from ._heat import Scrub, cursor_pen, pixels, place_beside, plain_plot, side_for
from .base import Panel

X_LABEL = "lag l (steps back from T)"
Y_LABEL = "‖∂L/∂h<sub>T−l</sub>‖ (log scale)"
Y_LABEL_SHORT = "‖∂L/∂h<sub>T−l</sub>‖"  # a short plot: the decade ticks say it is a log scale
CURVE_NAME = "‖∂L/∂h<sub>T−l</sub>‖"
ZERO_DIVE = 1e4  # decades below the window where an exact zero is drawn (off the bottom)


def decades(steps: int) -> int:
    """Half-height of the fixed y window, in decades, for a horizon of ``steps``.

    The window holds rho^l over the whole horizon for rho in [1/1.35, 1.35] (8 decades
    each way at the default 60 steps), clamped to 3..16 decades each way: the lecturer's
    slider span 0.8..1.2 stays inside at T = 60; beyond it the edge markers say how far.
    """
    return int(np.clip(np.ceil(steps * np.log10(1.35)), 3, 16))


def power_text(log10_value: float) -> str:
    """'1.2×10⁻²⁰⁹⁷' for -2096.92 (mantissa to two digits)."""
    k = math.floor(log10_value)
    m = 10.0 ** (log10_value - k)
    if round(m, 1) >= 10.0:
        m, k = m / 10.0, k + 1
    return f"{m:.1f}×{superscript_power(k)}" if round(m, 1) != 1.0 else superscript_power(k)


class EdgeMark:
    """An arrow at the top or bottom edge where the curve leaves the window, with a label
    saying the most extreme value beyond it and its lag."""

    def __init__(self, plot: pg.PlotItem, side: str):
        self.side = side
        down = side == "bottom"
        self.arrow = pg.ArrowItem(angle=-90 if down else 90, pxMode=True)
        # the arrow's tip is its origin: put the tip on the edge, the tail inside
        self.label = pg.TextItem(anchor=(0.0, 1.0) if down else (0.0, 0.0))
        for item in (self.arrow, self.label):
            item.setZValue(8)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self.text = ""

    def apply_theme(self, t: Theme) -> None:
        size = t.label_pt  # the arrow grows with the type
        self.arrow.setStyle(brush=pg.mkBrush(t.grad), pen=pg.mkPen(t.background, width=1),
                            headLen=1.6 * size, headWidth=1.3 * size, tailLen=size,
                            tailWidth=0.4 * size)
        self.label.setColor(t.foreground)
        self.label.fill = pg.mkBrush(t.background + "d8")
        self.label.border = pen(t.grad, 2)
        self.label.setFont(qfont(t, t.label_pt, bold=True))

    def hide(self) -> None:
        self.arrow.setVisible(False)
        self.label.setVisible(False)
        self.text = ""

    def place(self, plot: pg.PlotItem, lag: float, edge: float, text: str) -> None:
        """Arrow tip at (lag, edge); the label beside it."""
        self.arrow.setPos(lag, edge)
        self.text = text
        self.label.setText(text)
        gap = 0.65 * self.arrow.opts["headWidth"] + 12.0  # clear of the arrow's head
        place_beside(plot, self.label, lag, edge,
                     valign=1.0 if self.side == "bottom" else 0.0, gap_px=gap)
        self.arrow.setVisible(True)
        self.label.setVisible(True)


class GradientPanel(Panel):
    name = "gradient"
    subtitle = "‖∂L/∂h<sub>T−l</sub>‖, the gradient l steps back, and what governs it"
    measures = ("gradient",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = plain_plot(self.graphics.addPlot())
        # the key is a line above the plot: a legend box inside would hide the curve
        # (exploding curves cross the upper left, vanishing ones the lower right)
        self.reference = self.plot.plot(antialias=True, connect="finite")
        self.curve = self.plot.plot(antialias=True, connect="finite")
        self.reference_label = "ρ<sup>l</sup>"
        # the state overflowed: the lags with no gradient, shaded, and a label
        self.overflow = pg.LinearRegionItem(orientation="vertical", movable=False)
        self.overflow_label = pg.TextItem(anchor=(0.0, 0.5))
        # the memory horizon: a vertical dotted line and a label
        self.horizon = pg.InfiniteLine(angle=90, movable=False)
        self.horizon_label = pg.TextItem(anchor=(0.0, 1.0))
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        for item, z in ((self.overflow, -5), (self.overflow_label, 6), (self.horizon, 2),
                        (self.horizon_label, 6), (self.cursor, 9)):
            item.setZValue(z)
            item.setVisible(False)
            self.plot.addItem(item, ignoreBounds=True)
        # lag l is step T - l
        self.scrub = Scrub(self.graphics, self.cursor_moved.emit, self._step_at)
        self.scrub.plots.append(self.plot)
        self.marks = {side: EdgeMark(self.plot, side) for side in ("top", "bottom")}
        self.steps = 0
        self.top = decades(60)
        self._lags = np.zeros(0)
        self._norms = np.zeros(0)
        self._zero = np.zeros(0, dtype=bool)
        self._horizon = None
        self._overflow_step = None
        self.plot.getViewBox().sigResized.connect(self._place_labels)
        self.plot.getViewBox().sigResized.connect(self._fit_y_label)
        self._phase, self._fraction = "done", 1.0
        self.apply_theme(theme)

    # -- theme and frame ------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title=None, x=X_LABEL, y=Y_LABEL)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self._fit_y_label()
        self.curve.setPen(pen(t.grad, t.line_width))
        self.reference.setPen(pen(t.reference, t.ref_width, dashed=True))
        self.overflow.setBrush(pg.mkBrush(t.overflow + "30"))
        for line in self.overflow.lines:
            line.setPen(pen(t.overflow, t.ref_width, dashed=True))
        self.overflow_label.setColor(t.foreground)
        self.overflow_label.fill = pg.mkBrush(t.background + "d8")
        self.overflow_label.border = pen(t.overflow, 2)
        self.overflow_label.setFont(qfont(t, t.label_pt, bold=True))
        self.horizon.setPen(pen(t.muted, t.ref_width, dashed=True))
        self.horizon_label.setColor(t.foreground)
        self.horizon_label.fill = pg.mkBrush(t.background + "c0")
        self.horizon_label.setFont(qfont(t, t.label_pt))
        self.cursor.setPen(cursor_pen(t))
        for mark in self.marks.values():
            mark.apply_theme(t)
        self._write_key()

    def _fit_y_label(self, *_) -> None:
        """The left axis label without "(log scale)" when the plot is too short for all of
        it (pyqtgraph would clip it: at 1024x600 it read "‖∂L/∂h‖ (log scale")."""
        t = self.theme
        height = self.plot.getViewBox().height()
        plain = Y_LABEL.replace("<sub>", "").replace("</sub>", "")
        room = QFontMetrics(qfont(t, t.label_pt)).horizontalAdvance(plain) + 12
        text = Y_LABEL if height <= 0 or height >= room else Y_LABEL_SHORT
        axis = self.plot.getAxis("left")
        if axis.labelText != text:
            axis.setLabel(text, color=t.foreground, **{"font-size": f"{t.label_pt}pt"})
            axis.resizeEvent()  # pyqtgraph centres the label only on a resize

    def _write_key(self) -> None:
        """'━━ ‖∂L/∂h_{T−l}‖   ╍╍ ρ^l' in the curves' colours, above the plot."""
        t = self.theme
        self.key = (f'<span style="color:{t.grad}"><b>━━</b> {CURVE_NAME}</span>'
                    f'&nbsp;&nbsp;&nbsp;&nbsp;'
                    f'<span style="color:{t.reference}"><b>╍╍</b> {self.reference_label}</span>')
        self.plot.setTitle(self.key, size=f"{t.legend_pt}pt")

    def frame(self, config) -> None:
        """Axes for ``config`` (also before any data): they follow the horizon only."""
        steps = config.steps
        if steps == self.steps:
            return
        self.steps = steps
        self.top = top = decades(steps)
        self.plot.setXRange(0, steps, padding=0.02)
        self.plot.setYRange(-top, top, padding=0.06)  # room for the tick labels at +-top
        every, major = decade_ticks(-top, top)
        fine = 1 if top <= 8 else 2  # a grid line every decade (every 2 on tall windows)
        minor = [(k, "") for k in range(-top, top + 1) if k % every and not k % fine]
        self.plot.getAxis("left").setTicks([major, minor])

    # -- data ------------------------------------------------------------------------------
    def show(self, snapshot) -> None:
        g = snapshot["gradient"]
        self.frame(snapshot.config)
        self._lags = lags = g.lags.astype(float)  # (T+1,)
        norms = np.array(g.log10_norms, dtype=float)  # (T+1,) decades; nan: no gradient
        norms[np.isneginf(norms)] = -self.top - ZERO_DIVE  # exact 0: dives off the bottom
        self._norms = norms
        self._zero = np.isneginf(g.log10_norms)
        ref = g.log10_reference
        ok = ~np.isnan(ref)
        self.reference.setData(lags[ok], np.maximum(ref[ok], -self.top - ZERO_DIVE))
        if g.reference_label != self.reference_label:
            self.reference_label = g.reference_label
            self._write_key()
        self._overflow_step = g.overflow_step
        self._horizon = g.horizon
        self._draw_curve()

    def _place_labels(self) -> None:
        """Labels sit a few pixels beside their lines: place them again after a resize."""
        if len(self._lags):
            self._draw_curve()

    def _visible(self) -> int:
        """How many lags (from 0) the reveal animation shows."""
        if self._phase == "forward":
            return 0
        if self._phase == "backward":
            return int(round(np.clip(self._fraction, 0.0, 1.0) * (len(self._lags) - 1))) + 1
        return len(self._lags)

    def _draw_curve(self) -> None:
        k = self._visible()
        lags, norms = self._lags[:k], self._norms[:k]
        self.curve.setData(lags, norms)
        self._mark_edges(lags, norms, self._zero[:k])
        self._set_horizon(self._horizon)
        self._set_overflow(self._overflow_step, self.steps)

    def _mark_edges(self, lags, norms, zero) -> None:
        """Arrows where the curve leaves the window, labelled with how far it went."""
        top = self.top
        with np.errstate(invalid="ignore"):
            above = norms > top
            below = norms < -top
        for side, out in (("top", above), ("bottom", below)):
            mark = self.marks[side]
            if not out.any():
                mark.hide()
                continue
            first = int(np.argmax(out))
            cross = float(lags[first])
            if first > 0 and np.isfinite(norms[first - 1]):  # where it crosses the edge
                edge = top if side == "top" else -top
                y0, y1 = norms[first - 1], norms[first]
                cross = float(lags[first - 1] + (edge - y0) / (y1 - y0))
            if side == "bottom" and zero[out].any():
                lag0 = int(lags[np.argmax(zero & out)])
                text = f"exactly 0 from lag {lag0}"
            else:
                beyond = np.where(out, norms, np.nan)
                i = int(np.nanargmax(beyond) if side == "top" else np.nanargmin(beyond))
                text = f"{power_text(norms[i])} at lag {int(lags[i])}"
            edge = top if side == "top" else -top
            mark.place(self.plot, cross, edge, text)

    def _set_overflow(self, step: int | None, steps: int) -> None:
        visible = step is not None
        self.overflow.setVisible(visible)
        self.overflow_label.setVisible(visible)
        if not visible:
            return
        lag = steps - step  # lags 0..T-k hold no gradient: the state is inf/nan from step k
        self.overflow.setRegion((0, max(lag, 0.5)))
        self.overflow_label.setText(f"state overflows at step {step}")
        place_beside(self.plot, self.overflow_label, lag, 0.5 * self.top)

    def _set_horizon(self, lag: int | None) -> None:
        visible = lag is not None and self._visible() > lag
        self.horizon.setVisible(visible)
        self.horizon_label.setVisible(visible)
        if not visible:
            return
        self.horizon.setValue(lag)
        self.horizon_label.setText(f"memory horizon {lag}")
        # beside the point where the curve crosses 10^-3 of lag 0, off the curve: left
        # and below it (the curve is higher to the left) or right and above it (the curve
        # is lower to the right)
        y0 = self._norms[0]
        y = float(np.clip(y0 - 3.0, -0.8 * self.top, 0.8 * self.top)) if np.isfinite(y0) \
            else -0.5 * self.top
        _, dy = pixels(self.plot)
        prefer = "left" if lag > 0.3 * self.steps else "right"
        side = side_for(self.plot, self.horizon_label, lag, prefer) or "right"
        below = side == "left"
        place_beside(self.plot, self.horizon_label, lag, y - 6 * dy if below else y + 6 * dy,
                     valign=0.0 if below else 1.0, side=side)

    # -- cursor and animation --------------------------------------------------------------
    def _step_at(self, lag: float) -> int | None:
        if self.steps < 1 or not np.isfinite(lag):
            return None
        return int(np.clip(self.steps - round(lag), 1, self.steps))

    def set_cursor(self, t: int | None) -> None:
        """The shared time cursor at step t is lag T - t here."""
        visible = t is not None and self.steps > 0
        self.cursor.setVisible(visible)
        if visible:
            self.cursor.setValue(self.steps - min(t, self.steps))

    def set_reveal(self, phase: str, fraction: float) -> None:
        """'forward': no gradient yet; 'backward': lags 0..fraction*T; 'done': all."""
        self._phase, self._fraction = phase, fraction
        if len(self._lags):
            self._draw_curve()


PANEL = GradientPanel
