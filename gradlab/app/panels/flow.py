"""FlowPanel: |dL/dh_t| per unit and time as a heatmap on a logarithmic colour scale.

Each pixel is log10 |dL/dh_t,i| (``GradientFlow.log10_units``, scaled form: true values
far beyond float64's range), so the gradient is seen flowing back from the loss at step T
(right) towards step 1 (left) and fading or flaring as it goes. The colour levels are
fixed by the config, never by the data: centred on the gradient's size at lag 0 (a whole
decade, the loss's own gradient, which dragging rho does not change) and as many decades
each way as the gradient panel's y window, so a colour here is a height there. The colour
bar is labelled in powers of ten. An exact zero (-inf) is painted grey and a gradient lost
to overflow (nan) in the overflow colour; a key under the plot says which is which when
either occurs. Cursor: a vertical line at t; the backward animation uncovers T..(1-f)T.
"""

from __future__ import annotations

import numpy as np

from ..theme import Theme, style_plot
from ._decades import decade_ticks
from ._heat import SEQUENTIAL, Heatmap, Scrub, step_of
from .base import Panel
from .gradient import decades

X_LABEL = "time step t"
Y_LABEL = "unit"


def levels_for(steps: int, lag0: float) -> tuple[float, float]:
    """(lo, hi) in decades: ``decades(steps)`` each way around lag 0's whole decade."""
    d = decades(steps)
    centre = float(np.round(lag0)) if np.isfinite(lag0) else 0.0
    return centre - d, centre + d


class FlowPanel(Panel):
    name = "flow"
    subtitle = "|∂L/∂h<sub>t</sub>| per unit and time step, colour in decades"
    measures = ("gradient",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.heat = Heatmap(self.plot)
        self.scrub = Scrub(self.graphics, self.cursor_moved.emit,
                           lambda x: step_of(x, self.heat.steps))
        self.scrub.plots.append(self.plot)
        self.heat.colorbar.axis.enableAutoSIPrefix(False)
        self.key = self.graphics.addLabel("", row=1, col=0)
        self._key = (False, False)
        self._phase, self._fraction = "done", 1.0
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title=None, x=X_LABEL, y=Y_LABEL)
        self.plot.showGrid(x=False, y=False)
        self.heat.neg_inf = t.muted
        self.heat.apply_theme(t, SEQUENTIAL.get(t.name, "CET-L6"))
        self._set_ticks()
        self._set_key(*self._key, force=True)

    def _set_ticks(self) -> None:
        self.heat.set_bar_ticks(decade_ticks(*self.heat.levels)[1])

    def _set_key(self, zeros: bool, nans: bool, force: bool = False) -> None:
        if (zeros, nans) == self._key and not force:
            return
        self._key = (zeros, nans)
        t = self.theme
        parts = []
        if zeros:
            parts.append(f'<span style="color:{t.muted}">■</span> exactly 0')
        if nans:
            parts.append(f'<span style="color:{t.overflow}">■</span> lost to overflow (nan)')
        text = "&nbsp;&nbsp;&nbsp;".join(parts)
        self.key.setText(f'<span style="color:{t.foreground}">{text}</span>',
                         size=f"{t.legend_pt}pt")
        # the key's row takes no room while there is nothing to explain
        self.key.setVisible(bool(parts))
        self.key.setMaximumHeight(1e6 if parts else 0)
        self.key.setMinimumHeight(self.key.item.boundingRect().height() if parts else 0)

    def frame(self, config, lag0: float = 0.0) -> None:
        lo, hi = levels_for(config.steps, lag0)
        if (lo, hi) != self.heat.levels:
            self.heat.set_levels(lo, hi)
            self._set_ticks()
        self.heat.set_frame(config.steps, config.hidden)
        self.heat.reveal(self._phase, self._fraction)

    def show(self, snapshot) -> None:
        g = snapshot["gradient"]
        units = g.log10_units  # (T, n) log10 |dL/dh_t|, row t-1 for step t
        self.frame(snapshot.config, g.log10_norms[0])
        self.heat.set_values(units)
        self._set_key(bool(np.isneginf(units).any()), bool(np.isnan(units).any()))

    def set_cursor(self, t: int | None) -> None:
        self.heat.set_cursor(t)

    def set_reveal(self, phase: str, fraction: float) -> None:
        """'forward': no gradient yet (all covered); 'backward': steps T..(1-f)T; 'done'."""
        self._phase = {"forward": "hidden", "backward": "backward"}.get(phase, "done")
        self._fraction = fraction
        self.heat.reveal(self._phase, fraction)


PANEL = FlowPanel
