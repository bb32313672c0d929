"""SpectrumPanel: every singular value of ds_T/ds_{T-l} against the lag, and Lyapunov exponents.

Left, the fan: each of the d singular values of the Jacobian product over l steps, on a
log axis (decades), so every direction a gradient can take back in time is visible, not
just its norm. The top edge (largest singular value, thick) is the fastest-growing or
slowest-vanishing direction, the bottom edge (thin) the fastest-vanishing one; the
directions between them are one faint item. Guides: σ_max(W)^l (the bound of a linear
RNN) and ρ^l (its eventual rate). Right: the Lyapunov exponents of the forward dynamics
(average log growth per step, natural log), with the zero line between growing and
shrinking directions.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..theme import Theme, pen, style_plot
from ._decades import (
    X_LABEL,
    X_MARGIN,
    DecadeAxis,
    DecadeRange,
    ExitMarks,
    RoundAxis,
    blend,
    click_to_cursor,
    fit_title,
    fit_x_label,
    nan_joined,
)
from .base import Panel

MAX_FAN_POINTS = 120_000  # the interior of the fan is thinned to about this many points
LYAP_TITLE = "Lyapunov λ<sub>i</sub>"


class SpectrumPanel(Panel):
    name = "spectrum"
    subtitle = ("spectrum: every singular value of the Jacobian over l steps back from T, "
                "and the Lyapunov exponents")
    measures = ("spectrum",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        g = self.graphics
        self.plot = g.addPlot(row=0, col=0, axisItems={"left": DecadeAxis("left"),
                                                        "bottom": RoundAxis("bottom")})
        self.lyap_plot = g.addPlot(row=0, col=1, axisItems={"bottom": RoundAxis("bottom")})
        g.ci.layout.setColumnStretchFactor(0, 3)
        g.ci.layout.setColumnStretchFactor(1, 1)
        for p in (self.plot, self.lyap_plot):
            p.setMouseEnabled(x=False, y=False)
            p.setMenuEnabled(False)
            p.hideButtons()
            p.disableAutoRange()
        # the key sits under the fan (a legend box inside would cover curves)
        self.key = g.addLabel("", row=1, col=0, colspan=2)
        # one item for the interior of the fan (nan-separated), the two edges on top
        self.fan = pg.PlotDataItem(connect="finite", antialias=False)
        self.bottom = pg.PlotDataItem(connect="finite", antialias=True)
        self.top = pg.PlotDataItem(connect="finite", antialias=True)
        self.sigma_guide = pg.PlotDataItem(antialias=True)
        self.rho_guide = pg.PlotDataItem(antialias=True)
        for item in (self.fan, self.bottom, self.top):
            self.plot.addItem(item)
        for item in (self.bottom, self.top):  # long horizons: about one point per pixel
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
        for item in (self.sigma_guide, self.rho_guide):  # guides may leave the frame
            self.plot.addItem(item, ignoreBounds=True)
        self.exits = ExitMarks(self.plot, 2)  # where the guides leave the frame
        self._same_guides = False  # sigma_max(W) = rho (W normal): one guide drawn
        self.top.setZValue(5)
        self.bottom.setZValue(4)
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.cursor.hide()
        self.cursor.setZValue(8)

        self.exponents = pg.PlotDataItem(symbol="o", antialias=True)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.lyap_plot.addItem(self.exponents)
        self.lyap_plot.addItem(self.zero, ignoreBounds=True)

        self.yrange = DecadeRange()
        self._steps = None
        click_to_cursor(self, self.plot, lambda: self._steps)
        self.plot.vb.sigResized.connect(lambda *_: fit_x_label(self.plot, self.theme))
        self._lags = 0
        self._cursor_t = None
        self._sv = (np.zeros(0), np.zeros((0, 1)))  # lags (L,), log10 sv (L, d) last shown
        self._reveal = ("done", 1.0)
        self._title = "σ<sub>i</sub> of ∂h<sub>T</sub>/∂h<sub>T−l</sub>"
        self.apply_theme(theme)

    # -- contract -------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title=self._title, x=X_LABEL, y="σ<sub>i</sub>")
        fit_x_label(self.plot, t)
        style_plot(self.lyap_plot, t, title=LYAP_TITLE, x="i", y=None)
        fit_title(self.plot)
        fit_title(self.lyap_plot)
        self.top.setPen(pen(t.grad, t.line_width))
        self.bottom.setPen(pen(t.grad, max(1.0, 0.5 * t.line_width)))
        self.fan.setPen(pg.mkPen(blend(t.grad, t.background, 0.45), width=1))  # opaque: fast
        self.sigma_guide.setPen(pen(t.foreground, t.ref_width, dashed=True))
        self.rho_guide.setPen(pen(t.reference, t.ref_width, dashed=True))
        self.cursor.setPen(pen(t.muted, t.ref_width, dashed=True))
        self.exponents.setPen(pen(t.grad, max(1.0, 0.5 * t.line_width)))
        self.exponents.setSymbolBrush(pg.mkBrush(t.grad))
        self.exponents.setSymbolPen(pg.mkPen(t.background, width=1))
        self.exponents.setSymbolSize(max(6, t.tick_pt // 2 + 2))
        self.zero.setPen(pen(t.reference, t.ref_width))
        self.lyap_plot.getAxis("left").enableAutoSIPrefix(False)
        self.lyap_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.exits.style(t, (t.foreground, t.reference))
        self._write_key()

    def _write_key(self) -> None:
        t = self.theme
        g, r, f = t.grad, t.reference, t.foreground
        self.key.setText(
            f'<span style="color:{g}; font-weight:bold">━━ largest σ<sub>1</sub></span>'
            f'&nbsp;&nbsp;&nbsp;<span style="color:{g}">── smallest σ<sub>d</sub></span><br>'
            + (f'<span style="color:{r}">╍╍ σ<sub>max</sub>(W)<sup>l</sup> = ρ<sup>l</sup>'
               "</span>" if self._same_guides else
               f'<span style="color:{f}">╍╍ σ<sub>max</sub>(W)<sup>l</sup></span>'
               f'&nbsp;&nbsp;&nbsp;<span style="color:{r}">╍╍ ρ<sup>l</sup></span>'),
            size=f"{t.legend_pt}pt")

    def frame(self, config) -> None:
        if config.steps != self._steps:
            self._steps = config.steps
            span = self._lags or config.steps
            self.plot.setXRange(-X_MARGIN * span, (1 + X_MARGIN) * span, padding=0)
            self.set_cursor(self._cursor_t)
        self.plot.setYRange(self.yrange.lo, self.yrange.hi, padding=0)

    def show(self, snapshot) -> None:
        if "spectrum" not in snapshot:  # expensive: it follows the cheap views
            return
        sp = snapshot["spectrum"]
        c = snapshot.config
        lags = np.asarray(sp.lags, dtype=float)  # (L,)
        sv = np.asarray(sp.log10_sv, dtype=float)  # (L, d)
        L, d = sv.shape
        self._sv = (lags, sv)
        self._paint_fan()
        self.sigma_guide.setData(lags, sp.log10_sigma_max)
        self.rho_guide.setData(lags, sp.log10_rho)

        state = "h" if sp.state_label == "h" else "s"
        title = f"σ<sub>i</sub> of ∂{state}<sub>T</sub>/∂{state}<sub>T−l</sub>"
        if sp.state_label != "h":
            title += f", s = {sp.state_label}"
        if sp.truncated:
            title += f" · last {L} of {c.steps}"
        if title != self._title:
            self._title = title
            self.plot.setTitle(title, color=self.theme.foreground,
                               size=f"{self.theme.title_pt}pt")
            fit_title(self.plot)
        if L != self._lags or c.steps != self._steps:
            self._lags = L
            self._steps = c.steps
            self.plot.setXRange(-X_MARGIN * L, (1 + X_MARGIN) * L, padding=0)
        if self.yrange.update(sv):
            self.plot.setYRange(self.yrange.lo, self.yrange.hi, padding=0)
        same = bool(np.allclose(sp.log10_sigma_max, sp.log10_rho, rtol=1e-6, atol=1e-9))
        if same != self._same_guides:
            self._same_guides = same
            self._write_key()
        for i, guide in enumerate((sp.log10_sigma_max, sp.log10_rho)):
            if i == 0 and same:  # normal W: the two guides coincide, mark one
                guide = np.zeros(0)
            self.exits.update(i, lags, guide, self.yrange.lo, self.yrange.hi)

        ly = np.asarray(sp.lyapunov, dtype=float)  # (d,)
        idx = np.arange(1, len(ly) + 1, dtype=float)
        ok = np.isfinite(ly)
        self.exponents.setData(idx[ok], ly[ok])
        self.exponents.setSymbol("o" if len(ly) <= 64 else None)
        self.lyap_plot.setXRange(0.5, max(len(ly), 1) + 0.5, padding=0.02)
        if ok.any():
            lo, hi = min(float(ly[ok].min()), 0.0), max(float(ly[ok].max()), 0.0)
            pad = 0.1 * max(hi - lo, 1e-3)
            self.lyap_plot.setYRange(lo - pad, hi + pad, padding=0)
        self.set_cursor(self._cursor_t)

    def set_reveal(self, phase: str, fraction: float) -> None:
        """The gradient flowing back: while 'backward' the fan reaches lag fraction * L;
        during 'forward' it is hidden; 'done' draws it whole."""
        self._reveal = (phase, float(fraction))
        self._paint_fan()

    def _paint_fan(self) -> None:
        lags, sv = self._sv  # (L,), (L, d)
        phase, fraction = self._reveal
        n = {"forward": 0, "backward": int(np.ceil(fraction * len(lags)))}.get(phase,
                                                                              len(lags))
        lags, sv = lags[:n], sv[:n]
        d = sv.shape[1]
        self.top.setData(lags, sv[:, 0])
        if d > 1:
            self.bottom.setData(lags, sv[:, -1])
        else:
            self.bottom.setData([], [])
        inner = sv[:, 1:-1]  # (n, d-2)
        if inner.size:
            stride = max(1, int(np.ceil(inner.size / MAX_FAN_POINTS)))
            x, y = nan_joined(lags[::stride], inner[::stride].T)
            self.fan.setData(x, y)
        else:
            self.fan.setData([], [])

    def set_cursor(self, t: int | None) -> None:
        """A vertical line at lag T - t (the spectrum covers lags 1..L)."""
        self._cursor_t = t
        steps = self._steps
        if not t or steps is None or not 1 <= steps - t <= max(self._lags, 1):
            self.cursor.hide()
            return
        self.cursor.setValue(steps - t)
        self.cursor.show()


PANEL = SpectrumPanel
