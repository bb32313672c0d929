"""CliffPanel: the Pascanu cliff, log10 ||grad E|| over (w, b), with descent paths on it.

The heatmap is the 'cliff' measure (computed once); the dashed line is its ridge, where
the gradient grows like lambda^50 in a band too thin for the grid beyond w of about 6.
Clicking sets the start of gradient descent (``edited({'cliff_w0', 'cliff_b0'})``); a click
within SNAP_PX pixels of the ridge lands exactly on it (Shift+click: no snapping), which is
where one raw step is thrown furthest. Both runs of the 'descent' measure are drawn and
replayed update by update (a QTimer owned by the panel): without clipping and with it, the
points where the gradient was clipped ringed. A step that leaves the plotted region is cut
at its edge, where an arrow points the way it went and a label says where it landed.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QSizePolicy

from gradlab.cliff import ridge
from gradlab.measures.descent import clip_segments

from ..theme import Theme, pen, qfont, style_axis, style_plot, superscript_power, tick_font
from ._cliffkit import (
    HEAT_CMAP,
    HEAT_LEVELS,
    Replay,
    clip_text,
    clipped_color,
    follow_stretch,
    number,
    pixels,
    plain_color,
    plain_plot,
    reveal_replay,
)
from .base import Panel

X_LABEL = "w (recurrent weight)"
Y_LABEL = "b (bias)"
W_RANGE, B_RANGE = (-2.0, 10.0), (-6.0, 2.0)
SNAP_PX = 12  # a click this close to the ridge starts on it
RIDGE_LABEL_W = 9.9


def heat_cmap(t: Theme) -> pg.ColorMap:
    """The heatmap's grey ramp: dark where the surface is flat on the dark theme, paper white
    on the light one. A new map each time (pyqtgraph's named maps are shared objects)."""
    cmap = copy.deepcopy(pg.colormap.get(HEAT_CMAP))
    if t.name == "light":
        cmap.reverse()
    return cmap


class PathItems:
    """The items of one run: its cut line, its points, rings where it was clipped, and an
    arrow with a label where it left the region."""

    def __init__(self, plot: pg.PlotItem, z: float, inset: float = 6):
        self.inset = inset  # pixels between the region's edge and the exit label
        self.line = pg.PlotDataItem(connect="pairs", antialias=True)
        self.dots = pg.ScatterPlotItem(pxMode=True)
        self.rings = pg.ScatterPlotItem(pxMode=True, symbol="o")
        self.arrow = pg.ArrowItem(headLen=30, headWidth=26, tailLen=0, pxMode=True)
        self.label = pg.TextItem(anchor=(1.0, 0.5))
        for item, dz in ((self.line, 0), (self.dots, 1), (self.rings, 2), (self.arrow, 3),
                         (self.label, 4)):
            item.setZValue(z + dz)
            plot.addItem(item, ignoreBounds=True)
        self.arrow.setVisible(False)
        self.label.setVisible(False)
        self.color = "#ffffff"
        self.path = None
        self.exit = None
        self.segments = np.zeros((0, 2))
        self.shown = 0
        self.label_text = ""

    def apply_theme(self, t: Theme, color: str) -> None:
        self.color = color
        self.line.setPen(pen(color, t.line_width))
        self.dots.setBrush(pg.mkBrush(color))
        self.dots.setPen(pg.mkPen(t.background, width=1.5))
        self.dots.setSize(8)
        self.rings.setBrush(pg.mkBrush(None))
        self.rings.setPen(pg.mkPen(t.overflow, width=3))
        self.rings.setSize(24)
        self.arrow.setStyle(brush=pg.mkBrush(color), pen=pg.mkPen(t.background, width=1.5))
        self.label.setColor(t.foreground)
        self.label.fill = pg.mkBrush(t.background + "e0")
        self.label.border = pen(color, 3)
        self.label.setFont(qfont(t, t.label_pt, bold=True))

    def set_path(self, path, exit_) -> None:
        self.path, self.exit = path, exit_
        self.segments = clip_segments(path.points)  # (2k, 2)

    def draw(self, k: int, plot: pg.PlotItem) -> None:
        """Show the first k updates."""
        self.shown = k
        path = self.path
        if path is None:
            return
        seg = self.segments[:2 * k]
        ok = ~np.isnan(seg).any(axis=1)
        self.line.setData(seg[ok, 0], seg[ok, 1])
        pts = path.points[:k + 1]  # (k+1, 2)
        w, b = pts[:, 0], pts[:, 1]
        inside = (w >= W_RANGE[0]) & (w <= W_RANGE[1]) & (b >= B_RANGE[0]) & (b <= B_RANGE[1])
        inside[0] = False  # the start has its own marker
        self.dots.setData(w[inside], b[inside])
        clipped = np.flatnonzero(path.clipped[:k])  # gradient at points[i] was clipped
        cw, cb = path.points[clipped, 0], path.points[clipped, 1]
        keep = (cw >= W_RANGE[0]) & (cw <= W_RANGE[1]) & (cb >= B_RANGE[0]) & (cb <= B_RANGE[1])
        self.rings.setData(cw[keep], cb[keep])
        self._place_exit(k, plot)

    def _place_exit(self, k: int, plot: pg.PlotItem) -> None:
        ex = self.exit
        visible = ex is not None and k >= ex.update
        self.arrow.setVisible(visible)
        self.label.setVisible(visible)
        if not visible:
            self.label_text = ""
            return
        (ew, eb), (lw, lb) = ex.edge, ex.landed
        pw, pb = self.path.points[ex.update - 1]
        px, py = pixels(plot)
        dx, dy = (lw - pw) / px, (lb - pb) / py  # the step's direction on screen (y up)
        theta = math.degrees(math.atan2(dy, dx)) if math.isfinite(dx + dy) else 0.0
        self.arrow.setStyle(angle=180.0 - theta)
        self.arrow.setPos(ew, eb)
        self.label_text = (f"update {ex.update}: a step of {number(ex.step)}<br>"
                           f"to w = {number(lw)}, b = {number(lb)}")
        self.label.setHtml(f'<div style="text-align:center">{self.label_text}</div>')
        # the label hugs the edge crossed, beside the arrow (on the side with more room)
        gap, inset = 28, self.inset
        if ex.side in ("top", "bottom"):
            left = ew > 0.5 * (W_RANGE[0] + W_RANGE[1])
            ax, ay = (1.0 if left else 0.0), (0.0 if ex.side == "top" else 1.0)
            lx = ew + (-gap if left else gap) * px
            ly = eb + (-inset if ex.side == "top" else inset) * py
        else:
            low = eb > 0.5 * (B_RANGE[0] + B_RANGE[1])
            ax, ay = (1.0 if ex.side == "right" else 0.0), (0.0 if low else 1.0)
            lx = ew + (-inset if ex.side == "right" else inset) * px
            ly = eb + (-gap if low else gap) * py
        self.label.setAnchor((ax, ay))
        self.label.setPos(lx, ly)


class CliffPanel(Panel):
    name = "cliff"
    subtitle = "‖∇E‖ over (w, b). Click a start: it snaps onto the ridge nearby (Shift: free)"
    measures = ("cliff", "descent")

    def __init__(self, theme: Theme):
        super().__init__(theme)
        follow_stretch(self)
        self.plot = plain_plot(self.graphics.addPlot(row=0, col=0))
        self.plot.setXRange(*W_RANGE, padding=0)
        self.plot.setYRange(*B_RANGE, padding=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=HEAT_LEVELS, interactive=False, width=22,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        lo, hi = (int(v) for v in HEAT_LEVELS)
        self.bar_ticks = [(k, superscript_power(k)) for k in range(lo, hi + 1)]
        self.colorbar.axis.setTicks([self.bar_ticks, []])
        self.ridge = self.plot.plot(connect="finite", antialias=True)
        self.ridge.setZValue(5)
        self.ridge_label = pg.TextItem("ridge", anchor=(1.0, 1.0))
        self.ridge_label.setZValue(6)
        self.plot.addItem(self.ridge_label, ignoreBounds=True)
        # when both runs leave (a threshold too high), the clipped run's label sits below
        self.paths = {"plain": PathItems(self.plot, 10),
                      "clipped": PathItems(self.plot, 20, inset=6)}
        self.start = pg.ScatterPlotItem(pxMode=True, symbol="star")
        self.start.setZValue(30)
        self.plot.addItem(self.start)
        self.counter = pg.TextItem(anchor=(0.0, 1.0))
        self.counter.setZValue(31)
        self.plot.addItem(self.counter, ignoreBounds=True)
        self.counter.setPos(W_RANGE[0] + 0.15, B_RANGE[0] + 0.15)  # lower left: nothing there
        self.key = self.graphics.addLabel("", row=1, col=0)
        self.key.setMinimumWidth(10)  # a long key must not widen the plot beyond the panel
        self.key.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.replay = Replay(self._draw_paths, self)
        self.surface = None
        self.descent = None
        self.heat = None  # the image handed to the ImageItem (nb, nw)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        # exit arrows and labels are placed in pixels: place them again on a resize
        self.plot.getViewBox().sigResized.connect(lambda *_: self._draw_paths(self.replay.shown))
        self.apply_theme(theme)

    # -- theme -----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        style_plot(self.plot, t, title=None, x=X_LABEL, y=Y_LABEL)
        self.plot.showGrid(x=False, y=False)
        self.colorbar.setColorMap(heat_cmap(t))
        style_axis(self.colorbar.axis, t)
        metrics = QFontMetrics(tick_font(t))
        self.colorbar.axis.setWidth(
            max(metrics.horizontalAdvance(s) for _, s in self.bar_ticks) + 18)
        for side in ("left", "top", "bottom"):
            self.colorbar.getAxis(side).setPen(pg.mkPen(t.muted))
        self.ridge.setPen(pen(t.foreground, t.ref_width * 0.8, dashed=True))
        self.ridge_label.setColor(t.foreground)
        self.ridge_label.setFont(qfont(t, t.label_pt))
        self.paths["plain"].apply_theme(t, plain_color(t))
        self.paths["clipped"].apply_theme(t, clipped_color(t))
        self.start.setBrush(pg.mkBrush(t.foreground))
        self.start.setPen(pg.mkPen(t.background, width=2))
        self.start.setSize(24)
        self.counter.setColor(t.foreground)
        self.counter.fill = pg.mkBrush(t.background + "c0")
        self.counter.setFont(qfont(t, t.label_pt, bold=True))
        self._set_key()
        if self.descent is not None:
            self._draw_paths(self.replay.shown)

    def _set_key(self) -> None:
        t = self.theme
        d = self.descent
        clip = clip_text(d.mode, d.threshold) if d is not None else "clipped"
        self.key.setText(
            f'<span style="color:{plain_color(t)}">━ no clipping</span>&nbsp;&nbsp;'
            f'<span style="color:{clipped_color(t)}">━ {clip}</span>&nbsp;&nbsp;'
            f'<span style="color:{t.overflow}">○ clipped</span>&nbsp;&nbsp;'
            f'<span style="color:{t.foreground}">★ start</span>',
            size=f"{t.legend_pt}pt")

    # -- data ------------------------------------------------------------------------------
    def show(self, snapshot) -> None:
        cliff = snapshot["cliff"]
        if cliff is not self.surface:  # computed once: drawn once
            self.surface = cliff
            s = cliff.surface
            self.heat = np.nan_to_num(s.log10_grad_norm, nan=HEAT_LEVELS[1],
                                      posinf=HEAT_LEVELS[1], neginf=HEAT_LEVELS[0])
            self.image.setImage(self.heat, autoLevels=False, levels=HEAT_LEVELS)
            dw = (s.w[-1] - s.w[0]) / (len(s.w) - 1)
            db = (s.b[-1] - s.b[0]) / (len(s.b) - 1)
            self.image.setRect(QRectF(s.w[0] - dw / 2, s.b[0] - db / 2, len(s.w) * dw,
                                      len(s.b) * db))
            self.ridge.setData(cliff.ridge_w, cliff.ridge_b)
            self.ridge_label.setPos(RIDGE_LABEL_W, float(ridge(RIDGE_LABEL_W)) + 0.25)
        d = snapshot["descent"]
        self.descent = d
        self.paths["plain"].set_path(d.plain, d.plain_exit)
        self.paths["clipped"].set_path(d.clipped, d.clipped_exit)
        self.paths["clipped"].line.setVisible(d.clipping)
        self.start.setData([d.start[0]], [d.start[1]])
        self._set_key()
        self.replay.show((d.start, d.lr, d.updates), d.updates)

    def _draw_paths(self, k: int) -> None:
        d = self.descent
        if d is None:
            return
        # both runs out by the same edge: the clipped run's label below the plain one's
        both = d.plain_exit is not None and d.clipped_exit is not None and \
            d.plain_exit.side == d.clipped_exit.side and k >= d.plain_exit.update
        self.paths["clipped"].inset = 6 + (2.6 * self.theme.label_pt * 1.5 if both else 0)
        for name, items in self.paths.items():
            if name == "clipped" and not d.clipping:
                items.draw(0, self.plot)
                continue
            items.draw(k, self.plot)
        self.counter.setText(f"update {k} / {d.updates}")

    def set_reveal(self, phase: str, fraction: float) -> None:
        """The window's animation: the forward half replays the updates, then all stay."""
        reveal_replay(self, phase, fraction)

    # -- clicking a start ------------------------------------------------------------------
    def start_at(self, w: float, b: float, *, snap: bool = True) -> dict:
        """The LabConfig change for a start at (w, b) (clamped to the region; snapped onto
        the ridge when within SNAP_PX pixels of it), emitted as ``edited``."""
        w = round(min(max(float(w), W_RANGE[0]), W_RANGE[1]), 3)
        b = min(max(float(b), B_RANGE[0]), B_RANGE[1])
        r = ridge(w)
        if snap and math.isfinite(r) and abs(b - r) <= SNAP_PX * pixels(self.plot)[1] and \
                B_RANGE[0] <= r <= B_RANGE[1]:
            b = float(r)
        else:
            b = round(b, 3)
        change = {"cliff_w0": w, "cliff_b0": b}
        self.edited.emit(change)
        return change

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        snap = not (event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.start_at(p.x(), p.y(), snap=snap)
        event.accept()


PANEL = CliffPanel
