"""EigenPanel: the eigenvalues of the recurrent matrix W in the complex plane.

The unit circle (solid) is the border between vanishing and exploding: eigenvalues inside
shrink a signal at every step, outside they grow it. The dashed circle has radius rho, the
config's spectral radius. Equal aspect; the frame is fixed by the config (at least
[-1.6, 1.6]^2, wider only for rho above about 1.4) so it never jumps while dragging.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.config import LabConfig
from gradlab.lab import Snapshot

from ..theme import Theme, pen, style_plot

TITLE = "eigenvalues λ of W"
X_LABEL = "Re λ"
Y_LABEL = "Im λ"
_THETA = np.linspace(0.0, 2.0 * np.pi, 241)


def half_width(spectral_radius: float) -> float:
    """Half-width of the square frame for a given radius."""
    return max(1.6, 1.15 * spectral_radius)


class EigenPanel:
    """Owns a GraphicsLayoutWidget (``.widget``) with one equal-aspect plot."""

    def __init__(self, theme: Theme):
        self.widget = pg.GraphicsLayoutWidget()
        self.plot = self.widget.addPlot()
        self.plot.setAspectLocked(True, ratio=1.0)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        # a key under the plot instead of a legend box, which would cover eigenvalues
        self.key = self.widget.addLabel("", row=1, col=0)
        self.unit = self.plot.plot(np.cos(_THETA), np.sin(_THETA), antialias=True)
        self.rho_circle = self.plot.plot(antialias=True)
        self.points = self.plot.plot(pen=None, symbol="o", antialias=True)
        self._frame = None
        self.apply_theme(theme)

    def apply_theme(self, t: Theme) -> None:
        self.theme = t
        self.widget.setBackground(t.background)
        style_plot(self.plot, t, title=TITLE, x=X_LABEL, y=Y_LABEL)
        self.unit.setPen(pen(t.foreground, t.ref_width))
        self.rho_circle.setPen(pen(t.reference, t.ref_width, dashed=True))
        self.points.setSymbolBrush(pg.mkBrush(t.eig))
        self.points.setSymbolPen(pg.mkPen(t.background, width=1.5))
        self.points.setSymbolSize(14)
        self.key.setText(
            f'<span style="color:{t.foreground}">━━ |λ| = 1</span>&nbsp;&nbsp;&nbsp;'
            f'<span style="color:{t.reference}">╍╍ |λ| = ρ</span>',
            size=f"{t.legend_pt}pt")

    def show(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.eigvals`` (n,) and the circle of radius rho."""
        lam = snapshot.eigvals  # (n,) complex
        self.points.setData(lam.real, lam.imag)
        rho = snapshot.config.spectral_radius
        self.rho_circle.setData(rho * np.cos(_THETA), rho * np.sin(_THETA))
        self.frame(snapshot.config)

    def frame(self, config: LabConfig) -> None:
        """Set the square frame for ``config`` (also before any data)."""
        r = half_width(config.spectral_radius)
        if r != self._frame:
            self._frame = r
            self.plot.setXRange(-r, r, padding=0)
            self.plot.setYRange(-r, r, padding=0)
