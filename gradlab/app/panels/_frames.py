"""FramePanel: the base of the attention layout's panels, which draw TrainingFrames.

A TrainingFrame (``gradlab.measures.attention``) comes from two places: the lab's
'attention' measure (the untrained model of the config, through ``show(snapshot)``) and the
training runner (``show_frame(frame)``, every few hundred milliseconds while it trains).
``show`` leaves a newer picture of the same run alone, so redrawing the lab's snapshot (a
theme change, another control) never throws the trained picture away. Also here: plots
that neither pan nor zoom, and titles that never widen their panel.
"""

from __future__ import annotations

import pyqtgraph as pg

from gradlab.measures.attention import TrainingFrame

from ..theme import Theme
from .base import Panel


def plain(plot: pg.PlotItem) -> pg.PlotItem:
    """A plot that neither pans, zooms nor autoscales (the frame follows the data)."""
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.disableAutoRange()
    return plot


def set_title(plot: pg.PlotItem, text: str, t: Theme, pt: int | None = None) -> None:
    """A plot title in the theme that never widens the panel (a long one is cut instead)."""
    plot.setTitle(text, color=t.foreground, size=f"{pt or t.title_pt}pt")
    plot.titleLabel.setMinimumWidth(0)


class FramePanel(Panel):
    """A panel that draws TrainingFrames: subclasses implement ``show_frame``."""

    measures = ("attention",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.current: TrainingFrame | None = None

    def show(self, snapshot) -> None:
        """The config's untrained model, unless a newer frame of the same run is shown."""
        frame = snapshot["attention"]
        cur = self.current
        if cur is not None and cur.spec == frame.spec and cur.update > frame.update:
            return
        self.show_frame(frame)

    def show_frame(self, frame: TrainingFrame) -> None:
        raise NotImplementedError
