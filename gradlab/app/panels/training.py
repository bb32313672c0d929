"""TrainingPanel: how the encoder-decoder learns, against the number of updates.

One plot, two scales: exact-match accuracy on held-out sequences (the share decoded
entirely right, left axis, %) and the loss (right axis, log scale): the minibatch loss of
every update (thin) and the held-out loss at every frame (thick). The title gives the
current accuracy. The x axis spans the run's planned updates from the start, so the curves
grow to the right as training goes on.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.measures.attention import TrainingFrame

from ..theme import Theme, pen, style_axis, style_plot
from ._frames import FramePanel, plain

LOSS_RANGE = (-4.0, 1.0)  # log10 of the loss shown on the right axis


def _pow10(k: int) -> str:
    return {-4: "10⁻⁴", -3: "0.001", -2: "0.01", -1: "0.1", 0: "1", 1: "10"}.get(k, f"1e{k}")


class TrainingPanel(FramePanel):
    name = "training"
    subtitle = "learning: held-out exact match and loss"

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = plain(self.graphics.addPlot(row=0, col=0))
        self.plot.setYRange(0.0, 100.0, padding=0.1)  # room for the 0 and 100 labels
        self.plot.getAxis("left").setTicks([[(v, f"{v}") for v in (0, 25, 50, 75, 100)]])
        # the loss lives in a second view box over the same area, on the right axis
        self.loss_view = pg.ViewBox(enableMouse=False, enableMenu=False)
        self.plot.showAxis("right")
        self.plot.scene().addItem(self.loss_view)
        right = self.plot.getAxis("right")
        right.linkToView(self.loss_view)
        right.setTicks([[(k, _pow10(k)) for k in range(-4, 2)]])
        self.loss_view.setXLink(self.plot)
        self.loss_view.setYRange(*LOSS_RANGE, padding=0.02)
        self.loss_view.disableAutoRange()
        self.plot.vb.sigResized.connect(self._align_views)
        self.batch_loss = pg.PlotDataItem(antialias=True)
        self.eval_loss = pg.PlotDataItem(antialias=True)
        self.loss_view.addItem(self.batch_loss)
        self.loss_view.addItem(self.eval_loss)
        self.accuracy = self.plot.plot(antialias=True, symbol="o")
        self.updates = 500
        self._span = None
        self.apply_theme(theme)

    def _align_views(self, *_):
        self.loss_view.setGeometry(self.plot.vb.sceneBoundingRect())

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title="", x="updates", y="exact %")
        self.plot.setTitle(None)
        style_axis(self.plot.getAxis("right"), t, "loss")
        self.plot.getAxis("left").setTextPen(pg.mkPen(t.grad))
        self.plot.getAxis("right").setTextPen(pg.mkPen(t.reference))
        self._title()
        self.accuracy.setPen(pen(t.grad, t.line_width))
        self.accuracy.setSymbolBrush(pg.mkBrush(t.grad))
        self.accuracy.setSymbolPen(pg.mkPen(t.background, width=1))
        self.accuracy.setSymbolSize(9)
        self.batch_loss.setPen(pen(t.reference + "80", 1.5))
        self.eval_loss.setPen(pen(t.reference, t.line_width))
        self.set_key(
            f'<span style="color:{t.grad}">━● exact match</span>&nbsp;&nbsp; '
            f'<span style="color:{t.reference}">━ loss</span>')

    def frame(self, config) -> None:
        """The x axis spans ``config.train_updates``."""
        self.updates = config.train_updates
        self._set_span()

    def show(self, snapshot) -> None:
        self.updates = snapshot.config.train_updates
        super().show(snapshot)
        self._set_span()

    def show_frame(self, frame: TrainingFrame) -> None:
        self.current = frame
        self._set_span()
        x = np.asarray(frame.frame_updates, dtype=float)
        self.accuracy.setData(x, 100.0 * np.asarray(frame.frame_accuracy))
        n = len(frame.losses)
        with np.errstate(divide="ignore", invalid="ignore"):
            batch = np.log10(np.asarray(frame.losses))
            held = np.log10(np.asarray(frame.frame_eval_loss))
        self.batch_loss.setData(np.arange(1, n + 1, dtype=float), batch, connect="finite")
        self.eval_loss.setData(x, held, connect="finite")
        self._title()

    def _set_span(self) -> None:
        f = self.current
        span = max(self.updates, f.planned if f else 0, f.update if f else 0)
        if span != self._span:
            self._span = span
            self.plot.setXRange(0.0, float(span), padding=0.02)

    def _title(self) -> None:
        f = self.current
        text = "exact match" if f is None else f"exact match {100 * f.accuracy:.0f} %"
        self.headline.setText(text)


PANEL = TrainingPanel
