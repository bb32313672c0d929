"""DescentPanel: the loss E and the gradient norm ||grad E|| of both cliff runs, per update.

Top: E at each point of the run without clipping and of the run with it (the 'descent'
measure), on E's own fixed scale [0, 0.5]; a dashed line marks the update that threw the
unclipped run off the plotted surface. Bottom: ||grad E|| before clipping at each point on
a log scale, with the clip threshold: where a spike crosses it the clipped run took a step
of length lr x threshold instead (ringed, as on the cliff). Replayed update by update in
step with the cliff view (same clock, same rule).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ..theme import Theme, pen, qfont, style_plot, superscript_power
from ._cliffkit import Replay, clipped_color, follow_stretch, plain_color, plain_plot, reveal_replay
from .base import Panel

E_RANGE = (0.0, 0.5)  # E = (sigma(x_T) - 0.7)^2 <= 0.49
DECADES = (-6, 6)  # the log-norm window at least; widened to hold a run's norms
LIMITS = (-12, 16)


def decade_window(*norm_arrays) -> tuple[int, int]:
    """(lo, hi) whole decades holding the finite, non-zero norms, at least DECADES."""
    lo, hi = DECADES
    for a in norm_arrays:
        a = np.asarray(a, dtype=float)
        ok = np.isfinite(a) & (a > 0)
        if ok.any():
            lo = min(lo, math.floor(np.log10(a[ok].min())))
            hi = max(hi, math.ceil(np.log10(a[ok].max())))
    return max(lo, LIMITS[0]), min(hi, LIMITS[1])


class DescentPanel(Panel):
    name = "descent"
    subtitle = "Each run, update by update: the loss E and the gradient norm ‖∇E‖"
    measures = ("descent",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        follow_stretch(self)
        self.loss_plot = plain_plot(self.graphics.addPlot(row=0, col=0))
        self.norm_plot = plain_plot(self.graphics.addPlot(row=1, col=0))
        self.norm_plot.setXLink(self.loss_plot)
        self.loss_plot.setYRange(*E_RANGE, padding=0.02)
        self.loss_plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0.0, 0.2, 0.4)],
                                                 [(0.1, ""), (0.3, "")]])
        self.loss = {"plain": self.loss_plot.plot(antialias=True),
                     "clipped": self.loss_plot.plot(antialias=True)}
        self.norm = {"plain": self.norm_plot.plot(antialias=True),
                     "clipped": self.norm_plot.plot(antialias=True)}
        self.rings = {"loss": pg.ScatterPlotItem(pxMode=True, symbol="o"),
                      "norm": pg.ScatterPlotItem(pxMode=True, symbol="o")}
        self.loss_plot.addItem(self.rings["loss"])
        self.norm_plot.addItem(self.rings["norm"])
        self.threshold = pg.InfiniteLine(angle=0, movable=False)
        self.threshold_label = pg.TextItem(anchor=(1.0, 1.0))
        self.thrown = pg.InfiniteLine(angle=90, movable=False)
        self.thrown_label = pg.TextItem(anchor=(0.0, 0.0))
        for plot, item in ((self.norm_plot, self.threshold), (self.norm_plot,
                                                              self.threshold_label),
                           (self.loss_plot, self.thrown), (self.loss_plot, self.thrown_label)):
            item.setZValue(8)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        for item in self.rings.values():
            item.setZValue(9)
        self.replay = Replay(self._draw, self)
        self.descent = None
        self.updates = 0
        self.decades = (0, 0)
        self.apply_theme(theme)

    # -- theme and frame -------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.loss_plot, t, title=None, x=None, y="loss E")
        style_plot(self.norm_plot, t, title=None, x="update", y="‖∇E‖")
        for plot in (self.loss_plot, self.norm_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
        for name, color in (("plain", plain_color(t)), ("clipped", clipped_color(t))):
            self.loss[name].setPen(pen(color, t.line_width))
            self.norm[name].setPen(pen(color, t.line_width * 0.8))
        for ring in self.rings.values():
            ring.setBrush(pg.mkBrush(None))
            ring.setPen(pg.mkPen(t.overflow, width=3))
            ring.setSize(18)
        self.threshold.setPen(pen(t.foreground, t.ref_width, dashed=True))
        self.thrown.setPen(pen(plain_color(t), t.ref_width, dashed=True))
        for label, border in ((self.threshold_label, None), (self.thrown_label, plain_color(t))):
            label.setColor(t.foreground)
            label.fill = pg.mkBrush(t.background + "d0")
            if border:
                label.border = pen(border, 2)
        self.thrown_label.setFont(qfont(t, t.label_pt))
        self.threshold_label.setFont(qfont(t, t.tick_pt))
        if self.descent is not None:
            self._draw(self.replay.shown)

    def frame(self, config) -> None:
        """x: 0..updates (from the config)."""
        if config.updates != self.updates:
            self.updates = config.updates
            self.loss_plot.setXRange(0, config.updates, padding=0.02)

    def _set_window(self, lo: int, hi: int) -> None:
        if (lo, hi) == self.decades:
            return
        self.decades = (lo, hi)
        self.norm_plot.setYRange(lo, hi, padding=0.04)
        every = next(s for s in (1, 2, 3, 4, 5, 6, 8, 10) if (hi - lo) / s <= 5)
        self.norm_plot.getAxis("left").setTicks(
            [[(k, superscript_power(k)) for k in range(lo, hi + 1) if k % every == 0], []])

    # -- data ------------------------------------------------------------------------------
    def show(self, snapshot) -> None:
        d = snapshot["descent"]
        self.frame(snapshot.config)
        self.descent = d
        self._set_window(*decade_window(d.plain.norm_before, d.clipped.norm_before))
        self.threshold.setVisible(d.clipping)
        self.threshold_label.setVisible(d.clipping)
        if d.clipping:
            self.threshold.setValue(math.log10(d.threshold))
            self.threshold_label.setText(f"threshold {d.threshold:g}" if d.mode == "norm"
                                         else f"limit per component {d.threshold:g}")
            self.threshold_label.setPos(d.updates, math.log10(d.threshold))
        self.replay.show((d.start, d.lr, d.updates), d.updates)

    def _log_norms(self, a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log10(a)
        lo = self.decades[0] - 1.0  # exact zeros: just below the window
        return np.where(np.isneginf(out), lo, out)

    def _draw(self, k: int) -> None:
        d = self.descent
        if d is None:
            return
        for name, path in (("plain", d.plain), ("clipped", d.clipped)):
            on = name == "plain" or d.clipping
            self.loss[name].setVisible(on)
            self.norm[name].setVisible(on)
            x = np.arange(k + 1)
            self.loss[name].setData(x, path.losses[:k + 1])
            self.norm[name].setData(x[:k], self._log_norms(path.norm_before[:k]))
        c = d.clipped
        idx = np.flatnonzero(c.clipped[:k]) if d.clipping else np.zeros(0, dtype=int)
        self.rings["loss"].setData(idx, c.losses[idx])
        self.rings["norm"].setData(idx, self._log_norms(c.norm_before[idx]))
        ex = d.plain_exit
        thrown = ex is not None and k >= ex.update
        self.thrown.setVisible(thrown)
        self.thrown_label.setVisible(thrown)
        if thrown:
            self.thrown.setValue(ex.update)
            self.thrown_label.setHtml(f"thrown off<br>at update {ex.update}")
            right = ex.update > 0.6 * d.updates
            self.thrown_label.setAnchor((1.0 if right else 0.0, 0.0))
            self.thrown_label.setPos(ex.update + (-0.5 if right else 0.5), E_RANGE[1])

    def set_reveal(self, phase: str, fraction: float) -> None:
        """The window's animation: the forward half replays the updates, then all stay."""
        reveal_replay(self, phase, fraction)


PANEL = DescentPanel
