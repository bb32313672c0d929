"""GatesPanel: every gate of the cell as a unit x time heatmap, and how saturated each is.

Small multiples sharing one time axis, one row per gate: LSTM i, f, g, o and the cell
state c; GRU r, z, n; the RNN's (and IndRNN's) activations phi. Sigmoid gates are drawn on
a fixed [0, 1] colour scale (0.5, sigma(0), the neutral middle), tanh ones on [-1, 1]; an
unbounded activation (relu, linear) on the states' symmetric level; the cell state c on a
symmetric scale that steps through 1, 2, 5, 10, ... to hold its largest |c| (so it stays
put while a slider moves). Beside each row, in large type, the share of that gate's values
in saturation (below 0.05 or above 0.95 for sigmoid, |value| > 0.95 for tanh), and over
all gates at the top (``Gates.saturated``, ``Gates.saturated_share``).

Rows are built when the cell changes (``frame``/``show`` with another cell: a cell switch
is not a frame); otherwise every frame updates the same items in place.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradlab.cells import get_cell

from ..theme import Theme, style_axis
from ._heat import Heatmap
from .base import Panel

NAMES = {"i": "input", "f": "forget", "g": "candidate", "o": "output", "c": "cell state",
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


class GateRow:
    """One gate: its name on the left, the heatmap, the saturated share on the right."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, row: int, name: str):
        self.name = name
        self.title = graphics.addLabel("", row=row, col=0)
        self.plot = graphics.addPlot(row=row, col=1)
        self.heat = Heatmap(self.plot, bar_width=16)
        self.plot.hideAxis("left")
        self.share = graphics.addLabel("", row=row, col=2)
        self.items = (self.title, self.plot, self.share)
        self.value = ""
        self.set_levels(-1.0, 1.0, force=True)

    def apply_theme(self, t: Theme, label: str) -> None:
        self.heat.apply_theme(t, t.cmap)
        style_axis(self.plot.getAxis("bottom"), t)
        self.title.setText(
            f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt; '
            f'font-weight:bold">{self.name if self.name != "phi" else "φ"}</span><br>'
            f'<span style="color:{t.muted}; font-size:{t.legend_pt}pt">{label}</span>')
        self.set_share(self.value, t, force=True)

    def set_levels(self, lo: float, hi: float, force: bool = False) -> None:
        if (lo, hi) == self.heat.levels and not force:
            return
        self.heat.set_levels(lo, hi)
        self.heat.set_bar_ticks([(lo, f"{lo:g}"), (hi, f"{hi:g}")])

    def set_share(self, value: str, t: Theme, force: bool = False) -> None:
        if value == self.value and not force:
            return
        self.value = value
        color = t.foreground if value != "—" else t.muted
        self.share.setText(value, color=color, size=f"{t.caption_pt}pt", bold=True)


class GatesPanel(Panel):
    name = "gates"
    subtitle = ("Gate activations, units (rows) against time; the share of saturated gates "
                "(< 0.05 or > 0.95) beside each")
    measures = ("gates",)

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.header = self.graphics.addLabel("", row=0, col=0, colspan=3)
        self.rows: list[GateRow] = []
        self.names: tuple[str, ...] = ()
        self.config = None
        self.total: str | None = None  # None: not known yet; "": no bounded gate
        self._cursor = None
        self._phase, self._fraction = "done", 1.0
        self.apply_theme(theme)

    # -- rows (rebuilt only when the cell changes) -----------------------------------------
    def _build(self, names: tuple[str, ...], config) -> None:
        if names == self.names:
            return
        layout = self.graphics.ci
        for row in self.rows:
            for item in row.items:
                layout.removeItem(item)
        self.rows = [GateRow(self.graphics, 1 + k, name) for k, name in enumerate(names)]
        self.names = names
        first = self.rows[0].plot
        for row in self.rows:
            if row is not self.rows[-1]:
                row.plot.hideAxis("bottom")
            row.plot.setXLink(first)
        self.rows[-1].plot.setLabel("bottom", "time step t")
        for k in range(len(self.rows)):
            layout.layout.setRowStretchFactor(1 + k, 1)
        layout.layout.setColumnStretchFactor(1, 1)
        self._style_rows()
        for row in self.rows:
            row.heat.set_cursor(self._cursor)

    def _style_rows(self) -> None:
        t = self.theme
        cell = get_cell(self.config.cell) if self.config is not None else None
        for row in self.rows:
            label = NAMES.get(row.name, row.name)
            if row.name == "phi" and self.config is not None and cell is not None \
                    and "activation" in cell.options:
                label = f"{self.config.activation}"
            row.apply_theme(t, label)
        if self.rows:
            style_axis(self.rows[-1].plot.getAxis("bottom"), t, "time step t")

    # -- the contract ------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._style_rows()
        self._set_header(self.total, force=True)

    def _set_header(self, total: str | None, force: bool = False) -> None:
        if total == self.total and not force:
            return
        self.total = total
        t = self.theme
        label = get_cell(self.config.cell).label if self.config is not None else ""
        if total is None:
            text = (f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt">'
                    f'{label} gates</span>')
        elif total:
            text = (f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt">'
                    f'{label} gates · saturated overall </span>'
                    f'<span style="color:{t.accent}; font-size:{t.rho_pt}pt; '
                    f'font-weight:bold">{total}</span>')
        else:
            text = (f'<span style="color:{t.foreground}; font-size:{t.title_pt}pt">'
                    f'{label} gates · no saturation (unbounded activation)</span>')
        self.header.setText(text)

    def frame(self, config) -> None:
        """Rows for the config's cell and their fixed colour levels."""
        old = self.config
        self.config = config
        self._build(rows_for(config), config)
        if old is None or old.activation != config.activation or old.cell != config.cell:
            self._style_rows()
            self._set_header(self.total, force=True)
        for row in self.rows:
            row.heat.set_frame(config.steps, config.hidden)
            if row.name != "c":
                row.set_levels(*gate_levels(config, row.name))
            row.heat.reveal(self._phase, self._fraction)
        self._align_bars()

    def show(self, snapshot) -> None:
        gates = snapshot["gates"]
        self.frame(snapshot.config)
        t = self.theme
        for row in self.rows:
            if row.name == "c":
                values = gates.c  # (T, n)
                with np.errstate(invalid="ignore"):
                    peak = float(np.max(np.abs(values[np.isfinite(values)]), initial=0.0))
                lv = symmetric_level(peak)
                row.set_levels(-lv, lv)
                row.set_share("—", t)
            else:
                values = gates.values[row.name]  # (T, n)
                if row.name in gates.unit_scale:
                    row.set_levels(0.0, 1.0)
                share = gates.saturated.get(row.name)
                row.set_share("—" if share is None else percent(share), t)
            row.heat.set_values(values)
        self._align_bars()
        self._set_header(percent(gates.saturated_share) if gates.saturated else "")

    def _align_bars(self) -> None:
        """Give every colour bar the width of the widest, so the rows' time axes line up."""
        labels = tuple(s for row in self.rows for s in row.heat.bar_labels)
        for row in self.rows:
            row.heat.fit_bar_labels(labels)

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
