"""FramePanel: the base of the attention layout's panels, which draw TrainingFrames.

A TrainingFrame (``gradlab.measures.attention``) comes from two places: the lab's
'attention' measure (the untrained model of the config, through ``show(snapshot)``) and the
training runner (``show_frame(frame)``, every few hundred milliseconds while it trains).
``show`` leaves a newer picture of the same run alone, so redrawing the lab's snapshot (a
theme change, another control) never throws the trained picture away. Also here: plots
that neither pan nor zoom, and two text lines outside the plots (Qt labels that wrap, so a
long one never widens the panel): ``headline`` above the plots in title type (what the
panel says now), ``key`` below them in legend type (which curve is which).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

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


class FramePanel(Panel):
    """A panel that draws TrainingFrames: subclasses implement ``show_frame``."""

    measures = ("attention",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.current: TrainingFrame | None = None
        box = self.widget.layout()
        self.headline = QLabel(objectName="headline")
        self.key = QLabel(objectName="key")
        for label in (self.headline, self.key):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setTextFormat(Qt.TextFormat.RichText)
        box.insertWidget(box.indexOf(self.graphics), self.headline)
        box.addWidget(self.key)
        self.key.hide()

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        self.headline.setStyleSheet(f"color: {t.foreground}; background: {t.background}; "
                                    f"font-size: {t.title_pt}pt; padding: 0px 8px;")
        self.key.setStyleSheet(f"color: {t.foreground}; background: {t.background}; "
                               f"font-size: {t.legend_pt}pt; padding: 0px 8px 4px 8px;")

    def set_key(self, html: str) -> None:
        """The key line under the plots (rich text; empty: hidden)."""
        self.key.setText(html)
        self.key.setVisible(bool(html))

    def show(self, snapshot) -> None:
        """The config's untrained model, unless a newer frame of the same run is shown."""
        frame = snapshot["attention"]
        cur = self.current
        if cur is not None and cur.spec == frame.spec and cur.update > frame.update:
            return
        self.show_frame(frame)

    def show_frame(self, frame: TrainingFrame) -> None:
        raise NotImplementedError
