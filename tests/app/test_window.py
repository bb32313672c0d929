"""The lab window: panels from the registry placed by named layouts, only the measures shown
are computed, the time cursor, dragged edits and eigenvalue presets (stand-in panels)."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gradlab.app.theme import DARK, LIGHT
from gradlab.app.window import LabWindow, PlaceholderPanel
from gradlab.config import LabConfig
from gradlab.lab import Lab
from gradlab.layouts import LAYOUTS
from tests.app.stand_ins import STAND_INS


class CountingLab(Lab):
    """Records the measures each compute was asked for."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def compute(self, config, measures=None):
        self.asked.append(tuple(measures))
        return super().compute(config, measures)


@pytest.fixture
def win(qtbot):
    w = LabWindow(synchronous=True, panels=STAND_INS, lab=CountingLab())
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    return w


def test_the_default_layout_is_built_from_the_registry(win):
    first = next(iter(LAYOUTS.values()))
    assert win.layout == first.name
    assert [p.name for p in win.panels] == list(first.panels)
    assert all(isinstance(p, STAND_INS[p.name]) for p in win.panels)
    for name, row, col, rows, cols in first.cells:  # placed where the layout says
        index = win.grid.indexOf(win.panel(name).widget)
        assert win.grid.getItemPosition(index) == (row, col, rows, cols)
    assert win.windowTitle().endswith(first.title)
    snap = win.snapshot
    assert snap.config == LabConfig() == win.config
    for p in win.panels:
        assert p.shown[-1] == snap.config and not p.stale


def test_only_the_measures_shown_are_computed(win):
    for name, layout in LAYOUTS.items():
        win.set_layout(name)
        wanted = {m for p in layout.panels for m in STAND_INS[p].measures} | {"gradient"}
        assert set(win.worker.lab.asked[-1]) == wanted - {"spectrum"} or \
            set(win.worker.lab.asked[-1]) == wanted, name
        assert set(win.snapshot.results) >= wanted


def test_panels_are_built_once_and_kept_when_switching(win):
    gradient = win.panel("gradient")
    win.set_layout("gates")
    win.set_layout("vanishing")
    assert win.panel("gradient") is gradient
    hidden = [p for name, p in win._panels.items() if name not in win._layout.panels]
    assert all(not p.widget.isVisible() for p in hidden)
    assert all(p.widget.isVisible() for p in win.panels)


def test_number_keys_switch_layouts(win, qtbot):
    for i, name in enumerate(LAYOUTS, start=1):
        qtbot.keyClick(win, getattr(Qt.Key, f"Key_{i}"))
        assert win.layout == name
        assert win.controls.layout_combo.currentData() == name
    with pytest.raises(ValueError, match="vanishing"):
        win.set_layout("nope")


def test_a_layout_chosen_in_the_controls_is_shown(win):
    win.controls.layout_combo.activated.emit(3)
    assert win.layout == list(LAYOUTS)[3]


def test_a_panel_missing_from_the_registry_gets_a_placeholder(qtbot):
    partial = {k: v for k, v in STAND_INS.items() if k != "eigen"}
    w = LabWindow(synchronous=True, panels=partial)
    qtbot.addWidget(w)
    assert isinstance(w.panel("eigen"), PlaceholderPanel)
    assert "eigen" in w.panel("eigen").subtitle_label.text()
    assert w.snapshot is not None


def test_a_panel_that_fails_to_draw_does_not_stop_the_others(qtbot):
    class Broken(STAND_INS["states"]):
        def show(self, snapshot):
            raise RuntimeError("bad pixels")

    w = LabWindow(synchronous=True, panels={**STAND_INS, "states": Broken})
    qtbot.addWidget(w)
    assert "bad pixels" in w.statusBar().currentMessage()
    assert w.panel("gradient").shown


def test_the_slider_redraws_and_the_summary_follows_the_controls(win):
    gradient = win.panel("gradient")
    before = gradient.curve.getData()[1].copy()
    win.controls.rho_slider.setValue(90)
    assert win.snapshot.config.spectral_radius == 0.9 == win.config.spectral_radius
    after = gradient.curve.getData()[1]
    assert after[-1] < before[-1]  # less gradient reaches the far lags
    assert win.summary.text().startswith("RNN tanh  ρ = 0.90")
    assert "shrinks" in win.summary.text()


def test_set_config_and_theme_keep_the_public_api(win):
    win.set_config(LabConfig(cell="lstm", hidden=8, steps=30))
    assert win.config.cell == "lstm" and win.snapshot.config.cell == "lstm"
    assert win.controls.editors["cell"].currentText() == "lstm"
    win.set_theme("light")
    assert win.theme == "light"
    assert all(p.themes[-1].background == LIGHT.background for p in win.panels)
    win.set_theme("dark")
    assert win.panels[0].themes[-1].background == DARK.background
    win.set_caption("A scene caption")
    assert win.caption.isVisible() and win.caption.text() == "A scene caption"
    win.set_caption("")
    assert not win.caption.isVisible()
    win.show_controls(False)
    assert not win.controls_scroll.isVisible()
    rgb = win.grab_rgb()
    assert rgb.shape == (720, 1280, 3) and rgb.dtype == np.uint8


def test_the_time_cursor_is_shared_and_reaches_the_config(win, qtbot):
    gradient, eigen = win.panel("gradient"), win.panel("eigen")
    gradient.cursor_moved.emit(17)
    assert all(p.cursor == 17 for p in win.panels)  # drawn at once
    assert win.config.cursor == 0  # the config follows after a pause (debounced)
    qtbot.waitUntil(lambda: win.config.cursor == 17, timeout=2000)
    assert win.snapshot["step_eigen"].cursor == 17
    assert eigen.shown[-1].cursor == 17
    shown = len(gradient.shown)
    gradient.cursor_moved.emit(30)
    qtbot.waitUntil(lambda: win.config.cursor == 30, timeout=2000)
    assert len(gradient.shown) == shown  # the gradient ignores the cursor: not redrawn
    gradient.cursor_moved.emit(0)  # the pointer left: the line goes, the config stays
    assert all(p.cursor is None for p in win.panels)


def test_a_panel_edit_becomes_the_config(win):
    eigs = tuple((0.9, 0.0) for _ in range(32))
    win.panel("eigen").edited.emit({"eigs": eigs})
    assert win.config.eigs == eigs and win.snapshot.config.eigs == eigs
    assert np.allclose(np.abs(win.snapshot["eigen"].eigvals), 0.9)
    win.panel("eigen").edited.emit({"spectral_radius": 99.0})  # refused, reported
    assert "spectral_radius" in win.statusBar().currentMessage()
    assert win.config.eigs == eigs


@pytest.mark.parametrize("preset, values", [("diag(0.5, 1.5)", {0.5, 1.5}),
                                            ("golden ratio", {1.618, -0.618})])
def test_eigenvalue_presets(win, preset, values):
    win.controls.preset.textActivated.emit(preset)
    eigs = win.config.eigs
    assert len(eigs) == 32 and {round(re, 3) for re, _ in eigs} == values
    lam = win.snapshot["eigen"].eigvals
    assert np.allclose(lam.imag, 0.0) and np.isclose(np.max(np.abs(lam)), max(np.abs(list(values))), atol=1e-3)
    win.controls.editors["seed"].setValue(5)  # a new matrix: the preset goes
    assert win.config.eigs == () and win.controls.preset.currentText() == "none"


def test_presets_wait_for_the_eigenvalues_when_no_panel_shows_them(win):
    win.set_layout("cells")
    win.set_config(win.config.replace(seed=2))
    assert "eigen" not in win.snapshot
    win.apply_preset("diag(0.5, 1.5)")
    assert {round(re, 3) for re, _ in win.config.eigs} == {0.5, 1.5}
