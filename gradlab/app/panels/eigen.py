"""EigenPanel: the eigenvalues of the recurrent matrix in the complex plane, draggable.

The unit circle (solid) is the border between vanishing and exploding: an eigen-direction
inside shrinks at every step, outside it grows. The dashed circle has radius ρ, the config's
spectral radius. Drag an eigenvalue of W (dots) to change W: a real one slides along the
real axis, a complex one moves together with its mirror image (its conjugate), so W stays
real; the panel emits ``edited({'eigs': ...})`` (the new eigenvalues at radius 1, in the
order of ``Eigen.base``) while dragging (throttled) and on release, and the lab rebuilds W
in its eigenbasis. Second sets, in other colours and markers: the eigenvalues of the leaky
step (1 - a) I + a W (diamonds) and of the step Jacobian J_t at the time cursor (triangles).
The frame is square and depends on the config only (widening when data need it); it stays
fixed while dragging.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from gradlab.measures.eigen import preset_eigs

from ..theme import Theme, pen, qfont, style_plot
from ._decades import RoundAxis, family_colour, refit_later
from .base import Panel

THROTTLE_S = 0.08  # at most one edit every 80 ms while dragging (and one on release)
MAX_BASE = 9.99  # LabConfig.eigs allows |λ| <= 10 at radius 1
MAX_FRAME = 12.0  # the frame never widens beyond this half-width
# the content block of a gated cell's W, by its math name (Eigen.matrix_label is a phrase)
SHORT_MATRIX = {("lstm", "the content block of W"): "W<sub>g</sub>",
                ("gru", "the content block of W"): "W<sub>n</sub>"}
_THETA = np.linspace(0.0, 2.0 * np.pi, 241)


def half_width(config) -> float:
    """Half-width of the square frame for ``config``: the unit circle, the ρ circle and any
    hand-set eigenvalue fit with a margin."""
    top = max((abs(complex(re, im)) for re, im in config.eigs), default=1.0)
    return float(min(MAX_FRAME, max(1.6, 1.15 * config.spectral_radius * max(1.0, top))))


def pair_presets(name: str, base: np.ndarray, pair: np.ndarray) -> tuple:
    """``preset_eigs`` with conjugate partners taken from ``pair`` (the drawn matrix's
    pairing) rather than from ``base``, which an earlier preset may have made real."""
    return preset_eigs(name, pair=pair)


class DraggableScatter(pg.ScatterPlotItem):
    """A scatter whose points can be dragged with the left button: calls
    ``on_drag(index, complex position, finished)`` for the point grabbed."""

    def __init__(self, on_drag, **kwargs):
        super().__init__(**kwargs)
        self._on_drag = on_drag
        self._grabbed: int | None = None
        self.setAcceptHoverEvents(True)

    def grab_index(self, pos) -> int | None:
        """The index of the point under ``pos`` (item coordinates), nearest first."""
        spots = self.pointsAt(pos)
        if len(spots) == 0:
            return None
        best = min(spots, key=lambda s: (s.pos().x() - pos.x()) ** 2
                   + (s.pos().y() - pos.y()) ** 2)
        return int(best.index())

    def mouseDragEvent(self, ev):  # noqa: N802 (Qt's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._grabbed = self.grab_index(ev.buttonDownPos())
        if self._grabbed is None:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        self._on_drag(self._grabbed, complex(pos.x(), pos.y()), ev.isFinish())
        if ev.isFinish():
            self._grabbed = None

    def hoverEvent(self, ev):  # noqa: N802 (Qt's name)
        over = not ev.isExit() and len(self.pointsAt(ev.pos())) > 0
        if over:
            ev.acceptDrags(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.OpenHandCursor if over else Qt.CursorShape.ArrowCursor)


class EigenPanel(Panel):
    name = "eigen"
    subtitle = "Eigenvalues (drag one): inside the unit circle a direction shrinks"
    measures = ("eigen",)
    follows = ("step_eigen",)  # J_t's eigenvalues: an expensive extra, drawn when it arrives

    def __init__(self, theme: Theme):
        super().__init__(theme)
        self.plot = self.graphics.addPlot(row=0, col=0, axisItems={
            "left": RoundAxis("left"), "bottom": RoundAxis("bottom")})
        self.plot.setAspectLocked(True, ratio=1.0)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        # a key under the plot instead of a legend box, which would cover eigenvalues
        self.key = self.graphics.addLabel("", row=1, col=0)
        self.unit = self.plot.plot(np.cos(_THETA), np.sin(_THETA), antialias=True)
        self.rho_circle = self.plot.plot(antialias=True)
        self.leaky_points = pg.ScatterPlotItem(symbol="d", antialias=True)
        self.step_points = pg.ScatterPlotItem(symbol="t1", antialias=True)
        self.points = DraggableScatter(self.drag, symbol="o", antialias=True)
        # the draggable dots under the second sets (which ignore the mouse): J_t often sits
        # on W's eigenvalues, and a small triangle inside a dot shows both
        for z, item in enumerate((self.points, self.leaky_points, self.step_points)):
            self.plot.addItem(item)
            item.setZValue(3 + z)
        self.plot.vb.sigResized.connect(self._fit_to_size)
        self._key_beside = False
        self._key_html = None

        self.eigen = None  # the last Eigen shown
        self.step = None  # the last StepEigen shown (J_t at the cursor; follows later)
        self.dragging = False
        self._base: np.ndarray | None = None  # (n,) working copy at radius 1
        self._rho = 1.0
        self._cell = "rnn"
        self._frame = None
        self._config_frame = 1.6
        self._last_emit = 0.0
        self._dragged: complex | None = None  # the value being dragged, for the key
        self.apply_theme(theme)

    # -- contract -------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        t = theme
        # no title, no axis labels: every line of height goes to the (square) plane; the
        # subtitle and the key say what it is
        style_plot(self.plot, t, title="", x=None, y=None)
        self.plot.setTitle(None)
        self.unit.setPen(pen(t.foreground, t.ref_width))
        self.rho_circle.setPen(pen(t.reference, t.ref_width, dashed=True))
        size = self._marker_size()
        self.points.setBrush(pg.mkBrush(t.eig))
        self.points.setPen(pg.mkPen(t.background, width=1.5))
        self.points.setSize(size)
        self.leaky_points.setBrush(pg.mkBrush(self._leaky_colour()))
        self.leaky_points.setPen(pg.mkPen(t.background, width=1.5))
        self.leaky_points.setSize(max(9, round(0.85 * size)))
        self.step_points.setBrush(pg.mkBrush(self._step_colour()))
        self.step_points.setPen(pg.mkPen(t.background, width=1.0))
        self.step_points.setSize(max(9, round(0.75 * size)))
        self._write_key()

    def frame(self, config) -> None:
        """The square frame for ``config`` (also before any data); not while dragging."""
        self._config_frame = half_width(config)
        if not self.dragging:
            self._set_frame(self._config_frame)

    def show(self, snapshot) -> None:
        if "eigen" not in snapshot:  # not computed (yet): keep the picture
            return
        e = snapshot["eigen"]
        c = snapshot.config
        self.eigen = e
        if "step_eigen" in snapshot:
            self.step = snapshot["step_eigen"]
        elif self.step is not None and self._cell != c.cell:
            self.step = None  # another cell's J_t would mislead until the new one arrives
        self._cell = c.cell
        self._rho = c.spectral_radius
        self._pair = np.asarray(e.pair)
        self._real_only = bool(e.real_only)
        rho = c.spectral_radius
        self.rho_circle.setData(rho * np.cos(_THETA), rho * np.sin(_THETA))
        if not self.dragging:  # while dragging the dots follow the mouse, not the lab
            self._base = np.array(e.base, dtype=complex)
            lam = np.asarray(e.eigvals)
            self.points.setData(lam.real, lam.imag)
        step = None if self.step is None else self.step.step
        for item, values in ((self.leaky_points, e.leaky), (self.step_points, step)):
            v = np.zeros(0, complex) if values is None else np.asarray(values)
            v = v[np.isfinite(v)]
            item.setData(v.real, v.imag)
        self._write_key()
        self.frame(c)
        if not self.dragging:
            self._widen_for(e)
            self._show_readout(None)

    # -- dragging -------------------------------------------------------------------------
    def drag(self, index: int, value: complex, finished: bool = True) -> None:
        """Move eigenvalue ``index`` (of Eigen.eigvals) to ``value`` (as drawn, ρ included):
        a real one stays on the real axis, a complex one takes its conjugate partner along.
        Emits ``edited({'eigs': ...})`` at most every THROTTLE_S while dragging and always
        when ``finished``."""
        if self.eigen is None or self._base is None or not 0 <= index < len(self._base):
            return
        self.dragging = not finished
        r = self._frame or self._config_frame
        z = complex(np.clip(value.real, -r, r), np.clip(value.imag, -r, r))
        partner = int(self._pair[index])
        if self._real_only or partner < 0:
            z = complex(z.real, 0.0)
        b = z / self._rho
        if abs(b) > MAX_BASE:
            b *= MAX_BASE / abs(b)
        base = self._base.copy()
        base[index] = b
        if partner >= 0 and not self._real_only:
            base[partner] = b.conjugate()
        self._base = base
        lam = self._rho * base
        self.points.setData(lam.real, lam.imag)
        self._show_readout(None if finished else self._rho * b)
        now = time.monotonic()
        if finished or now - self._last_emit >= THROTTLE_S:
            self._last_emit = now
            self.edited.emit({"eigs": self.eigs()})

    def eigs(self) -> tuple:
        """The working eigenvalues at radius 1 as LabConfig.eigs: ((re, im), ...)."""
        if self._base is None:
            return ()
        if self._real_only:
            return tuple((float(v.real), 0.0) for v in self._base)
        return tuple((float(v.real), float(v.imag)) for v in self._base)

    def preset(self, name: str) -> None:
        """Emit the eigenvalues of a preset from the lecture notes ('diag(0.5, 1.5)',
        'golden ratio'; 'none' drops the hand-set eigenvalues)."""
        if name == "none":
            self.edited.emit({"eigs": ()})
            return
        if self.eigen is None:
            return
        self.edited.emit({"eigs": pair_presets(name, np.asarray(self.eigen.base),
                                               np.asarray(self.eigen.pair))})

    # -- helpers --------------------------------------------------------------------------
    def _set_frame(self, r: float) -> None:
        if r != self._frame:
            self._frame = r
            self.plot.setXRange(-r, r, padding=0)
            self.plot.setYRange(-r, r, padding=0)

    def _widen_for(self, e) -> None:
        """Widen the frame when some drawn eigenvalue lies outside it."""
        step = None if self.step is None else self.step.step
        sets = [np.asarray(e.eigvals)] + [np.asarray(v) for v in (e.leaky, step)
                                         if v is not None]
        v = np.concatenate(sets)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return
        extent = float(max(np.max(np.abs(v.real)), np.max(np.abs(v.imag))))
        need = min(MAX_FRAME, 1.1 * extent)
        self._set_frame(max(self._config_frame, need))

    def _show_readout(self, z: complex | None) -> None:
        """While dragging, the key's first line gives the value being set (the dragged dot
        moves with the mouse; the number says where it is)."""
        self._dragged = z
        self._write_key()

    def _place_key(self) -> None:
        """The key beside the (square) plot in a wide panel, under it in a tall one."""
        t = self.theme
        metrics = QFontMetrics(qfont(t, t.legend_pt))
        key_width = 24 + max(metrics.horizontalAdvance(s) for s in (
            f"● λ of {self._matrix()}", "╍ |λ| = ρ = 1.00", "▲ Jt at t = 5000"))
        # beside only if the plane keeps at least the panel's height in width
        beside = self.graphics.width() - key_width > self.graphics.height()
        if beside == self._key_beside:
            return
        self._key_beside = beside
        layout = self.graphics.ci
        layout.removeItem(self.key)
        if beside:
            layout.addItem(self.key, row=0, col=1)
        else:
            layout.addItem(self.key, row=1, col=0)
        self._write_key()

    def _marker_size(self) -> int:
        """Markers sized to the plot (n dots on a small circle must not merge), at most
        the tick type's size."""
        vb = self.plot.vb
        side = min(vb.width(), vb.height()) or 400.0
        unit_px = side / (2.0 * (self._frame or 1.6))  # pixels per unit of λ
        n = 32 if self.eigen is None else max(8, len(self.eigen.eigvals))
        return int(np.clip(0.8 * 2.0 * np.pi * unit_px / n, 9, max(12, self.theme.tick_pt)))

    def _fit_to_size(self, *_) -> None:
        """On a resize of the plot: the key's place, the markers' size."""
        self._place_key()
        size = self._marker_size()
        self.points.setSize(size)
        self.leaky_points.setSize(max(8, round(0.85 * size)))
        self.step_points.setSize(max(7, round(0.75 * size)))

    def _matrix(self) -> str:
        """A short name of the matrix whose eigenvalues are drawn (titles must stay short)."""
        e = self.eigen
        if e is None:
            return "W"
        return SHORT_MATRIX.get((self._cell, e.matrix_label), e.matrix_label)

    def _leaky_colour(self) -> str:
        return family_colour(self.theme, 2)

    def _step_colour(self) -> str:
        return family_colour(self.theme, 3)

    def _write_key(self) -> None:
        """Two lines under the plot (W's eigenvalues and the ρ circle; the second sets), or
        one entry a line beside it."""
        t = self.theme
        e = self.eigen
        gap = "<br>" if self._key_beside else "&nbsp;&nbsp;&nbsp;"
        rho = "ρ" if e is None else f"ρ = {self._rho:.2f}"
        # the solid unit circle needs no entry: the axes and the subtitle name it
        first = [f'<span style="color:{t.eig}">● λ of {self._matrix()}</span>',
                 f'<span style="color:{t.reference}">╍ |λ| = {rho}</span>']
        z = self._dragged
        if z is not None:  # dragging: where the dot is, in the accent colour
            im = f" ± {abs(z.imag):.2f}i" if z.imag != 0 else ""
            first = [f'<span style="color:{t.accent}; font-weight:bold">|λ| = {abs(z):.2f}'
                     f"</span>", f'<span style="color:{t.accent}">λ = {z.real:.2f}{im}</span>']
        second = []
        if e is not None and e.leaky is not None:
            second.append(f'<span style="color:{self._leaky_colour()}">◆ leaky step</span>')
        if self.step is not None and self.step.step is not None:
            second.append(f'<span style="color:{self._step_colour()}">▲ J<sub>t</sub> at '
                          f"t = {self.step.cursor}</span>")
        lines = [gap.join(first)] + ([gap.join(second)] if second else [])
        html = ("<br>".join(lines), t.legend_pt)
        if html != self._key_html:  # a new text re-lays out the panel: only when it changed
            self._key_html = html
            self.key.setText(html[0], size=f"{t.legend_pt}pt")
            refit_later(self.graphics)


PANEL = EigenPanel
