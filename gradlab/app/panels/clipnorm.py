"""ClipNormPanel: what clipping by global norm does to the main lab's gradient.

Left: ||dL/dh_{T-l}|| against the lag l (the 'gradient' measure) before clipping, and after
it: clipping multiplies the whole update by one factor min(1, c / ||g||), so the curve only
shifts down, parallel, and its slope (vanishing or exploding per step) stays what it was.
Right: the global gradient norm of each update in a batch of sequences (the 'clipping'
measure) before and after clipping at the threshold, which caps the tall ones and leaves
the small ones alone. The header says how many updates were clipped and by how much this
sequence's gradient was scaled.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ..theme import Theme, pen, qfont, style_plot, superscript_power
from ._cliffkit import clipped_color, follow_stretch, number, plain_color, plain_plot
from .base import Panel

SPAN = 24  # at most this many decades in the lag plot's window (below the top)


def window(*log_arrays, span: int = SPAN) -> tuple[int, int]:
    """(lo, hi) whole decades holding the finite values (at most ``span`` below the top)."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in log_arrays])
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return -1, 1
    hi = math.ceil(vals.max() + 0.05)
    lo = math.floor(max(vals.min(), hi - span) - 0.05)
    return (lo, hi) if hi - lo >= 2 else (hi - 2, hi)


def decade_ticks(lo: int, hi: int, most: int = 5) -> list:
    every = next(s for s in (1, 2, 3, 4, 5, 6, 8, 10, 20) if (hi - lo) / s <= most)
    return [[(k, superscript_power(k)) for k in range(lo, hi + 1) if k % every == 0], []]


class ClipNormPanel(Panel):
    name = "clipnorm"
    subtitle = ("Clipping in the lab's network: it caps the step and keeps its direction; "
                "vanishing stays vanishing")
    measures = ("clipping", "gradient")

    def __init__(self, theme: Theme):
        super().__init__(theme)
        follow_stretch(self)
        self.header = self.graphics.addLabel("", row=0, col=0, colspan=2)
        self.lag_plot = plain_plot(self.graphics.addPlot(row=1, col=0))
        self.batch_plot = plain_plot(self.graphics.addPlot(row=1, col=1))
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self.before = self.lag_plot.plot(antialias=True, connect="finite")
        self.after = self.lag_plot.plot(antialias=True, connect="finite")
        self.before_label = pg.TextItem("before", anchor=(1.0, 1.0))
        self.after_label = pg.TextItem("after clipping", anchor=(1.0, 0.0))
        for label in (self.before_label, self.after_label):
            label.setZValue(6)
            self.lag_plot.addItem(label, ignoreBounds=True)
        self.bars_before = pg.BarGraphItem(x=[], height=[], width=0.4)
        self.bars_after = pg.BarGraphItem(x=[], height=[], width=0.4)
        self.batch_plot.addItem(self.bars_before)
        self.batch_plot.addItem(self.bars_after)
        self.threshold = pg.InfiniteLine(angle=0, movable=False)
        self.threshold.setZValue(5)
        self.batch_plot.addItem(self.threshold, ignoreBounds=True)
        self.text = ""
        self.lag_window = (0, 0)
        self.batch_window = (0, 0)
        self.batch_n = 0
        self.data = None
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.lag_plot, t, title=None, x="lag l", y="‖∂L/∂h<sub>T−l</sub>‖")
        style_plot(self.batch_plot, t, title=None, x="update (sequence)", y="‖∇<sub>θ</sub>L‖")
        for plot in (self.lag_plot, self.batch_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.before.setPen(pen(plain_color(t), t.line_width))
        self.after.setPen(pen(clipped_color(t), t.line_width, dashed=True))
        self.bars_before.setOpts(brush=pg.mkBrush(plain_color(t)), pen=pg.mkPen(None))
        self.bars_after.setOpts(brush=pg.mkBrush(clipped_color(t)), pen=pg.mkPen(None))
        self.threshold.setPen(pen(t.foreground, t.ref_width, dashed=True))
        for label, color in ((self.before_label, plain_color(t)),
                             (self.after_label, clipped_color(t))):
            label.setColor(color)
            label.setFont(qfont(t, t.label_pt, bold=True))
        if self.data is not None:
            self._header(*self.data)

    # -- data ------------------------------------------------------------------------------
    def show(self, snapshot) -> None:
        c = snapshot["clipping"]
        g = snapshot["gradient"]
        lags = np.asarray(g.lags, dtype=float)  # (T+1,)
        before = np.asarray(g.log10_norms, dtype=float)  # (T+1,)
        on = c.threshold > 0
        shift = math.log10(c.scale) if on and c.scale > 0 else 0.0
        after = before + shift
        lo, hi = window(before, after)
        if (lo, hi) != self.lag_window:
            self.lag_window = (lo, hi)
            self.lag_plot.setYRange(lo, hi, padding=0.03)
            self.lag_plot.getAxis("left").setTicks(decade_ticks(lo, hi))
        self.lag_plot.setXRange(0, lags[-1], padding=0.02)
        self.before.setData(lags, np.maximum(before, lo - 1.0))
        self.after.setVisible(on)
        self.after.setData(lags, np.maximum(after, lo - 1.0))
        self.after_label.setVisible(on and shift < 0)
        ok = np.isfinite(before)
        if ok.any():  # the labels at the curves' right ends
            last = int(np.flatnonzero(ok)[-1])
            self.before_label.setPos(lags[last], min(before[last], hi))
            self.after_label.setPos(lags[last], max(after[last], lo))

        norms = np.asarray(c.batch_norms, dtype=float)  # (B,)
        with np.errstate(divide="ignore", invalid="ignore"):
            lb = np.log10(norms)
            la = np.log10(c.batch.norm_after) if c.batch is not None else lb
            lt = math.log10(c.threshold) if on else np.nan
        blo, bhi = window(lb, la, [lt] if on else [], span=8)
        blo = min(blo, bhi - 2)
        if (blo, bhi) != self.batch_window:
            self.batch_window = (blo, bhi)
            self.batch_plot.setYRange(blo, bhi, padding=0.03)
            self.batch_plot.getAxis("left").setTicks(decade_ticks(blo, bhi, most=4))
        n = len(norms)
        if n != self.batch_n:
            self.batch_n = n
            self.batch_plot.setXRange(0.4, n + 0.6, padding=0)
        x = np.arange(1, n + 1, dtype=float)
        fb = np.where(np.isfinite(lb), lb, bhi)
        fa = np.where(np.isfinite(la), la, bhi)
        self.bars_before.setOpts(x=x - 0.2, y0=blo - 1.0, height=np.maximum(fb - blo + 1.0, 0))
        self.bars_after.setOpts(x=x + 0.2, y0=blo - 1.0, height=np.maximum(fa - blo + 1.0, 0))
        self.bars_after.setVisible(on)
        self.threshold.setVisible(on)
        if on:
            self.threshold.setValue(lt)
        self.data = (c, g)
        self._header(c, g)

    def _header(self, c, g) -> None:
        t = self.theme
        pc, cc = plain_color(t), clipped_color(t)
        if c.threshold <= 0:
            text = (f'clipping off (threshold 0): ‖∇<sub>θ</sub>L‖ = '
                    f'<span style="color:{pc}">{number(c.norm_before)}</span>')
        else:
            k = int(np.count_nonzero(c.batch.clipped)) if c.batch is not None else 0
            n = len(c.batch_norms)
            text = (f"clip at {c.threshold:g}: {k} of {n} updates clipped "
                    f"({100 * c.share_clipped:.0f}%) · this one "
                    f'<span style="color:{pc}">{number(c.norm_before)}</span> → '
                    f'<span style="color:{cc}">{number(c.norm_after)}</span> '
                    f"(×{number(c.scale)} at every lag)")
        self.text = text
        self.header.setText(f'<span style="color:{t.foreground}">{text}</span>',
                            size=f"{t.legend_pt}pt")


PANEL = ClipNormPanel
