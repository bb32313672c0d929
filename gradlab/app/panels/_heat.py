"""Heatmap: one unit x time image inside a PlotItem, as the states, flow and gates panels draw it.

Time t = 1..T runs along x (pixel centres on the integers), units 1..n down y (unit 1 at
the top, like a matrix). Levels are set by the caller and never taken from the data, so a
colour means the same value in every frame. Non-finite cells are left transparent in the
image and painted by a mask image in front of it: nan and +inf in the theme's overflow
colour, -inf in ``neg_inf`` (the overflow colour for states; the muted grey of an exact
zero for log-magnitudes). Also here: the shared time cursor (a vertical line at t) and a
curtain in the background colour that hides the columns the reveal animation has not
reached yet. Every item is created once; updates go through setImage/setRect/setValue.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QGraphicsRectItem

from ..theme import Theme, pen, style_axis, tick_font

SEQUENTIAL = {"dark": "CET-L6", "light": "CET-L17"}  # magnitudes: dark -> bright (no yellow,
# which is the dark theme's overflow colour); light: paper white -> deep blue


def plain_plot(plot: pg.PlotItem) -> pg.PlotItem:
    """A plot that neither pans, zooms nor autoscales (the frame follows the config)."""
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.disableAutoRange()
    return plot


class Scrub:
    """Press and drag (or click) in a plot to point the shared time cursor at a step:
    calls ``emit(t)`` with t in 1..T whenever the pointed step changes. ``to_step(x)``
    maps the plot's x to a step (None: outside the data); ``plots``: where to listen."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, emit, to_step):
        self.emit, self.to_step = emit, to_step
        self.plots: list[pg.PlotItem] = []
        self.last = None
        graphics.scene().sigMouseClicked.connect(self._clicked)
        graphics.scene().sigMouseMoved.connect(self._moved)

    def _step_at(self, scene_pos) -> int | None:
        for plot in self.plots:
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(scene_pos):
                return self.to_step(vb.mapSceneToView(scene_pos).x())
        return None

    def _point(self, scene_pos) -> None:
        t = self._step_at(scene_pos)
        if t is not None and t != self.last:
            self.last = t
            self.emit(t)

    def _clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.last = None
            self._point(event.scenePos())

    def _moved(self, scene_pos) -> None:
        if QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._point(scene_pos)


def step_of(x: float, steps: int) -> int | None:
    """The step t in 1..T nearest to x (None before the first frame)."""
    if steps < 1 or not np.isfinite(x):
        return None
    return int(np.clip(round(x), 1, steps))


def cursor_pen(t: Theme):
    """The shared time cursor: a solid line in the text colour, a little transparent."""
    return pen(t.foreground + "b0", max(2.0, 0.8 * t.ref_width))


def pixels(plot: pg.PlotItem) -> tuple[float, float]:
    """(x, y) size of one screen pixel in the plot's data units (before the first layout:
    a guess from the view range and 800x500 pixels)."""
    px = plot.getViewBox().viewPixelSize()
    if px[0] > 0 and plot.getViewBox().width() > 10:
        return abs(px[0]), abs(px[1])
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    return (x1 - x0) / 800.0, (y1 - y0) / 500.0


def side_for(plot: pg.PlotItem, label: pg.TextItem, x: float, prefer: str = "right",
             gap_px: float = 10.0) -> str | None:
    """Which side of the vertical x = ``x`` the text of ``label`` fits on inside the view:
    ``prefer`` if it fits there, else the other if that fits, else None."""
    dx, _ = pixels(plot)
    (x0, x1), _ = plot.getViewBox().viewRange()
    width = (label.textItem.boundingRect().width() + gap_px) * dx
    room = {"right": x1 - x, "left": x - x0}
    other = "left" if prefer == "right" else "right"
    return prefer if room[prefer] >= width else other if room[other] >= width else None


def place_beside(plot: pg.PlotItem, label: pg.TextItem, x: float, y: float, *,
                 valign: float = 0.5, gap_px: float = 10.0, prefer: str = "right",
                 side: str | None = "auto") -> None:
    """Put ``label`` beside the vertical x = ``x`` at height y (valign: its anchor's y),
    on ``side`` ('auto': see ``side_for``); where it fits on neither side, as far left as
    it stays inside the view."""
    if side == "auto":
        side = side_for(plot, label, x, prefer, gap_px)
    dx, _ = pixels(plot)
    if side == "right":
        label.setAnchor((0.0, valign))
        label.setPos(x + gap_px * dx, y)
    elif side == "left":
        label.setAnchor((1.0, valign))
        label.setPos(x - gap_px * dx, y)
    else:
        (x0, x1), _ = plot.getViewBox().viewRange()
        width = (label.textItem.boundingRect().width() + gap_px) * dx
        label.setAnchor((0.0, valign))
        label.setPos(max(x0 + gap_px * dx, min(x - width / 2, x1 - width)), y)


def finite_peak(values: np.ndarray) -> float:
    """The largest finite |value| (0 for none), fast when all are finite."""
    with np.errstate(invalid="ignore"):
        peak = float(np.nanmax(np.abs(values), initial=0.0))
        if np.isfinite(peak):
            return peak
        return float(np.max(np.abs(values), where=np.isfinite(values), initial=0.0))


def mask_rgba(values: np.ndarray, nan_color: str, neg_inf_color: str) -> np.ndarray:
    """(T, n, 4) uint8: transparent where ``values`` is finite, else the given colours."""
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    neg = np.isneginf(values)
    bad = ~np.isfinite(values) & ~neg
    for where, color in ((bad, nan_color), (neg, neg_inf_color)):
        if where.any():
            q = QColor(color)
            rgba[where] = (q.red(), q.green(), q.blue(), 255)
    return rgba


class Heatmap:
    """Image, non-finite mask, colour bar (optional), cursor line and reveal curtain in
    ``plot``. ``set_frame(T, n)`` and ``set_levels`` follow the config; ``set_values``
    draws one (T, n) array."""

    def __init__(self, plot: pg.PlotItem, *, colorbar: bool = True, bar_width: int = 22):
        self.plot = plain_plot(plot)
        plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.mask = pg.ImageItem(axisOrder="col-major")
        self.mask.setZValue(1)
        self.mask.setVisible(False)
        plot.addItem(self.image)
        plot.addItem(self.mask)
        self.colorbar = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False,
                                            width=bar_width, colorMapMenu=False)
            self.colorbar.setImageItem(self.image, insert_in=plot)
        self.curtain = QGraphicsRectItem(QRectF(0, 0, 1, 1))
        self.curtain.setZValue(5)
        self.curtain.setVisible(False)
        plot.addItem(self.curtain, ignoreBounds=True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.setZValue(10)
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.steps, self.n = 0, 0
        self.levels = (-1.0, 1.0)
        self.neg_inf = None  # colour of -inf cells (None: the overflow colour)
        self.theme = None
        self._values = None
        self._clip = False
        self.bar_labels: tuple[str, ...] = ()
        self._fit: tuple[str, ...] = ()

    def set_bar_ticks(self, ticks: list[tuple[float, str]]) -> None:
        """Labelled ticks on the colour bar, its width fitted to the longest label."""
        self.colorbar.axis.setTicks([ticks, []])
        self.bar_labels = tuple(label for _, label in ticks)
        self.fit_bar_labels(self.bar_labels)

    def fit_bar_labels(self, labels: tuple[str, ...]) -> None:
        """Make the colour bar's axis as wide as the widest of ``labels``."""
        self._fit = labels
        if self.theme is None or not labels:
            return
        metrics = QFontMetrics(tick_font(self.theme))
        width = max(metrics.horizontalAdvance(s) for s in labels)
        self.colorbar.axis.setWidth(width + 18)

    # -- frame and levels (from the config) -------------------------------------------------
    def set_frame(self, steps: int, n: int) -> None:
        if (steps, n) == (self.steps, self.n):
            return
        self.steps, self.n = steps, n
        self.plot.setXRange(0.5, steps + 0.5, padding=0)
        self.plot.setYRange(0.5, n + 0.5, padding=0)

    def set_levels(self, lo: float, hi: float) -> None:
        levels = (float(lo), float(hi))
        if levels == self.levels:
            return
        self.levels = levels
        if self.colorbar is not None:
            self.colorbar.setLevels(levels)
        if self._values is not None:
            self.image.setLevels(levels)

    # -- data --------------------------------------------------------------------------------
    def set_values(self, values: np.ndarray, clip: bool = False) -> None:
        """Draw ``values`` (T, n) with the fixed levels; non-finite cells through the mask.
        ``clip``: values may be huge (states near overflow): clip them to a band around the
        levels first (colours saturate at the levels anyway, and the paint-time
        downsampling, a mean over columns, must stay finite)."""
        self._values, self._clip = values, clip
        steps, n = values.shape
        lo, hi = self.levels
        span = hi - lo
        finite = np.isfinite(values)
        all_finite = bool(finite.all())
        image = values
        if clip:
            with np.errstate(invalid="ignore"):
                image = np.clip(values, lo - span, hi + span)
        if not all_finite:
            image = np.where(finite, image, np.nan)  # transparent: the mask shows through
        self.image.setImage(image, autoLevels=False, levels=self.levels)
        rect = QRectF(0.5, 0.5, steps, n)
        self.image.setRect(rect)  # after setImage: the scale depends on the shape
        if not all_finite and self.theme is not None:
            t = self.theme
            self.mask.setImage(mask_rgba(values, t.overflow, self.neg_inf or t.overflow),
                               autoLevels=False, levels=(0, 255))
            self.mask.setRect(rect)
        self.mask.setVisible(not all_finite)

    # -- cursor and reveal ------------------------------------------------------------------
    def set_cursor(self, t: int | None) -> None:
        self.cursor.setVisible(t is not None)
        if t is not None:
            self.cursor.setValue(t)

    def hide_columns(self, first: float | None, last: float | None) -> None:
        """Cover the steps first..last (inclusive; None: cover nothing)."""
        if first is None or last is None or last < first:
            self.curtain.setVisible(False)
            return
        self.curtain.setRect(QRectF(first - 0.5, 0.0, last - first + 1.0, self.n + 1.0))
        self.curtain.setVisible(True)

    def reveal(self, phase: str, fraction: float) -> None:
        """'forward': steps 1..fraction*T visible; 'backward': steps (1-fraction)*T..T;
        'done' (or anything else): all; 'hidden': none."""
        T = self.steps
        f = float(np.clip(fraction, 0.0, 1.0))
        if phase == "forward":
            k = int(round(f * T))
            self.hide_columns(k + 1, T)
        elif phase == "backward":
            k = int(round(f * T))
            self.hide_columns(1, T - k)
        elif phase == "hidden":
            self.hide_columns(1, T)
        else:
            self.hide_columns(None, None)

    # -- theme --------------------------------------------------------------------------------
    def apply_theme(self, t: Theme, cmap: str) -> None:
        self.theme = t
        if self.colorbar is not None:
            self.colorbar.setColorMap(pg.colormap.get(cmap))
            style_axis(self.colorbar.axis, t)
            self.fit_bar_labels(self._fit)
            for side in ("left", "top", "bottom"):
                self.colorbar.getAxis(side).setPen(pg.mkPen(t.muted))
        else:
            self.image.setColorMap(pg.colormap.get(cmap))
        self.curtain.setBrush(pg.mkBrush(t.background))
        self.curtain.setPen(pg.mkPen(None))
        self.cursor.setPen(cursor_pen(t))
        if self._values is not None:
            self.set_values(self._values, self._clip)  # the mask's colours follow the theme
