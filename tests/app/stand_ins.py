"""Small stand-in panels that follow the Panel contract, so the window is tested on its own.

Each draws something simple from its measure (a curve or an image) and records what the
window asked of it: the configs shown, the cursor, the reveal phases, the themes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.app.panels.base import Panel
from gradlab.app.theme import pen, style_plot


class StandIn(Panel):
    """Draws a curve (1-d data) or an image (2-d data) from its first measure."""

    title = ""

    def __init__(self, theme):
        super().__init__(theme)
        self.plot = self.graphics.addPlot()
        self.curve = self.plot.plot()
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.hide()
        self.shown: list = []
        self.cursor = None
        self.reveals: list = []
        self.themes: list = []
        self.frames: list = []
        self.apply_theme(theme)

    def data(self, snapshot):
        return None

    def show(self, snapshot) -> None:
        self.shown.append(snapshot.config)
        data = self.data(snapshot)
        if data is None:
            return
        data = np.asarray(data, dtype=float)
        data = np.where(np.isfinite(data), data, 0.0)
        if data.ndim == 1:
            self.curve.setData(np.arange(len(data)), data)
        else:
            self.image.setImage(data, autoLevels=True)

    def frame(self, config) -> None:
        self.frames.append(config)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.themes.append(theme)
        style_plot(self.plot, theme, title=self.title or self.name, x="t", y="")
        self.curve.setPen(pen(theme.grad, theme.line_width))
        self.cursor_line.setPen(pen(theme.accent, 2))

    def set_cursor(self, t) -> None:
        self.cursor = t
        self.cursor_line.setVisible(t is not None)
        if t is not None:
            self.cursor_line.setPos(t)

    def set_reveal(self, phase, fraction) -> None:
        self.reveals.append((phase, fraction))


def _make(name, measures, data=None, subtitle=None):
    attrs = {"name": name, "measures": measures,
             "subtitle": subtitle or f"stand-in {name}: what this view shows, in one line"}
    if data is not None:
        attrs["data"] = lambda self, snap: data(snap)
    return type(f"StandIn_{name}", (StandIn,), attrs)


STAND_INS = {
    "gradient": _make("gradient", ("gradient",), lambda s: s["gradient"].log10_norms),
    "flow": _make("flow", ("gradient",), lambda s: s["gradient"].log10_units),
    "states": _make("states", ("states",), lambda s: s["states"].h),
    "gates": _make("gates", ("gates",), lambda s: s["gates"].values[s["gates"].names[0]]),
    "eigen": _make("eigen", ("eigen", "step_eigen"), lambda s: np.abs(s["eigen"].eigvals)),
    "spectrum": _make("spectrum", ("spectrum",), lambda s: s["spectrum"].log10_sv[:, 0]),
    "leaky": _make("leaky", ("leaky",)),
    "cells": _make("cells", ("cells",)),
    "alignment": _make("alignment", ("attention",), lambda s: s["attention"].alignment),
    "training": _make("training", ("attention",), lambda s: s["attention"].frame_accuracy),
    "encgrad": _make("encgrad", ("attention",), lambda s: s["attention"].grad_without),
    "cliff": _make("cliff", ("cliff", "descent"), lambda s: s["cliff"].log10_grad_norm),
    "descent": _make("descent", ("descent",)),
    "clipnorm": _make("clipnorm", ("clipping", "gradient")),
}
