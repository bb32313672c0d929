"""Shared pieces of the panels that draw log10 values against the lag (spectrum, leaky, cells).

Values arrive as log10 (they may lie far beyond float64's range, e.g. -2000), so they are
drawn on a linear axis at their true height and labelled as powers of ten (``DecadeAxis``).
``DecadeRange`` is the y frame: it follows the data (widening at once, narrowing only when
the data use less than half of it) so the frame does not jitter while a slider moves.
``FamilyPanel`` is the common panel for a family of gradient curves against the lag, with a
key column beside the plot (colour, name, memory horizon) and the shared time cursor.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics

from ..theme import Theme, pen, qfont, style_plot, superscript_power
from .base import Panel

X_MARGIN = 0.04  # room left of lag 0, so its tick label is drawn
MIN_DECADES = 6.0  # the y frame spans at least this many decades
NICE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

# categorical colours for families of curves (the theme has two curve colours, not six)
FAMILY_COLOURS = {
    "dark": ("#4fc3f7", "#ffb74d", "#81c784", "#f06292", "#ba68c8", "#fff176", "#90a4ae"),
    "light": ("#0d47a1", "#d84315", "#2e7d32", "#ad1457", "#6a1b9a", "#00838f", "#5d4037"),
}


def family_colour(theme: Theme, k: int) -> str:
    colours = FAMILY_COLOURS.get(theme.name, FAMILY_COLOURS["dark"])
    return colours[k % len(colours)]


def decade_ticks(lo: float, hi: float, most: int = 6) -> tuple[int, list[tuple[int, str]]]:
    """(every, ticks): whole decades k in [lo, hi] labelled 10^k, one every ``every`` decades
    (1, 2, 4, 5, 8, 10 or 20), the smallest step that leaves at most ``most`` gaps."""
    every = next((s for s in (1, 2, 4, 5, 8, 10, 20) if (hi - lo) / s <= most), 20)
    return every, [(k, superscript_power(k)) for k in range(math.ceil(lo), math.floor(hi) + 1)
                   if k % every == 0]


class DecadeAxis(pg.AxisItem):
    """A linear axis over log10 values whose ticks read 10⁻³, 1, 10³, … (whole decades)."""

    def __init__(self, orientation: str = "left", **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        span = max(float(maxVal) - float(minVal), 1e-9)
        labels = max(4, int(size / 50))  # a label every ~50 px at most
        major = next((s for s in NICE_STEPS if span / s <= labels), None)
        if major is None:  # beyond 10^4 decades per label: a power of ten of decades
            major = 10 ** math.ceil(math.log10(span / labels))
        if 1 < major <= 10 and span <= 30:  # a faint line at every decade, when few
            return [(major, 0), (1, 0)]
        return [(major, 0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        return [superscript_power(int(round(v))) if abs(v - round(v)) < 1e-6 else ""
                for v in values]


class RoundAxis(pg.AxisItem):
    """An axis with one level of round ticks (1, 2 or 5 times a power of ten) and no minor
    grid: every grid line costs paint time on a software-rendered projector machine."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        span = max(float(maxVal) - float(minVal), 1e-9)
        labels = max(4, int(size / 60))  # a label every ~60 px at most
        exponent = 10 ** math.floor(math.log10(span / labels))
        step = next(m * exponent for m in (1, 2, 5, 10) if span / (m * exponent) <= labels)
        return [(step, 0)]


class DecadeRange:
    """The y frame (in decades) of a plot whose data are log10 values: it holds 10⁰ and the
    data, at least MIN_DECADES tall; widens as soon as data leave it, narrows only when the
    data use less than half of it."""

    def __init__(self):
        self.lo, self.hi = -MIN_DECADES - 1.0, 1.0  # before any data; the first fit replaces it
        self._fitted = False

    def update(self, values) -> bool:
        """Fit ``values`` (any shape, non-finite ignored); True when the frame changed."""
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        lo = min(0.0, float(v.min())) if v.size else -MIN_DECADES / 2
        hi = max(0.0, float(v.max())) if v.size else MIN_DECADES / 2
        if hi - lo < MIN_DECADES:  # room below: gradient curves mostly fall
            lo = hi - MIN_DECADES
        inside = self.lo <= lo and hi <= self.hi
        snug = (hi - lo) >= 0.5 * (self.hi - self.lo)
        if inside and snug and self._fitted:
            return False
        self._fitted = True
        pad = 0.08 * (hi - lo)
        self.lo, self.hi = math.floor(lo - pad), math.ceil(hi + pad)
        return True


def nan_joined(x: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Curves Y (k, L) over x (L,) as one polyline with a nan between curves (for one
    PlotDataItem with connect='finite'): x and y of length k (L + 1)."""
    k, L = Y.shape
    xs = np.empty((k, L + 1))
    ys = np.empty((k, L + 1))
    xs[:, :L] = x
    xs[:, L] = np.nan
    ys[:, :L] = Y
    ys[:, L] = np.nan
    return xs.ravel(), ys.ravel()


def finite_curve(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """The finite points of a curve, and where it ends if it stops early: (x_end, y_end, why)
    at the last finite point before the first non-finite value, why = 'exactly 0' (-inf) or
    'state overflows' (nan or +inf); else None."""
    ok = np.isfinite(y)
    end = None
    if ok.any() and not ok.all():
        first_bad = int(np.argmin(ok[int(np.argmax(ok)):])) + int(np.argmax(ok))
        if first_bad > 0 and ok[first_bad - 1]:
            why = "exactly 0" if y[first_bad] == -np.inf else "state overflows"
            end = (float(x[first_bad - 1]), float(y[first_bad - 1]), why)
    return x[ok], y[ok], end


def horizon_text(h: int, steps: int) -> str:
    """'23 steps', or '> 60 steps' when the gradient keeps 1e-3 of itself over all T."""
    return f"> {steps} steps" if h < 0 else f"{h} steps"


class FamilyPanel(Panel):
    """A family of log10 gradient curves against the lag, in one plot, with a key column.

    Subclasses call ``_build(count)``, then in ``show`` pass their curves to
    ``_draw(lags, curves, rows, current, horizons)``. No plot title (the subtitle says what
    the panel shows, and every line of height goes to the curves); ``key_title`` heads the
    key.
    """

    y_label = "‖∂L/∂h<sub>T−l</sub>‖"
    key_title = "memory horizon"

    def _build(self, count: int) -> None:
        self.plot = self.graphics.addPlot(row=0, col=0, axisItems={
            "left": DecadeAxis("left"), "bottom": RoundAxis("bottom")})
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        self.key = self.graphics.addLabel("", row=0, col=1, justify="left")
        self.graphics.ci.layout.setColumnStretchFactor(0, 4)
        self.graphics.ci.layout.setColumnStretchFactor(1, 0)
        self.curves = [self.plot.plot(antialias=True) for _ in range(count)]
        for curve in self.curves:  # long horizons: about one point per pixel column
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.ends = pg.ScatterPlotItem(symbol="x", size=18)  # curves that stop (0 or nan)
        self.marks = pg.ScatterPlotItem(symbol="o", size=16)  # each curve's memory horizon
        self.plot.addItem(self.ends)
        self.end_labels = [pg.TextItem(anchor=(0.0, 0.5)) for _ in range(count)]
        for label in self.end_labels:
            self.plot.addItem(label, ignoreBounds=True)
            label.setZValue(9)
            label.hide()
        self.plot.addItem(self.marks)
        self.horizon_line = pg.InfiniteLine(angle=0, movable=False)  # 10^-3 of lag 0
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        for item in (self.horizon_line, self.cursor):
            self.plot.addItem(item, ignoreBounds=True)
        self.cursor.hide()
        self.cursor.setZValue(8)
        self.yrange = DecadeRange()
        self._steps = None
        self._cursor_t = None
        click_to_cursor(self, self.plot, lambda: self._steps)
        self._rows: list = []
        self._count = 0
        self._styled = None  # the current curve the pens were set for
        self._drawn: list = []
        self._last_lag = 1.0
        self._reveal = ("done", 1.0)
        self.plot.vb.sigResized.connect(self._fit_to_size)
        self._key_html = None

    # -- contract ---------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        style_plot(self.plot, theme, title="", x=X_LABEL, y=self.y_label)
        fit_x_label(self.plot, theme)
        self.plot.setTitle(None)
        self.cursor.setPen(pen(theme.muted, theme.ref_width, dashed=True))
        self.horizon_line.setPen(pen(theme.muted, 1.5, dashed=True))
        self.ends.setPen(pg.mkPen(theme.overflow, width=3))
        self.ends.setBrush(pg.mkBrush(theme.overflow))
        for label in self.end_labels:
            label.setColor(theme.overflow)
            label.setFont(qfont(theme, theme.legend_pt, bold=True))
            label.fill = pg.mkBrush(theme.background + "c0")
        self.marks.setPen(pg.mkPen(theme.background, width=2))
        self._style_curves()
        self._write_key()

    def frame(self, config) -> None:
        """x: lags 0..T (from the config); y: the decades the data last needed."""
        steps = config.steps
        if steps != self._steps:
            self._steps = steps
            self.plot.setXRange(-X_MARGIN * steps, (1 + X_MARGIN) * steps, padding=0)
            self.set_cursor(self._cursor_t)
        self.plot.setYRange(self.yrange.lo, self.yrange.hi, padding=0)

    def set_cursor(self, t: int | None) -> None:
        """A vertical line at lag T - t (t: the time step of the shared cursor)."""
        self._cursor_t = t
        steps = self._steps
        if not t or steps is None or not 1 <= t <= steps:
            self.cursor.hide()
            return
        self.cursor.setValue(steps - t)
        self.cursor.show()

    # -- drawing ----------------------------------------------------------------------------
    def _draw(self, lags, curves, rows, current: int, horizons) -> None:
        """curves (k, L); rows: k (name, detail, value) for the key; horizons (k,) lags
        (-1: beyond T)."""
        lags = np.asarray(lags, dtype=float)
        k = len(curves)
        self._count = k
        self._current = current
        self._rows = list(rows)
        self._last_lag = float(lags[-1]) if len(lags) else 1.0
        self._drawn = []  # per curve: x, y (finite points), end (or None), mark (or None)
        for i in range(k):
            x, y, end = finite_curve(lags, np.asarray(curves[i], dtype=float))
            h = int(horizons[i]) if horizons is not None else -1
            mark = None
            if 0 <= h < len(lags) and np.isfinite(curves[i][h]):
                mark = (float(lags[h]), float(curves[i][h]))
            self._drawn.append((x, y, end, mark))
        self._paint()
        finite = np.asarray(curves, dtype=float)[:k]
        if self.yrange.update(finite):
            self.plot.setYRange(self.yrange.lo, self.yrange.hi, padding=0)
        top = finite[current, 0] if k and np.isfinite(finite[current, 0]) else 0.0
        self.horizon_line.setValue(top - 3.0)
        if current != self._styled:
            self._style_curves()
        self._write_key()

    def _fit_to_size(self, *_) -> None:
        """On a resize: the key in one or two lines a curve, the x label whole or short."""
        self._write_key()
        fit_x_label(self.plot, self.theme)

    def set_reveal(self, phase: str, fraction: float) -> None:
        """The gradient flowing back: while 'backward', curves reach lag fraction * T; during
        'forward' (no gradient yet) they are hidden; 'done' draws them whole."""
        self._reveal = (phase, float(fraction))
        self._paint()

    def _paint(self) -> None:
        """Set the curves, horizon dots and end marks from ``_drawn``, up to the revealed lag."""
        phase, fraction = self._reveal
        limit = {"forward": -1.0, "backward": fraction * self._last_lag}.get(phase, np.inf)
        ends, marks, mark_colours = [], [], []
        for i, item in enumerate(self.curves):
            if i >= len(self._drawn):
                item.setData([], [])
                item.hide()
                self.end_labels[i].hide()
                continue
            x, y, end, mark = self._drawn[i]
            shown = x <= limit
            item.setData(x[shown], y[shown])
            item.show()
            end = end if end is not None and end[0] <= limit else None
            self._label_end(i, end, self._last_lag)
            if end is not None:
                ends.append(end[:2])
            if mark is not None and mark[0] <= limit:
                marks.append(mark)
                mark_colours.append(family_colour(self.theme, i))
        self.ends.setData(pos=ends if ends else np.zeros((0, 2)))
        self.marks.setData(pos=marks if marks else np.zeros((0, 2)),
                           brush=[pg.mkBrush(c) for c in mark_colours])

    def _label_end(self, i: int, end, last_lag: float) -> None:
        """'state overflows' / 'exactly 0' beside the ✕ where curve i stops."""
        label = self.end_labels[i]
        if end is None:
            label.hide()
            return
        x, y, why = end
        right = x > 0.6 * last_lag  # near the right edge: the text goes to the left
        label.setAnchor((1.0, 0.5) if right else (0.0, 0.5))
        label.setText(f"{why} " if right else f" {why}")
        label.setPos(x - 0.02 * last_lag if right else x + 0.02 * last_lag, y)
        label.show()

    def _style_curves(self) -> None:
        t = self.theme
        current = getattr(self, "_current", -1)
        self._styled = current
        for i, item in enumerate(self.curves):
            width = t.line_width * (1.5 if i == current else 0.75)
            item.setPen(pen(family_colour(t, i), width))
            item.setZValue(3 if i == current else 1)
        self.marks.setZValue(4)
        self.ends.setZValue(4)

    def _write_key(self) -> None:
        """The key: a muted heading, then per curve its name (and detail) and its value.
        Two lines a curve (the value large) when the panel is tall enough, else one."""
        t = self.theme
        current = getattr(self, "_current", -1)
        if not self._count:
            self._key_html = ""
            self.key.setText("")
            return
        rows = self._rows[: self._count]
        one_line = not self._fits_two_lines(len(rows))
        title = self.key_title
        if one_line:  # narrow as well as short: values lose their unit, the heading has it
            # (on its first line: a heading joined into one long line took the plot's room)
            head, sep, rest = title.partition("<br>")
            title = f"{head} (steps){sep}{rest}"
        lines = [f'<span style="color:{t.muted}; font-size:{t.legend_pt}pt">{title}</span>']
        for i, (name, detail, value) in enumerate(rows):
            colour = family_colour(t, i)
            weight = "bold" if i == current else "normal"
            size = self._value_pt(t, i == current)
            style = f"color:{colour}; font-weight:{weight}"
            head = f"━━ {name}" + (f"&nbsp;&nbsp;{detail}" if detail else "")
            if one_line:
                short = value.replace("horizon ", "").replace(" steps", "")
                lines.append(f'<span style="{style}; font-size:{t.legend_pt}pt">{head}'
                             f"&nbsp;&nbsp;{short}</span>")
            else:
                lines.append(f'<span style="{style}; font-size:{t.legend_pt}pt">{head}</span>'
                             f'<br><span style="{style}; font-size:{size}pt">'
                             f"&nbsp;&nbsp;&nbsp;{value}</span>")
        html = "<br>".join(lines)
        if html != self._key_html:  # a new text re-lays out the panel: only when it changed
            self._key_html = html
            self.key.setText(html)
            refit_later(self.graphics)

    def _fits_two_lines(self, rows: int) -> bool:
        """Whether the two-line key (heading, then name and value per curve) fits the
        panel's height, with room to spare for the plot's own margins."""
        t = self.theme
        small = QFontMetrics(qfont(t, t.legend_pt)).lineSpacing()
        large = QFontMetrics(qfont(t, self._value_pt(t, True), bold=True)).lineSpacing()
        heading = small * (1 + self.key_title.count("<br>"))
        need = 1.15 * (heading + rows * (small + (small + large) / 2))
        return need <= self.graphics.height() - 16

    def _value_pt(self, t: Theme, current: bool) -> int:
        """Type size of a key value (the readout): the current curve's larger."""
        return t.legend_pt + 2 if current else t.legend_pt

    def key_values(self) -> list[tuple[str, str]]:
        """The key as drawn: (name, detail and value) per curve shown."""
        return [(name, f"{detail} {value}".strip())
                for name, detail, value in self._rows[: self._count]]


def exit_mark(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple | None:
    """Where a curve leaves the frame [lo, hi] for good: (x at the edge, the edge, the
    curve's last value, +1 up / -1 down), or None if it ends inside."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return None
    last = float(y[ok][-1])
    if lo <= last <= hi:
        return None
    up = last > hi
    edge = hi if up else lo
    inside = (y <= hi) if up else (y >= lo)
    inside &= ok
    k = int(np.nonzero(inside)[0][-1]) + 1 if inside.any() else 0  # first point beyond
    k = min(k, len(y) - 1)
    return float(x[k]), edge, last, 1 if up else -1


class ExitMarks:
    """Marks where curves leave a plot's frame: '▲ 10⁸' at the top edge (the value the curve
    reaches at its last lag), '▼ 10⁻⁴⁰' at the bottom, in the curve's colour."""

    def __init__(self, plot, count: int):
        self.labels = [pg.TextItem(anchor=(0.5, 0.0)) for _ in range(count)]
        for label in self.labels:
            plot.addItem(label, ignoreBounds=True)
            label.setZValue(9)
            label.hide()

    def style(self, theme: Theme, colours) -> None:
        for label, colour in zip(self.labels, colours, strict=False):
            label.setColor(colour)
            label.setFont(qfont(theme, theme.legend_pt, bold=True))
            label.fill = pg.mkBrush(theme.background + "c0")

    def update(self, i: int, x, y, lo: float, hi: float) -> None:
        label = self.labels[i]
        mark = exit_mark(np.asarray(x, dtype=float), y, lo, hi)
        if mark is None:
            label.hide()
            return
        xe, edge, last, direction = mark
        arrow = "▲" if direction > 0 else "▼"
        label.setText(f"{arrow} {superscript_power(int(round(last)))}")
        label.setAnchor((0.5, 0.0) if direction > 0 else (0.5, 1.0))
        label.setPos(xe, edge)
        label.show()


def fit_title(plot) -> None:
    """Give a PlotItem's title row the height of its text (pyqtgraph fixes it at 30 px,
    which clips titles above about 20 pt)."""
    label = plot.titleLabel
    if not label.isVisible():
        return
    height = float(label.item.boundingRect().height()) + 4.0
    label.setMaximumHeight(height)
    plot.layout.setRowFixedHeight(0, height)


def click_to_cursor(panel, plot, steps) -> None:
    """A click inside ``plot`` (x = lag) emits ``panel.cursor_moved(T - lag)`` for the shared
    time cursor; ``steps()`` gives T (None before any data)."""

    def clicked(ev):
        vb = plot.vb
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        T = steps()
        if not T:
            return
        lag = int(round(vb.mapSceneToView(ev.scenePos()).x()))
        t = T - lag
        if 1 <= t <= T:
            panel.cursor_moved.emit(t)

    panel.graphics.scene().sigMouseClicked.connect(clicked)


def blend(colour: str, background: str, share: float) -> str:
    """The opaque colour ``share`` of ``colour`` over ``background`` ('#rrggbb' strings):
    looks like a translucent pen, paints without alpha blending."""
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(share * x + (1 - share) * y):02x}" for x, y in zip(a, b,
                                                                                     strict=True))


X_LABEL = "lag l (steps back from T)"
X_LABEL_SHORT = "lag l"


def fit_x_label(plot, theme: Theme, full: str = X_LABEL, short: str = X_LABEL_SHORT) -> None:
    """The bottom axis label, shortened when the plot is too narrow for the whole of it
    (pyqtgraph would clip it away)."""
    width = plot.vb.width()
    room = QFontMetrics(qfont(theme, theme.label_pt)).horizontalAdvance(full) + 24
    text = full if width <= 0 or width >= room else short
    axis = plot.getAxis("bottom")
    if axis.labelText != text or getattr(axis, "_fitted_pt", None) != theme.label_pt:
        axis._fitted_pt = theme.label_pt
        axis.setLabel(text, color=theme.foreground, **{"font-size": f"{theme.label_pt}pt"})
        axis.resizeEvent()  # pyqtgraph centres the label only on a resize


def refit_later(view) -> None:
    """Fit a GraphicsLayoutWidget's layout to its view again once control returns to the
    event loop: a label that grew (say a two-line key) pushes the layout beyond the view,
    and pyqtgraph shrinks it back only on the next resize of the widget."""

    def refit():
        if view.isVisible():
            view.resizeEvent(None)

    QTimer.singleShot(0, view, refit)  # with view as context: dropped if view is deleted
