"""AlignmentPanel: where the decoder looks, a_{q,t} for target step q and source step t.

One example sequence, decoded greedily by the current weights: row q holds the attention
weights of decoding step q over the source steps (each row sums to one), on a fixed 0..1
colour scale. Outlined squares mark where the task says step q should look (the
anti-diagonal for reversal); the share of the mass on them is in the title. The source
tokens label the columns, the target tokens the rows on the left and the decoded tokens
(✗ where wrong) on the right. Stepping through the decoding (``set_cursor(q)``, keys ↓/↑,
a click on a row) frames one row and says in the title what that step wrote and where it
looked. Frames come from the training runner (``show_frame``) or, untrained, from the lab's
'attention' measure (``show``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from gradlab.measures.attention import TrainingFrame

from ..theme import Theme, pen, style_axis
from ._frames import FramePanel, plain

# weights 0..1: dark navy to cyan-white on the dark theme, paper white to deep blue on the
# light one; the expected-pattern squares are drawn in the theme's orange over either


def weight_map(t: Theme) -> pg.ColorMap:
    if t.name == "light":
        return pg.ColorMap([0.0, 0.5, 1.0], ["#ffffff", "#64b5f6", "#0b2a6f"])
    return pg.colormap.get("CET-L6")


PATTERN = {"reverse": "anti-diagonal", "copy": "diagonal", "sort": "sorting order"}



class AlignmentPanel(FramePanel):
    name = "alignment"
    subtitle = "row q: where output step q looks; □ where it should"

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = plain(self.graphics.addPlot(row=0, col=0))
        self.plot.invertY(True)
        self.plot.showAxis("right")
        self.plot.getViewBox().setAspectLocked(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.marks = pg.ScatterPlotItem(pxMode=False, symbol="s", size=0.84,
                                        brush=None)
        self.plot.addItem(self.marks)
        self.row_box = QGraphicsRectItem()
        self.row_box.setZValue(20)
        self.row_box.hide()
        self.plot.addItem(self.row_box, ignoreBounds=True)
        self.row = 0
        self._shape = None
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        self.apply_theme(theme)

    # -- the contract ---------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        self.image.setColorMap(weight_map(t))
        self.image.setLevels((0.0, 1.0))
        for side, label in (("bottom", "source x  (read)"), ("left", "target y  (written)"),
                            ("right", "decoded")):
            style_axis(self.plot.getAxis(side), t, label)
        self.marks.setPen(pen(t.reference, t.ref_width))
        box = pen(t.foreground, t.line_width)
        self.row_box.setPen(box)
        self._title()


    def show_frame(self, frame: TrainingFrame) -> None:
        """Draw ``frame`` (from the training runner): image, pattern, tick labels, title."""
        self.current = frame
        A = np.asarray(frame.alignment, dtype=np.float64)  # (Q, T)
        Q, T = A.shape
        self.image.setImage(A, autoLevels=False, levels=(0.0, 1.0))
        if self._shape != (Q, T):
            self._shape = (Q, T)
            self.image.setRect(QRectF(0.5, 0.5, T, Q))
            self.plot.setXRange(0.5, T + 0.5, padding=0)
            self.plot.setYRange(0.5, Q + 0.5, padding=0)
        q, t = np.nonzero(frame.expected)
        self.marks.setData(t + 1.0, q + 1.0)
        self._ticks(frame)
        self._place_row()
        self._title()

    def set_cursor(self, t: int | None) -> None:
        """Frame decoding step t (1..Q) of the example; None or 0: no step."""
        self.row = int(t or 0)
        self._place_row()
        self._title()

    # -- reading back (tests, scenes) -------------------------------------------------------
    def shown_alignment(self) -> np.ndarray:
        """The weights the image shows now, (Q, T)."""
        return np.asarray(self.image.image)

    def highlighted_row(self) -> int:
        """The framed decoding step (1..Q), 0 when none is framed."""
        return self.row if self.row_box.isVisible() else 0

    # -- drawing ------------------------------------------------------------------------
    def _ticks(self, f: TrainingFrame) -> None:
        T, Q = len(f.source), len(f.target)
        self.plot.getAxis("bottom").setTicks([[(j + 1, str(int(f.source[j])))
                                               for j in range(T)]])
        self.plot.getAxis("left").setTicks([[(q + 1, str(int(f.target[q])))
                                             for q in range(Q)]])
        self.plot.getAxis("right").setTicks([[
            (q + 1, str(int(f.decoded[q])) + ("" if f.correct[q] else " ✗"))
            for q in range(Q)]])

    def _place_row(self) -> None:
        f = self.current
        if f is None or not 1 <= self.row <= len(f.target):
            self.row_box.hide()
            return
        T = len(f.source)
        self.row_box.setRect(QRectF(0.5, self.row - 0.5, T, 1.0))
        self.row_box.show()

    def _title(self) -> None:
        f = self.current
        if f is None:
            text = "attention weights a(q, t)"
        elif 1 <= self.row <= len(f.target):
            q = self.row - 1
            j = int(np.argmax(f.alignment[q]))
            ok = "✓" if f.correct[q] else f"✗ (should be {int(f.target[q])})"
            text = (f"step {self.row}: looks at x{_sub(j + 1)} = {int(f.source[j])}, "
                    f"writes {int(f.decoded[q])} {ok}")
        else:
            where = PATTERN.get(f.spec.task, "pattern")
            text = f"{100 * f.share:.0f} % on the {where}"
        self.headline.setText(text)

    def _clicked(self, event) -> None:
        f = self.current
        vb = self.plot.getViewBox()
        if f is None or not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        q = int(round(vb.mapSceneToView(event.scenePos()).y()))
        if 1 <= q <= len(f.target):
            q = 0 if q == self.row else q  # a second click on the framed row lets go
            self.set_cursor(q)
            self.cursor_moved.emit(q)


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


PANEL = AlignmentPanel
