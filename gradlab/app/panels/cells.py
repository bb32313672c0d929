"""CellsPanel: every registered cell's gradient against the lag, on the same input and radius.

One curve per cell of the registry (RNN, IndRNN, LSTM, GRU), drawn at the config's spectral
radius and init from the same inputs and loss (``CellsCompared``); the config's own cell is
drawn thick. The key beside the plot gives each cell's growth per step (10^slope of the
curve) and its memory horizon (where the gradient has fallen to 10⁻³ of lag 0, a dot).
"""

from __future__ import annotations

import numpy as np

from gradlab.cells import CELLS

from ..theme import Theme
from ._decades import FamilyPanel, horizon_text


def growth_text(g: float) -> str:
    """'×0.973 per step' (or '× ? per step' when unknown)."""
    if not np.isfinite(g):
        return "× ? per step"
    if g >= 1e4 or g < 1e-3:
        return f"×{g:.2e} per step"
    return f"×{g:.3f} per step"


class CellsPanel(FamilyPanel):
    name = "cells"
    subtitle = ("cells side by side: gradient against lag for every cell, same input and "
                "ρ; dots: memory horizon (fallen to 10⁻³)")
    measures = ("cells",)
    key_title = "growth · horizon"

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self._build(len(CELLS))
        self.apply_theme(theme)

    def show(self, snapshot) -> None:
        if "cells" not in snapshot:  # not computed (yet): keep the picture
            return
        res = snapshot["cells"]
        self.frame(snapshot.config)
        steps = snapshot.config.steps
        self.key_title = f"at ρ = {snapshot.config.spectral_radius:.2f}"
        rows = [(label, growth_text(float(g)), f"horizon {horizon_text(int(h), steps)}")
                for label, g, h in zip(res.labels, res.growth, res.horizons, strict=True)]
        self._draw(res.lags, res.log10_norms, rows, int(res.current), res.horizons)

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The curves as drawn: {cell label: (lags, log10 norms)}."""
        labels = [name for name, _ in self.key_values()]
        return {label: self.curves[i].getData() for i, label in enumerate(labels)}


PANEL = CellsPanel
