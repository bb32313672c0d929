"""What the clipping views share: still plots, pixel sizes, number formats, path colours.

The cliff, descent and clip-norm panels draw the same two runs (gradient descent without
and with clipping) in the same colours; the helpers here keep that in one place. No items
are created here.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

from ..theme import Theme, superscript_power

HEAT_CMAP = "CET-L1"  # grey ramp: the coloured paths stand out on it in both themes
HEAT_LEVELS = (-4.0, 1.0)  # log10 ||grad E||: flat plateaus dark, the cliff's band white
STEP_MS = 110  # one update of the descent animation (40 updates in 4.4 s)


def follow_stretch(panel) -> None:
    """Let the layout's row and column stretch size the panel, not its 600 x 500 size hint
    (QGridLayout honours stretch only in the space beyond the hints, and at 1280 x 720 there
    is none)."""
    from PySide6.QtWidgets import QSizePolicy

    ignored = QSizePolicy.Policy.Ignored
    for w in (panel.widget, panel.graphics):
        w.setSizePolicy(ignored, ignored)


def plain_plot(plot: pg.PlotItem) -> pg.PlotItem:
    """A plot that neither pans, zooms nor autoscales (the frame is fixed), and whose axes
    never rescale their tick values (no 'x0.001' SI prefixes)."""
    for side in ("left", "bottom"):
        plot.getAxis(side).setSIPrefixEnableRanges(())
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.disableAutoRange()
    return plot


def pixels(plot: pg.PlotItem) -> tuple[float, float]:
    """(x, y) size of one screen pixel in data units (a guess before the first layout)."""
    vb = plot.getViewBox()
    px = vb.viewPixelSize()
    if px[0] > 0 and vb.width() > 10:
        return abs(px[0]), abs(px[1])
    (x0, x1), (y0, y1) = vb.viewRange()
    return (x1 - x0) / 800.0, (y1 - y0) / 500.0


def plain_color(t: Theme) -> str:
    """The run without clipping."""
    return t.reference


def clipped_color(t: Theme) -> str:
    """The run with clipping."""
    return t.grad


def number(v: float) -> str:
    """A coordinate or norm for a label: '46', '-2.61', '1.3×10¹¹', '4×10⁻⁵', '∞'."""
    if not math.isfinite(v):
        return "∞" if v > 0 else ("−∞" if v < 0 else "nan")
    a = abs(v)
    if a == 0:
        return "0"
    if 1e-2 <= a < 1e4:
        digits = 2 if a < 10 else (1 if a < 100 else 0)
        return f"{v:.{digits}f}".replace("-", "−")
    k = math.floor(math.log10(a))
    m = a / 10.0 ** k
    if round(m, 1) >= 10.0:
        m, k = m / 10.0, k + 1
    sign = "−" if v < 0 else ""
    head = "" if round(m, 1) == 1.0 else f"{m:.1f}×"
    return f"{sign}{head}{superscript_power(k)}"


def clip_text(mode: str, threshold: float) -> str:
    """'‖g‖ ≤ 1' (by norm) or '|g_i| ≤ 0.5' (by value); 'clipping off' for threshold 0."""
    if threshold <= 0:
        return "clipping off (threshold 0)"
    bound = "‖g‖" if mode == "norm" else "|g<sub>i</sub>|"
    return f"{bound} ≤ {threshold:g}"


class Replay:
    """Reveals a descent update by update: ``draw(k)`` is called with k = 0, 1, ..., total
    (updates shown) every STEP_MS by a QTimer the panel owns through this object.

    ``show(key, total)``: a new run. When ``key`` (the start, lr and number of updates)
    differs from the last one the replay starts again from 0; otherwise (e.g. only the
    clip threshold moved) it keeps its place and draws at once. ``finish()`` shows all;
    ``set_fraction(f)`` shows a share (the window's animation key).

    A replay needs a running event loop to advance it: without one (a video rendered frame
    by frame, a synchronous test) a new run is drawn whole at once. ``live()`` says which;
    tests replace it.
    """

    def __init__(self, draw, parent=None):
        from PySide6.QtCore import QThread, QTimer

        self.live = lambda: QThread.currentThread().loopLevel() > 0
        self._draw = draw
        self.timer = QTimer(parent, interval=STEP_MS)
        self.timer.timeout.connect(self._tick)
        self.key = None
        self.total = 0
        self.shown = 0

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def show(self, key, total: int) -> None:
        self.total = int(total)
        if key != self.key:
            self.key = key
            if self.live():
                self.shown = 0
                self.timer.start()
            else:
                self.timer.stop()
        self.shown = min(self.shown, self.total) if self.running else self.total
        self._draw(self.shown)

    def restart(self) -> None:
        self.shown = 0
        self.timer.start()
        self._draw(0)

    def finish(self) -> None:
        self.timer.stop()
        self.shown = self.total
        self._draw(self.shown)

    def set_fraction(self, fraction: float) -> None:
        self.timer.stop()
        self.shown = int(round(min(max(fraction, 0.0), 1.0) * self.total))
        self._draw(self.shown)

    def _tick(self) -> None:
        if self.shown >= self.total:
            self.timer.stop()
            return
        self.shown += 1
        self._draw(self.shown)
        if self.shown >= self.total:
            self.timer.stop()


def reveal_replay(panel, phase: str, fraction: float) -> None:
    """The window's animation for a panel with a ``replay``: the forward half replays the
    updates, then every update stays shown."""
    if panel.descent is None:
        return
    if phase == "forward":
        panel.replay.set_fraction(fraction)
    else:
        panel.replay.finish()
