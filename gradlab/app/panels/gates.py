"""GatesPanel: every gate of the cell as a unit x time heatmap, and how saturated each is.

Small multiples sharing one time axis, one row per gate: LSTM i, f, g, o and the cell
state c; GRU r, z, n; the RNN's (and IndRNN's) activations phi. Sigmoid gates are drawn on
a fixed [0, 1] colour scale (0.5, sigma(0), the neutral middle), tanh ones on [-1, 1]; an
unbounded activation (relu, linear) on the states' symmetric level; the cell state c on a
symmetric scale that steps through 1, 2, 5, 10, ... to hold its largest |c| (so it stays
put while a slider moves). All rows share one diverging colour map, so each row's label
writes its range ("0…1") with the ends in the map's end colours: that is the colour key.
Right of each row, in large type, the share of that gate's values in saturation (below
0.05 or above 0.95 for sigmoid, |value| > 0.95 for tanh), and under them the share over
all gates (``Gates.saturated``, ``Gates.saturated_share``). A narrow panel drops the
gate words from the labels.

Rows are built when the cell changes (``frame``/``show`` with another cell: a cell switch
is not a frame); otherwise every frame updates the same items in place.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent

from gradlab.cells import get_cell

from ..theme import Theme, style_axis
from ._heat import Heatmap, Scrub, finite_peak, step_of
from .base import Panel

NAMES = {"i": "input", "f": "forget", "g": "candidate", "o": "output", "c": "cell",
         "r": "reset", "z": "update", "n": "candidate", "phi": "activation"}
STEPS_125 = (1.0, 2.0, 5.0)


def percent(share: float) -> str:
    """How the panel writes a saturated share: '62.1 %'."""
    return f"{100.0 * share:.1f} %"


def symmetric_level(peak: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, ... that is >= ``peak`` (1 for nan or 0)."""
    if not np.isfinite(peak) or peak <= 1.0:
        return 1.0
    k = int(np.floor(np.log10(peak)))
    for base in (*STEPS_125, 10.0):
        if base * 10.0 ** k >= peak:
            return base * 10.0 ** k
    return 10.0 ** (k + 1)


def rows_for(config) -> tuple[str, ...]:
    """The rows the panel draws for ``config``'s cell: its gates, then c if it has one."""
    spec = get_cell(config.cell)
    return tuple(spec.gates) + (("c",) if "c" in spec.state else ())


def gate_levels(config, name: str) -> tuple[float, float]:
    """Fixed colour levels of gate ``name`` for ``config`` (c: see ``symmetric_level``)."""
    from gradlab.measures.states import level

    spec = get_cell(config.cell)
    act = config.activation if "activation" in spec.options else None
    if name in spec.unit_gates or act == "sigmoid":
        return 0.0, 1.0
    if act in ("relu", "linear"):
        lv = level(config)
        return -lv, lv
    return -1.0, 1.0


UNIT_CMAP = "viridis"  # bundled with pyqtgraph


def _minus(x: float) -> str:
    return f"{x:g}".replace("-", "−")


class GateRow:
    """One gate: its name and colour range on the left, the heatmap, the saturated share on
    the right. The range's end values are written in the colour map's end colours, which
    is the whole colour key a row needs (all rows share one diverging map)."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, row: int, name: str):
        self.name = name
        self.title = graphics.addLabel("", row=row, col=0, justify="left")
        self.plot = graphics.addPlot(row=row, col=1)
        self.heat = Heatmap(self.plot, colorbar=False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.share = graphics.addLabel("", row=row, col=2, justify="right")
        self.items = (self.title, self.plot, self.share)
        self.value = ""
        self.word = NAMES.get(name, name)
        self.compact = False  # narrow panel: the symbol and the range only
        self.theme = None

    def _cmap(self, t: Theme) -> str:
        # gates on [0, 1] read as "how open", so a sequential map (dark shut, bright open);
        # signed values (tanh candidates, c) keep the theme's diverging map
        return UNIT_CMAP if self.heat.levels == (0.0, 1.0) else t.cmap

    def apply_theme(self, t: Theme, word: str) -> None:
        self.theme = t
        self.word = word
        self.heat.apply_theme(t, self._cmap(t))
        self._write_title()
        self.set_share(self.value, t, force=True)

    def _write_title(self) -> None:
        t = self.theme
        if t is None:
            return
        lo, hi = self.heat.levels
        cmap = pg.colormap.get(self._cmap(t))
        c_lo, c_hi = (cmap.map(x, mode="qcolor").name() for x in (0.0, 1.0))
        symbol = "φ" if self.name == "phi" else self.name
        word = " " if self.compact else f" {self.word} "
        self.title.setText(
            f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt; '
            f'font-weight:bold">{symbol}</span>'
            f'<span style="color:{t.muted}; font-size:{t.legend_pt}pt">{word}</span>'
            f'<span style="font-size:{t.legend_pt}pt; font-weight:bold">'
            f'<span style="color:{c_lo}">{_minus(lo)}</span>'
            f'<span style="color:{t.muted}">…</span>'
            f'<span style="color:{c_hi}">{_minus(hi)}</span></span>')

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self._write_title()

    def set_levels(self, lo: float, hi: float) -> None:
        if (lo, hi) == self.heat.levels:
            return
        self.heat.set_levels(lo, hi)
        if self.theme is not None:
            self.heat.apply_theme(self.theme, self._cmap(self.theme))
        self._write_title()

    def set_share(self, value: str, t: Theme, force: bool = False) -> None:
        if value == self.value and not force:
            return
        self.value = value
        color = t.foreground if value != "—" else t.muted
        self.share.setText(value, color=color, size=f"{t.title_pt + 2}pt", bold=True)


class GatesPanel(Panel):
    name = "gates"
    subtitle = "Gates per unit and time step; right: share saturated (<0.05, >0.95)"
    measures = ("gates",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        # the bottom row: "all gates" | one time axis under every row | the overall share
        self.total_title = pg.LabelItem("", justify="left")
        self.time_axis = pg.AxisItem("bottom")
        self.total_label = pg.LabelItem("", justify="right")
        self.bottom = (self.total_title, self.time_axis, self.total_label)
        self.graphics.ci.setSpacing(3)  # rows close together: five must fit in a third
        self.compact = False
        self.graphics.installEventFilter(self)  # narrow panel: shorter row labels
        self.rows: list[GateRow] = []
        self.scrub = Scrub(self.graphics, self.cursor_moved.emit,
                           lambda x: step_of(x, self.config.steps if self.config else 0))
        self.names: tuple[str, ...] = ()
        self.config = None
        self.total: str | None = None  # None: not known yet; "": no bounded gate
        self._cursor = None
        self._phase, self._fraction = "done", 1.0
        self.apply_theme(theme)

    # -- rows (rebuilt only when the cell changes) -----------------------------------------
    def _build(self, names: tuple[str, ...]) -> None:
        if names == self.names:
            return
        layout = self.graphics.ci
        for row in self.rows:
            for item in row.items:
                layout.removeItem(item)
        if self.rows:
            for item in self.bottom:
                layout.removeItem(item)
        self.rows = [GateRow(self.graphics, k, name) for k, name in enumerate(names)]
        self.scrub.plots[:] = [row.plot for row in self.rows]
        self.names = names
        first = self.rows[0].plot
        for row in self.rows[1:]:
            row.plot.setXLink(first)
        for col, item in enumerate(self.bottom):
            layout.addItem(item, row=len(self.rows), col=col)
        self.time_axis.linkToView(first.getViewBox())
        for k in range(len(self.rows)):
            layout.layout.setRowStretchFactor(k, 1)
        layout.layout.setRowStretchFactor(len(self.rows), 0)
        layout.layout.setColumnStretchFactor(1, 1)
        self._style_rows()
        for row in self.rows:
            row.heat.set_cursor(self._cursor)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.graphics and event.type() == QEvent.Type.Resize:
            self._fit_width()
        return False

    def _fit_width(self) -> None:
        """Drop the gate words ('forget', ...) when the panel is too narrow for them (the
        heatmaps need the width more)."""
        compact = self.graphics.width() < 45 * self.theme.title_pt
        if compact != self.compact:
            self.compact = compact
            self._set_header(self.total, force=True)
        for row in self.rows:
            row.set_compact(compact)

    def _style_rows(self) -> None:
        t = self.theme
        style_axis(self.time_axis, t)  # ticks only (the subtitle says it is time): the
        # rows need the height
        cell = get_cell(self.config.cell) if self.config is not None else None
        for row in self.rows:
            word = NAMES.get(row.name, row.name)
            if row.name == "phi" and cell is not None and "activation" in cell.options:
                word = self.config.activation
            row.compact = self.compact
            row.apply_theme(t, word)

    # -- the contract ------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.compact = self.graphics.width() < 45 * theme.title_pt
        self._style_rows()
        self._set_header(self.total, force=True)

    def _set_header(self, total: str | None, force: bool = False) -> None:
        """The overall saturated share, under the per-gate ones (None: not known yet;
        '': no bounded gate, e.g. relu)."""
        if total == self.total and not force:
            return
        self.total = total
        t = self.theme
        label = get_cell(self.config.cell).label if self.config is not None else ""
        self.total_title.setText(
            f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt; '
            f'font-weight:bold">all</span>'
            + ("" if self.compact else
               f'<span style="color:{t.muted}; font-size:{t.legend_pt}pt"> {label} gates</span>'))
        self.total_label.setText(total or "—", color=t.accent if total else t.muted,
                                 size=f"{t.title_pt + 2}pt", bold=True)

    def frame(self, config) -> None:
        """Rows for the config's cell and their fixed colour levels."""
        old = self.config
        self.config = config
        self._build(rows_for(config))
        if old is None or old.activation != config.activation or old.cell != config.cell:
            self._style_rows()
            # another cell's overall share would contradict the rows: unknown until show
            same_cell = old is not None and old.cell == config.cell
            self._set_header(self.total if same_cell else None, force=True)
        for row in self.rows:
            row.heat.set_frame(config.steps, config.hidden)
            if row.name != "c":
                row.set_levels(*gate_levels(config, row.name))
            row.heat.reveal(self._phase, self._fraction)

    def show(self, snapshot) -> None:
        gates = snapshot["gates"]
        self.frame(snapshot.config)
        t = self.theme
        for row in self.rows:
            if row.name == "c":
                values = gates.c  # (T, n)
                lv = symmetric_level(finite_peak(values))
                row.set_levels(-lv, lv)
                row.set_share("—", t)
            else:
                values = gates.values[row.name]  # (T, n)
                if row.name in gates.unit_scale:
                    row.set_levels(0.0, 1.0)
                share = gates.saturated.get(row.name)
                row.set_share("—" if share is None else percent(share), t)
            row.heat.set_values(values)
        self._set_header(percent(gates.saturated_share) if gates.saturated else "")

    def set_cursor(self, t: int | None) -> None:
        self._cursor = t
        for row in self.rows:
            row.heat.set_cursor(t)

    def set_reveal(self, phase: str, fraction: float) -> None:
        """'forward': the gates fill in left to right; otherwise all are shown."""
        self._phase = "forward" if phase == "forward" else "done"
        self._fraction = fraction
        for row in self.rows:
            row.heat.reveal(self._phase, fraction)


PANEL = GatesPanel
