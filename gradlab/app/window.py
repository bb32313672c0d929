"""LabWindow: the main window. Places the panels of a named layout, wires controls -> worker
-> panels, and gives the lecturer keys; it owns no maths.

Data flows one way: a control edit (or ``set_config`` from a scene, or a key) becomes a
LabConfig; the worker computes the measures the visible panels name (cheap ones first,
expensive ones after) and every visible panel draws the results it needs. Slots here only
hand configs to the worker and snapshots to the panels.

- Panels come from the registry ``gradlab.app.panels.PANELS``; each is built once, the first
  time a layout shows it, and kept when the layout changes. A name the registry lacks gets
  a placeholder panel, so every layout opens.
- A panel whose picture is older than the controls shows a "computing…" badge (within 100
  ms); the summary line is made from the requested config, so it never contradicts them.
- The time cursor: a panel emits ``cursor_moved(t)``; every panel draws it at once, and
  LabConfig.cursor follows shortly after (debounced), so views that read it recompute.
- Type follows the window's height (relative to 720 px) and Ctrl+ / Ctrl− / Ctrl+0.

Keys: ``gradlab.app.keys`` (they work whatever has focus); menus, dialogs and SVG drawing:
``gradlab.app.share``; the ? overlay's text: ``gradlab.app.help``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields

import numpy as np
from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QEvent,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gradlab.config import LabConfig
from gradlab.experiment import Experiment, load_experiment, save_experiment, scene_snippet
from gradlab.lab import Lab, Snapshot, caption
from gradlab.layouts import LAYOUTS, Layout, get_layout
from gradlab.measures import MEASURES

from . import share
from .controls import Controls
from .help import help_html
from .keys import LectureKeys, key_table
from .panels import PANELS, Panel
from .theme import Theme, get_theme, other, palette, stylesheet
from .training import TrainingBar, TrainingRunner
from .worker import ComputeWorker

log = logging.getLogger(__name__)

CONTROL_WIDTH = 310  # px at 720 px window height; scaled with the type
BASE_HEIGHT = 720  # the window height at which the theme's point sizes were chosen
BADGE_DELAY_MS = 60  # a picture older than the controls for this long gets its badge
CURSOR_DELAY_MS = 120  # the time cursor reaches LabConfig.cursor after this pause
ZOOM_STEP = 1.15
ZOOM_LIMITS = (0.5, 3.0)
TRAINING_PANELS = frozenset({"alignment", "training", "encgrad"})  # drawn from training frames
OVERLAY_SHRINK = tuple(1.0 - 0.05 * i for i in range(11))  # the ? overlay tries 1.0 .. 0.5


class PlaceholderPanel(Panel):
    """Stands in for a panel the registry does not have (yet): a subtitle, no data."""

    def show(self, snapshot) -> None:
        """Nothing to draw."""


def placeholder(name: str) -> type[Panel]:
    return type(f"Placeholder_{name}", (PlaceholderPanel,),
                {"name": name, "subtitle": f"{name}: this view is not in this build yet",
                 "measures": ()})


@dataclass(frozen=True)
class Drawn:
    """What a panel shows now: the request number and config of its picture, and the results
    it drew (to skip redrawing the same results when only the cursor moved)."""

    seq: int
    config: LabConfig
    results: tuple

    def same(self, results: tuple, config: LabConfig) -> bool:
        return len(results) == len(self.results) and \
            all(a is b for a, b in zip(results, self.results, strict=True)) and \
            self.config.replace(cursor=config.cursor) == config


def relevant(config: LabConfig, measures) -> tuple:
    """The config fields some measure in ``measures`` depends on, as (name, value) pairs."""
    if not measures:
        return ()
    ignored = frozenset.intersection(*(MEASURES[m].ignores for m in measures))
    return tuple((f.name, getattr(config, f.name)) for f in fields(config)
                 if f.name not in ignored)


class HelpOverlay(QLabel):
    """The "?" explanations over the whole window; a click closes it."""

    def __init__(self, parent: QWidget):
        super().__init__(parent, objectName="overlay")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.hide()

    def mousePressEvent(self, event):  # noqa: N802 (Qt name)
        self.hide()


class LabWindow(QMainWindow):
    """The lab: the panels of a layout, a caption strip, a summary line and the controls.

    ``panels``: the registry to build panels from (default ``PANELS``; tests pass stand-ins).
    """

    def __init__(self, config: LabConfig | None = None, *, theme: str = "dark",
                 synchronous: bool = False, lab: Lab | None = None,
                 layout: str | None = None, panels=None):
        super().__init__()
        self._registry = PANELS if panels is None else panels
        self._initial = config if config is not None else LabConfig()
        self._config = self._initial
        self._requested: tuple | None = None
        self._snapshot: Snapshot | None = None
        self._snapshot_seq = 0
        self._drawn: dict[str, Drawn] = {}
        self._panels: dict[str, Panel] = {}
        self._layout: Layout = get_layout(layout or next(iter(LAYOUTS)))
        self._base_theme = get_theme(theme)
        self._zoom = 1.0
        self._factor = 1.0
        self._theme: Theme = self._base_theme
        self._cursor_t = 0
        self._cursor_drawn: int | None = None  # the step every panel draws the cursor at
        self._cursor_key = (0, self._config.steps)  # (cursor, steps) last drawn from a config
        self._pending_preset: str | None = None
        self.reveal_seconds = 1.6  # each phase of the A animation
        self.reveal_phase = "done"
        self._reveal_fraction = 1.0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.worker = ComputeWorker(lab, synchronous=synchronous, parent=self)
        self.worker.snapshot_ready.connect(self._draw)
        self.worker.failed.connect(self._failed)

        self.controls = Controls(self._config)
        self.controls.config_edited.connect(self._request)
        self.controls.reset_requested.connect(self.reset)
        self.controls.theme_requested.connect(self.toggle_theme)
        self.controls.help_requested.connect(self.toggle_help)
        self.controls.preset_chosen.connect(self.apply_preset)
        self.controls.layout_chosen.connect(self.set_layout)
        self.controls_scroll = QScrollArea(objectName="controls_scroll")
        self.controls_scroll.setWidget(self.controls)
        self.controls_scroll.setWidgetResizable(True)
        self.controls_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.controls.installEventFilter(self)

        self.caption = QLabel(objectName="caption")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setVisible(False)
        self.summary = QLabel(objectName="summary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.compute_label = QLabel()
        self.statusBar().addPermanentWidget(self.compute_label)

        self.stage = QWidget(objectName="stage")
        self.grid = QGridLayout(self.stage)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        main = QVBoxLayout()
        main.setContentsMargins(4, 4, 4, 0)
        main.setSpacing(2)
        main.addWidget(self.caption)
        self._main = main  # the attention layout's training bar goes above the stage
        main.addWidget(self.stage, 1)
        main.addWidget(self.summary)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addLayout(main, 1)
        body.addWidget(self.controls_scroll)
        central = QWidget(objectName="central")
        central.setLayout(body)
        self.setCentralWidget(central)
        self.overlay = HelpOverlay(central)
        self.export_menu = share.build_menus(self)

        self._badge_timer = QTimer(self, singleShot=True, interval=BADGE_DELAY_MS)
        self._badge_timer.timeout.connect(self._update_badges)
        self._cursor_timer = QTimer(self, singleShot=True, interval=CURSOR_DELAY_MS)
        self._cursor_timer.timeout.connect(self._commit_cursor)
        self._reveal_timer = QTimer(self, interval=33)
        self._reveal_timer.timeout.connect(self._reveal_tick)
        self._reveal_clock = QElapsedTimer()

        self.keys = LectureKeys(self)
        self.training: TrainingRunner | None = None  # made when the attention layout opens
        self.training_bar: TrainingBar | None = None
        self._attached: set[str] = set()  # panels that receive the training frames
        self._place(self._layout)
        self.resize(1280, 720)
        self._apply_scale(force=True)
        self.keys.install(self)
        self._request(self._config)

    # -- public API ------------------------------------------------------------------------
    @property
    def config(self) -> LabConfig:
        """The config last requested (what the controls show)."""
        return self._config

    @property
    def snapshot(self) -> Snapshot | None:
        """The newest Snapshot drawn (None before the first compute finishes)."""
        return self._snapshot

    @property
    def theme(self) -> str:
        return self._theme.name

    @property
    def layout(self) -> str:
        """The name of the current layout (a key of ``gradlab.layouts.LAYOUTS``)."""
        return self._layout.name

    @property
    def panels(self) -> tuple[Panel, ...]:
        """The panels of the current layout, in the layout's order."""
        return tuple(self._panels[name] for name in self._layout.panels)

    def panel(self, name: str) -> Panel:
        """The panel called ``name`` (built on first use)."""
        return self._panel(name)

    def set_config(self, config: LabConfig) -> None:
        """Show ``config`` in the controls (no echo) and compute it; synchronous windows
        compute and redraw before returning."""
        self.controls.set_config(config)
        self._request(config)

    def set_layout(self, name: str) -> None:
        """Show the panels of layout ``name`` (the config stays as it is)."""
        layout = get_layout(name)
        if layout != self._layout:
            self._place(layout)
            self._request(self._config)
        self.controls.set_layout(layout.name)

    def set_caption(self, text: str) -> None:
        """A large caption strip above the panels; ``''`` hides it."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def set_theme(self, name: str) -> None:
        """Restyle every existing item for theme ``name`` ('dark' or 'light')."""
        self._base_theme = get_theme(name)
        self._apply_scale(force=True)

    def show_controls(self, visible: bool) -> None:
        """Show or hide the control column and the menu bar (the panels take the room)."""
        self.controls.setVisible(visible)
        self.controls_scroll.setVisible(visible)
        self.menuBar().setVisible(visible)

    def grab_rgb(self) -> np.ndarray:
        """The whole window rendered now, as an (H, W, 3) uint8 array (a copy).

        H, W are the window's size times the screen's device pixel ratio (1 offscreen).
        A window that was never shown is shown off-screen first, so its layouts settle.
        """
        self._settle()
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        w, h = image.width(), image.height()
        rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
        return rows.reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3).copy()

    # -- lecture actions -------------------------------------------------------------------
    def nudge_rho(self, delta: float) -> None:
        """Move the spectral radius by ``delta`` (clamped to the allowed range)."""
        self.set_config(self.controls.nudged(delta))

    def reset(self) -> None:
        """Back to the config the window started with (and, training, an untrained model)."""
        self.set_config(self._initial)
        if self.training is not None and TRAINING_PANELS & set(self._layout.panels):
            self.training.reset()

    def toggle_theme(self) -> None:
        self.set_theme(other(self._theme.name))

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def escape(self) -> None:
        """Esc: close the explanations, else stop the animation, else take away a caption
        no scene is playing (a playing scene's player owns Esc; a broken scene's error
        stayed up for good), else leave full screen."""
        if self.overlay.isVisible():
            self.overlay.hide()
        elif self._reveal_timer.isActive():
            self.stop_animation()
        elif self.caption.isVisible():
            self.set_caption("")
        elif self.isFullScreen():
            self.showNormal()

    def toggle_controls(self) -> None:
        """H: hide the controls (and the menu bar) so the panels fill the screen, or show them."""
        self.show_controls(not self.controls_scroll.isVisible())

    def toggle_help(self) -> None:
        """?: show or hide the explanations of the quantities."""
        if self.overlay.isVisible():
            self.overlay.hide()
        else:
            self._place_overlay(fit=True)
            self.overlay.show()
            self.overlay.raise_()

    def zoom(self, steps: int) -> None:
        """Type size: ``steps`` > 0 larger, < 0 smaller, 0 back to the window's own scale."""
        lo, hi = ZOOM_LIMITS
        self._zoom = 1.0 if steps == 0 else min(max(self._zoom * ZOOM_STEP ** steps, lo), hi)
        self._apply_scale()

    @property
    def type_scale(self) -> float:
        """The factor the theme's point sizes are multiplied by now."""
        return self._factor

    def animate(self) -> None:
        """A: reveal the forward pass left to right, then the gradient flowing back
        (``Panel.set_reveal``); pressed again while running, it stops."""
        if self._reveal_timer.isActive():
            self.stop_animation()
            return
        self._reveal_clock.start()
        self._reveal_timer.start()
        self._reveal("forward", 0.0)

    def stop_animation(self) -> None:
        self._reveal_timer.stop()
        self._reveal("done", 1.0)

    def apply_preset(self, name: str) -> None:
        """Set the eigenvalues to a preset of ``gradlab.config.PRESETS`` (at radius 1);
        'none' clears hand-set eigenvalues."""
        if name == "none":
            self.set_config(self._config.replace(eigs=()))
            return
        eigen = self._current_eigen()
        if eigen is None:  # wait for the eigenvalues of the current matrix
            self._pending_preset = name
            self._request(self._config, extra=("eigen",))
            return
        from gradlab.measures.eigen import preset_eigs

        self._pending_preset = None
        eigs = preset_eigs(name, pair=eigen.pair)
        self.set_config(self._config.replace(eigs=eigs))

    # -- keep and share --------------------------------------------------------------------
    def experiment(self) -> Experiment:
        """The current config (hand-set eigenvalues included) and layout."""
        return Experiment(config=self._config, layout=self._layout.name)

    def save_experiment(self, path) -> None:
        """Write the current experiment to ``path`` (.toml)."""
        save_experiment(path, self.experiment())
        self.statusBar().showMessage(f"saved {os.fspath(path)}", 5000)

    def open_experiment(self, path) -> None:
        """Load an experiment file: its layout and config (ExperimentError if it is bad)."""
        exp = load_experiment(path)
        self.set_layout(exp.layout)
        self.set_config(exp.config)
        self.statusBar().showMessage(f"opened {os.fspath(path)}", 5000)

    def scene_snippet(self) -> str:
        """A Python Scene subclass that starts from the current config."""
        return scene_snippet(self.experiment(), name=self._layout.name + " experiment")

    def copy_scene_snippet(self) -> str:
        """Put the Scene snippet on the clipboard (and return it)."""
        text = self.scene_snippet()
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage("copied a Scene snippet to the clipboard", 5000)
        return text

    def export_window(self, path) -> None:
        """The whole window as a .png image or an .svg drawing."""
        self._settle()
        share.export_image(self, path, self.windowTitle())

    def export_panel(self, name: str, path) -> None:
        """One panel of the current layout as .png or .svg (``Panel.export``)."""
        if name not in self._layout.panels:
            raise ValueError(f"panel {name!r} is not shown; shown: {list(self._layout.panels)}")
        self._settle()
        self._panels[name].export(path)

    def ask_save(self) -> None:
        """Ctrl+S: save the experiment to a file the user names."""
        share.ask_save(self)

    def ask_open(self) -> None:
        """Ctrl+O: open an experiment file."""
        share.ask_open(self)

    def ask_export(self) -> None:
        """Ctrl+E: export the window as PNG or SVG."""
        share.ask_export(self)

    # -- panels and layouts ----------------------------------------------------------------
    def _panel(self, name: str) -> Panel:
        panel = self._panels.get(name)
        if panel is None:
            cls = self._registry.get(name) or placeholder(name)
            panel = cls(self._theme)
            panel.apply_theme(self._theme)
            panel.frame(self._config)
            panel.cursor_moved.connect(self._cursor_moved)
            panel.edited.connect(self._panel_edited)
            self._panels[name] = panel
            self.keys.install(panel.widget)
        return panel

    def _place(self, layout: Layout) -> None:
        old = self._layout
        for name in old.panels:
            panel = self._panels.get(name)
            if panel is not None:
                self.grid.removeWidget(panel.widget)
                panel.widget.hide()
                panel.set_stale(False)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        self._layout = layout
        for name, row, col, rows, cols in layout.cells:
            panel = self._panel(name)
            self.grid.addWidget(panel.widget, row, col, rows, cols)
            panel.widget.show()
            panel.set_cursor(self._cursor_drawn)
        for r, s in enumerate(layout.row_stretch):
            self.grid.setRowStretch(r, s)
        for c, s in enumerate(layout.col_stretch):
            self.grid.setColumnStretch(c, s)
        self.setWindowTitle(f"gradlab — {layout.title}")
        self.controls.set_layout(layout.name)
        self._wire_training(layout)
        if self._snapshot is not None:
            self._show(self._snapshot_seq, self._snapshot)
        if self._reveal_timer.isActive():
            self.stop_animation()

    def _wire_training(self, layout: Layout) -> None:
        """The attention layout trains a model live (``TrainingRunner``, off the GUI thread):
        its bar, its keys (G / Space train or pause, ↑ ↓ step through the decoding) and its
        frames to the panels. Other layouts pause it and get their keys back."""
        table = key_table(self)
        if TRAINING_PANELS & set(layout.panels):
            if self.training is None:
                self.training = TrainingRunner(self._config)
                self.training_bar = TrainingBar(self.training, self._theme)
                self._main.insertWidget(1, self.training_bar)
                self.keys.install(self.training_bar)
            fresh = [n for n in layout.panels if n in TRAINING_PANELS
                     and n not in self._attached]
            self.training.attach(*(self._panels[n] for n in fresh))
            self._attached.update(fresh)
            self.training.set_config(self._config)
            table.update(self.training.keys())
            self.training_bar.show()
        elif self.training is not None:
            self.training.stop()
            self.training_bar.hide()
        self.keys.table = table

    def _measures(self) -> tuple[str, ...]:
        """The union of the visible panels' measures, and 'gradient' for the summary line."""
        names = ["gradient"]
        for panel in self.panels:
            names.extend(panel.measures + panel.follows)
        return tuple(dict.fromkeys(n for n in names if n in MEASURES))

    # -- slots: hand configs to the worker, snapshots to the panels --------------------------
    @Slot(object)
    def _request(self, config: LabConfig, extra: tuple = ()) -> None:
        self._config = config
        if self.training is not None:  # a new task, cell, score or seed starts a new run
            self.training.set_config(config)
        self._follow_cursor(config)
        measures = tuple(dict.fromkeys(self._measures() + tuple(extra)))
        self._show_summary()
        if (config, measures) == self._requested:
            return
        self._requested = (config, measures)
        if not self._badge_timer.isActive():
            self._badge_timer.start()
        self.worker.submit(config, measures)

    @Slot(int, object)
    def _draw(self, seq: int, snapshot: Snapshot) -> None:
        current = self._snapshot
        if current is not None and snapshot.config == current.config:
            snapshot = current.merged(snapshot)
            seq = max(seq, self._snapshot_seq)
        elif seq < self._snapshot_seq:  # an old expensive result after a newer cheap one
            self._show(seq, snapshot)
            self._update_badges(clear_only=True)
            return
        self._snapshot, self._snapshot_seq = snapshot, seq
        self._show(seq, snapshot)
        self._update_badges(clear_only=True)
        self._show_summary()
        self.compute_label.setText(f"computed in {snapshot.compute_ms:.1f} ms")
        if self._pending_preset is not None and self._current_eigen() is not None:
            self.apply_preset(self._pending_preset)

    def _show(self, seq: int, snapshot: Snapshot) -> None:
        """Draw ``snapshot`` on every visible panel that has all its measures in it and no
        newer picture."""
        for panel in self.panels:
            if not all(m in snapshot for m in panel.measures):
                continue
            drawn = self._drawn.get(panel.name)
            if drawn is not None and drawn.seq > seq:
                continue
            results = tuple(snapshot.results.get(m) for m in panel.measures + panel.follows)
            if drawn is not None and drawn.same(results, snapshot.config):
                self._drawn[panel.name] = Drawn(seq, snapshot.config, results)  # same picture
                continue
            try:
                panel.show(snapshot)
            except Exception as exc:  # a drawing bug must not take the lecture down
                log.exception("panel %s failed to draw", panel.name)
                self.statusBar().showMessage(
                    f"{panel.name}: drawing failed: {type(exc).__name__}: {exc}", 10000)
                continue
            self._drawn[panel.name] = Drawn(seq, snapshot.config, results)
            panel.set_cursor(self._cursor_drawn)  # its axes may have changed (steps)
            if self.reveal_phase != "done":
                panel.set_reveal(self.reveal_phase, self._reveal_fraction)

    def is_stale(self, panel: Panel) -> bool:
        """Whether ``panel``'s picture is older than the controls."""
        drawn = self._drawn.get(panel.name)
        if not panel.measures:
            return False
        return drawn is None or relevant(drawn.config, panel.measures) != \
            relevant(self._config, panel.measures)

    def _update_badges(self, clear_only: bool = False) -> None:
        for panel in self.panels:
            stale = self.is_stale(panel)
            if stale != panel.stale and (not clear_only or not stale):
                panel.set_stale(stale)

    def _show_summary(self) -> None:
        snap = self._snapshot
        grad = None
        if snap is not None and "gradient" in snap and \
                relevant(snap.config, ("gradient",)) == relevant(self._config, ("gradient",)):
            grad = snap["gradient"]
        if TRAINING_PANELS & set(self._layout.panels):  # the training bar tells the rest
            c = self._config
            how = ("without attention (the last state only)" if c.score == "none" else
                   f"with {c.score.replace('_', ' ')} attention")
            self.summary.setText(f"{c.task}: a {c.cell.upper()} encoder-decoder {how}")
            return
        text = caption(self._config, grad)
        if grad is None:
            text += "  ·  computing…" + ("" if snap is not None else
                                         " (the very first start compiles the kernels)")
        self.summary.setText(text)

    def _current_eigen(self):
        snap = self._snapshot
        if snap is None or "eigen" not in snap:
            return None
        same = ("cell", "hidden", "inputs", "init", "seed")
        if any(getattr(snap.config, f) != getattr(self._config, f) for f in same):
            return None
        return snap["eigen"]

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.statusBar().showMessage(message)
        self._requested = None  # let the same config be asked for again

    @Slot(dict)
    def _panel_edited(self, changes: dict) -> None:
        try:
            config = self._config.replace(**changes)
        except ValueError as e:
            self.statusBar().showMessage(str(e), 8000)
            return
        self.set_config(config)

    # -- the time cursor and the reveal animation --------------------------------------------
    def _draw_cursor(self, t: int | None) -> None:
        self._cursor_drawn = t
        for panel in self.panels:
            panel.set_cursor(t)

    def _follow_cursor(self, config: LabConfig) -> None:
        """A config whose cursor (or horizon) changed other than by pointing (reset, a loaded
        file, a scene): the drawn cursor follows it (none for cursor 0, the last step)."""
        key = (config.cursor, config.steps)
        if key == self._cursor_key or self._cursor_timer.isActive():
            return  # unchanged, or the pointer is moving it and the config will follow
        self._cursor_key = key
        self._draw_cursor(config.cursor_step if config.cursor else None)

    @Slot(int)
    def _cursor_moved(self, t: int) -> None:
        self._draw_cursor(t if t > 0 else None)
        if t > 0:
            self._cursor_t = t
            self._cursor_timer.start()

    def _commit_cursor(self) -> None:
        t = min(max(int(self._cursor_t), 1), self._config.steps)
        if t != self._config.cursor_step or self._config.cursor != t:
            self.set_config(self._config.replace(cursor=t))

    def _reveal(self, phase: str, fraction: float) -> None:
        self.reveal_phase, self._reveal_fraction = phase, fraction
        for panel in self.panels:
            panel.set_reveal(phase, fraction)

    def _reveal_tick(self) -> None:
        s = self._reveal_clock.elapsed() / 1000.0 / max(self.reveal_seconds, 1e-3)
        if s < 1.0:
            self._reveal("forward", s)
            return
        if self.reveal_phase == "forward":  # a slow tick never skips a phase's end
            self._reveal("forward", 1.0)
        if s < 2.0:
            self._reveal("backward", s - 1.0)
            return
        self._reveal("backward", 1.0)
        self.stop_animation()

    # -- type scale and theme ----------------------------------------------------------------
    def _apply_scale(self, force: bool = False) -> None:
        by_height = min(max(self.height() / BASE_HEIGHT, 0.75), 3.0)
        factor = round(round(by_height * 20) / 20 * self._zoom, 3)
        if factor == self._factor and not force:
            return
        self._factor = factor
        self._theme = self._base_theme.scaled(factor)
        for panel in self._panels.values():
            panel.apply_theme(self._theme)
            if panel.stale:
                panel.set_stale(True)  # the badge's size follows the type
        if self.training_bar is not None:
            self.training_bar.apply_theme(self._theme)
        self.setPalette(palette(self._theme))
        self.setStyleSheet(stylesheet(self._theme))
        self._fit_controls()
        if not self.overlay.isVisible():  # fitted to the window when it is shown (?)
            self.overlay.setText(help_html(self._theme))
        self._place_overlay()

    def _fit_controls(self) -> None:
        """The control column's width: scaled with the type, at most a third of the window,
        but never narrower than the controls need beside a vertical scroll bar (a short
        window scrolls them; at 1024x600 combos and slider values were cut off)."""
        width = round(CONTROL_WIDTH * min(max(self._factor, 0.8), 2.2))
        width = min(width, max(CONTROL_WIDTH, self.width() // 3))
        scroll = self.controls_scroll
        need = self.controls.minimumSizeHint().width() + 2 * scroll.frameWidth() + \
            scroll.verticalScrollBar().sizeHint().width()
        scroll.setFixedWidth(max(width, need))

    def eventFilter(self, watched, event):  # noqa: N802 (Qt name)
        if watched is self.controls and event.type() == QEvent.Type.LayoutRequest:
            self._fit_controls()  # the controls' size follows the type a moment later
        return super().eventFilter(watched, event)

    def _place_overlay(self, fit: bool = False) -> None:
        self.overlay.setGeometry(self.centralWidget().rect().adjusted(24, 16, -24, -16))
        if fit or self.overlay.isVisible():
            self._fit_overlay()

    def _fit_overlay(self) -> None:
        """The explanations in the window's type, smaller where they would not fit (at
        1024x600 the last column and the keys were cut off at the bottom)."""
        width, height = self.overlay.width(), self.overlay.height()
        for k in OVERLAY_SHRINK:
            self.overlay.setText(help_html(self._theme.scaled(k) if k != 1.0 else self._theme))
            if self.overlay.heightForWidth(width) <= height:
                return

    def resizeEvent(self, event):  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._apply_scale()
        self._place_overlay()
        for panel in self.panels:
            if panel.stale:
                panel.set_stale(True)  # keep the badge in the panel's corner

    def _settle(self) -> None:
        if not self.isVisible():
            self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            self.show()
        QCoreApplication.sendPostedEvents()  # pending layout requests: pixels are current

    def keyPressEvent(self, event):  # noqa: N802 (Qt name)
        if not self.keys.handle(event, self):
            super().keyPressEvent(event)

    def closeEvent(self, event):  # noqa: N802 (Qt name)
        self.hide()  # vanish at once, even if a first compute is still compiling kernels
        self._reveal_timer.stop()
        if self.training is not None:
            self.training.close()
        self.worker.stop()
        super().closeEvent(event)
