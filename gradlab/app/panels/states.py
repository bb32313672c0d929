"""StatesPanel: the hidden states h_t as a heatmap, units (down) against time (across).

Diverging colour map with symmetric levels fixed by the config (``States.level``), never by
the data, so a colour means the same value in every frame: [-1, 1] for bounded states
(tanh, sigmoid, the gated cells), +-max(1, 10 * input scale) for relu and linear, whose
values beyond the level saturate (the title then says how large they got). Non-finite
states (overflow) are painted in the theme's overflow colour, with a dashed line and a
label at the step where the overflow began. The time cursor is a vertical line at t; the
forward animation uncovers steps 1..fraction*T.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..theme import Theme, pen, qfont, style_plot
from ._heat import Heatmap, Scrub, finite_peak, place_beside, step_of
from .base import Panel
from .gradient import power_text

X_LABEL = "time step t"
Y_LABEL = "unit"


class StatesPanel(Panel):
    name = "states"
    subtitle = "Hidden states h<sub>t</sub> per unit and time step"
    measures = ("states",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = self.graphics.addPlot()
        self.heat = Heatmap(self.plot)
        self.scrub = Scrub(self.graphics, self.cursor_moved.emit,
                           lambda x: step_of(x, self.heat.steps))
        self.scrub.plots.append(self.plot)
        self.overflow_line = pg.InfiniteLine(angle=90, movable=False)
        self.overflow_label = pg.TextItem(anchor=(0.0, 0.0))
        for item, z in ((self.overflow_line, 6), (self.overflow_label, 7)):
            item.setZValue(z)
            item.setVisible(False)
            self.plot.addItem(item, ignoreBounds=True)
        # a note in the lower left corner when states leave the colour range, which then
        # saturates: "max |h| = 1.7×10³⁰⁸" (inside the plot: a title would force the panel
        # wider than its place)
        self.clipped = pg.TextItem(anchor=(0.0, 1.0))
        self.clipped.setZValue(7)
        self.clipped.setVisible(False)
        self.plot.addItem(self.clipped, ignoreBounds=True)
        self._title = None
        self._level = None
        self._phase, self._fraction = "done", 1.0
        self._overflow = None  # (step, T, n) of the marked overflow
        self.plot.getViewBox().sigResized.connect(self._place_label)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title=None, x=X_LABEL, y=Y_LABEL)
        self.clipped.setColor(t.foreground)
        self.clipped.fill = pg.mkBrush(t.background + "d8")
        self.clipped.setFont(qfont(t, t.legend_pt))
        self.plot.showGrid(x=False, y=False)
        self.heat.apply_theme(t, t.cmap)
        self.overflow_line.setPen(pen(t.overflow, t.ref_width, dashed=True))
        self.overflow_label.setColor(t.foreground)
        self.overflow_label.fill = pg.mkBrush(t.background + "e0")
        self.overflow_label.border = pen(t.overflow, 2)
        self.overflow_label.setFont(qfont(t, t.legend_pt, bold=True))

    def frame(self, config) -> None:
        from gradlab.measures.states import level

        self._set_level(level(config))
        self.heat.set_frame(config.steps, config.hidden)
        self.heat.reveal(self._phase, self._fraction)

    def _set_level(self, lv: float) -> None:
        if lv == self._level:
            return
        self._level = lv
        self.heat.set_levels(-lv, lv)
        self.heat.set_bar_ticks([(-lv, f"−{lv:g}"), (0.0, "0"), (lv, f"{lv:g}")])

    def show(self, snapshot) -> None:
        s = snapshot["states"]
        h = s.h  # (T, n)
        steps, n = h.shape
        self.frame(snapshot.config)
        self._set_level(s.level)
        self.heat.set_values(h, clip=True)
        peak = finite_peak(h)
        title = None if peak <= s.level else (
            f"max |h| = {power_text(np.log10(peak))}")
        if title != self._title:
            self._title = title
            self.clipped.setText(title or "")
        self.clipped.setVisible(title is not None)
        self.clipped.setPos(0.5, n + 0.5)  # the lower left corner (unit n is at the bottom)
        k = s.overflow_step
        self._overflow = None if k is None else (k, steps, n)
        self.overflow_line.setVisible(k is not None)
        self.overflow_label.setVisible(k is not None)
        if k is not None:
            self.overflow_line.setValue(k - 0.5)
            self.overflow_label.setText(f"state overflows\nat step {k}")  # narrow panels
            self._place_label()

    def _place_label(self) -> None:
        """Beside the overflow line, where its text fits (again after a resize)."""
        if self._overflow is not None:
            k, _, n = self._overflow
            place_beside(self.plot, self.overflow_label, k - 0.5, 0.5 + 0.1 * n, valign=0.0,
                         prefer="left")

    def set_cursor(self, t: int | None) -> None:
        self.heat.set_cursor(t)

    def set_reveal(self, phase: str, fraction: float) -> None:
        """'forward': the states fill in left to right; the backward phase shows them all."""
        self._phase = "forward" if phase == "forward" else "done"
        self._fraction = fraction
        self.heat.reveal(self._phase, fraction)


PANEL = StatesPanel
