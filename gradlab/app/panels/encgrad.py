"""EncoderGradientPanel: how much gradient reaches each encoder state, with attention and
without it.

||dL/dh_j|| against the source position j = 1..T, for the current weights, averaged over
a few held-out sequences; each curve divided by its own largest value (the two models'
losses, and so their scales, differ), on a log scale. With attention every h_j is one step
from every context vector: a level curve. Through the last encoder state only (the same
network with the attention removed), the gradient must cross the T - j recurrent Jacobians
between h_j and h_T and fades towards the start of the source. The title gives each
curve's max/min.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.measures.attention import TrainingFrame

from ..theme import Theme, pen, style_plot
from ._frames import FramePanel, plain

FLOOR = -3.0  # log10 of the lowest value shown (curves are divided by their max)



def normalised_log10(curve: np.ndarray | None) -> np.ndarray | None:
    """log10(curve / max(curve)), floored at FLOOR (None stays None)."""
    if curve is None:
        return None
    c = np.asarray(curve, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log10(c / c.max())
    return np.maximum(np.nan_to_num(y, nan=FLOOR, neginf=FLOOR), FLOOR)


class EncoderGradientPanel(FramePanel):
    name = "encgrad"
    subtitle = "gradient reaching each encoder state (×: max/min)"

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = plain(self.graphics.addPlot(row=0, col=0))
        self.plot.getAxis("left").setTicks(
            [[(k, {0: "1", -1: "0.1", -2: "0.01", -3: "0.001"}[k]) for k in range(-3, 1)]])
        self.plot.setYRange(FLOOR, 0.15, padding=0.02)
        self.without = self.plot.plot(antialias=True, symbol="s")
        self.with_ = self.plot.plot(antialias=True, symbol="o")
        self._T = None
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title="", x="source position j", y="‖∂L/∂h_j‖ ÷ max")
        self.plot.setTitle(None)
        self.headline.hide()
        self._key()
        self.with_.setPen(pen(t.grad, t.line_width))
        self.with_.setSymbolBrush(pg.mkBrush(t.grad))
        self.without.setPen(pen(t.reference, t.line_width, dashed=True))
        self.without.setSymbolBrush(pg.mkBrush(t.reference))
        for c in (self.with_, self.without):
            c.setSymbolPen(pg.mkPen(t.background, width=1))
            c.setSymbolSize(12)


    def show_frame(self, frame: TrainingFrame) -> None:
        self.current = frame
        x = np.asarray(frame.positions, dtype=float)
        T = len(x)
        if T != self._T:
            self._T = T
            self.plot.setXRange(0.5, T + 0.5, padding=0)
            self.plot.getAxis("bottom").setTicks([[(j, str(j)) for j in range(1, T + 1)]])
        w = normalised_log10(frame.grad_with)
        if w is None:
            self.with_.setData([], [])
        else:
            self.with_.setData(x, w)
        self.without.setData(x, normalised_log10(frame.grad_without))
        self._key()

    def drawn(self) -> dict[str, np.ndarray]:
        """The curves as drawn (log10 of curve / max): {'with': ..., 'without': ...}."""
        out = {"without": self.without.getData()[1]}
        y = self.with_.getData()[1]
        if y is not None and len(y):
            out["with"] = y
        return out

    def _key(self) -> None:
        t, f = self.theme, self.current
        rows = []
        if f is None or f.grad_with is not None:
            ratio = "" if f is None else f" ×{f.ratio(f.grad_with):.1f}"
            rows.append(f'<span style="color:{t.grad}">━● attention{ratio}</span>')
        ratio = "" if f is None else f" ×{f.ratio(f.grad_without):.0f}"
        rows.append(f'<span style="color:{t.reference}">╍■ last state only{ratio}</span>')
        self.set_key("&nbsp;&nbsp; ".join(rows))


PANEL = EncoderGradientPanel
