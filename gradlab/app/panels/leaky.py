"""LeakyPanel: the gradient against the lag for several leaks at once, and each memory horizon.

A leaky unit keeps 1 - a of its past at every step (time constant γ = 1/a), so the smaller
a, the flatter the curve and the further back the gradient reaches. One curve per leak of
``LeakFamily`` (the config's own leak drawn thick), a dot where each curve has fallen to
10⁻³ of its value at lag 0 (the memory horizon), and the key beside the plot with the
horizons in large type. Only the RNN has leaky units; for other cells the panel says so.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..theme import Theme, qfont
from ._decades import FamilyPanel, horizon_text

MAX_CURVES = 8  # the family (5 leaks) plus the config's own
NOT_RNN = "leaky units are an RNN option — switch the cell to RNN"


def leak_label(a: float, spread: str = "one") -> str:
    """'a = 0.5 (γ = 2)'; with per-unit leaks spread over [a, 1] 'a = 0.5…1'. The leak to
    the control's two decimals, as in the caption (a scene's animation passes 0.676959)."""
    shown = f"{round(a, 2):g}"
    if spread != "one" and a < 1.0:
        return f"a = {shown}…1"
    return f"a = {shown} (γ = {1.0 / a:.3g})"


class LeakyPanel(FamilyPanel):
    name = "leaky"
    subtitle = ("leaky units: gradient against lag for several leaks a = 1/γ; "
                "dots: memory horizon (fallen to 10⁻³)")
    measures = ("leaky",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self._build(MAX_CURVES)
        self.message = pg.TextItem(anchor=(0.5, 0.5))
        self.message.hide()
        self.plot.addItem(self.message, ignoreBounds=True)
        self.plot.vb.sigResized.connect(self._place_message)
        self.applies = True
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.message.setColor(theme.foreground)
        self.message.setFont(qfont(theme, theme.caption_pt, bold=True))
        self._place_message()

    def show(self, snapshot) -> None:
        if "leaky" not in snapshot:  # not computed (yet): keep the picture
            return
        fam = snapshot["leaky"]
        self.frame(snapshot.config)
        self._set_applies(fam.applies)
        if not fam.applies:
            self._draw(fam.lags, np.zeros((0, len(fam.lags))), [], -1, [])
            return
        steps = snapshot.config.steps
        self.key_title = ("memory horizon" if fam.spread == "one" else
                          "memory horizon<br>leaks per unit in [a, 1]")
        rows = [(leak_label(float(a), fam.spread), "", horizon_text(int(h), steps))
                for a, h in zip(fam.leaks, fam.horizons, strict=True)]
        self._draw(fam.lags, fam.log10_norms, rows, int(fam.current), fam.horizons)

    def _value_pt(self, t: Theme, current: bool) -> int:
        return t.summary_pt + 2 if current else t.legend_pt

    def horizons(self) -> dict[str, str]:
        """The memory horizons as drawn in the key: {leak label: '23 steps'}."""
        return dict(self.key_values())

    # -- not an RNN ---------------------------------------------------------------------------
    def _set_applies(self, applies: bool) -> None:
        if applies == self.applies:
            return
        self.applies = applies
        for axis in ("left", "bottom"):
            self.plot.showAxis(axis, applies)
        self.horizon_line.setVisible(applies)
        self.message.setVisible(not applies)
        if not applies:
            self._key_html = ""
            self.key.setText("")
        self._place_message()

    def _place_message(self, *_):
        if self.applies:
            return
        t = self.theme
        self.message.setHtml(f'<div style="text-align:center; color:{t.foreground}">'
                             f"{NOT_RNN}</div>")
        self.message.setTextWidth(max(200.0, 0.85 * self.plot.vb.width()))
        x0, x1 = self.plot.vb.viewRange()[0]
        y0, y1 = self.plot.vb.viewRange()[1]
        self.message.setPos(0.5 * (x0 + x1), 0.5 * (y0 + y1))


PANEL = LeakyPanel
