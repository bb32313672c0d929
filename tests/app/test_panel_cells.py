"""CellsPanel: one gradient curve per registered cell on the same input and radius, the
config's cell highlighted, growth per step and memory horizon in the key."""

import re

import numpy as np
import pytest

from gradlab.app.panels import get_panel
from gradlab.app.panels.cells import CellsPanel
from gradlab.app.theme import DARK, LIGHT
from gradlab.cells import CELLS
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(CellsPanel, (1200, 600), DARK)


def shown(panel, lab, config):
    panel.frame(config)
    snap = lab.compute(config, panel.measures)
    panel.show(snap)
    return snap["cells"]


def growth_drawn(panel, label: str) -> float:
    """The growth per step written in the key for the cell called ``label``."""
    value = dict(panel.key_values())[label]
    return float(re.search(r"×([0-9.e+-]+) per step", value).group(1))


def test_registered():
    assert get_panel("cells") is CellsPanel
    assert CellsPanel.measures == ("cells",)


def test_one_curve_per_registered_cell(panel, lab):
    res = shown(panel, lab, LabConfig(steps=40))
    labels = [spec.label for spec in CELLS.values()]
    assert [name for name, _ in panel.key_values()] == labels
    assert len(panel.curves) == len(CELLS)
    for i, curve in enumerate(panel.curves):
        x, y = curve.getData()
        ok = np.isfinite(res.log10_norms[i])
        np.testing.assert_array_equal(x, res.lags[ok])
        np.testing.assert_allclose(y, res.log10_norms[i][ok])
        assert curve.isVisible()


def test_own_cell_highlighted(panel, lab):
    for name in ("rnn", "lstm"):
        res = shown(panel, lab, LabConfig(cell=name, steps=40))
        widths = [c.opts["pen"].widthF() for c in panel.curves]
        assert int(np.argmax(widths)) == res.current == list(CELLS).index(name)


def test_growth_in_the_key_follows_the_radius(panel, lab):
    """RNN growth per step as written: below 1 at rho = 0.8, and larger at rho = 1.2."""
    shown(panel, lab, LabConfig(spectral_radius=0.8, steps=40))
    low = growth_drawn(panel, "RNN")
    shown(panel, lab, LabConfig(spectral_radius=1.2, steps=40))
    high = growth_drawn(panel, "RNN")
    assert low < 1.0 and high > low


def test_highway_bias_up_lstm_reaches_further(panel, lab):
    """Forget-gate bias up: the LSTM curve drawn at lag 50 is higher (the highway opens)."""
    at50 = []
    for bias in (0.0, 3.0):
        shown(panel, lab, LabConfig(gate_bias=bias, steps=60))
        x, y = panel.curves[list(CELLS).index("lstm")].getData()
        at50.append(float(y[list(x).index(50)]))
    assert at50[1] > at50[0] + 1.0  # more than a decade higher


def test_items_updated_in_place_and_cursor(panel, lab):
    items = (panel.plot, panel.key, *panel.curves, panel.marks, panel.ends)
    shown(panel, lab, LabConfig(steps=40))
    shown(panel, lab, LabConfig(steps=40, spectral_radius=1.3))
    assert items == (panel.plot, panel.key, *panel.curves, panel.marks, panel.ends)
    panel.set_cursor(30)
    assert panel.cursor.isVisible() and panel.cursor.value() == 10
    panel.set_cursor(0)
    assert not panel.cursor.isVisible()


def test_exploding_curve_drawn_at_true_height(panel, lab):
    """A linear RNN at rho = 3 over 400 steps: ~1e190 at lag 400, drawn there."""
    res = shown(panel, lab, LabConfig(activation="linear", spectral_radius=3.0, steps=400))
    x, y = panel.curves[0].getData()
    assert y[-1] == pytest.approx(res.log10_norms[0][-1]) and y[-1] > 150
    lo, hi = panel.plot.vb.viewRange()[1]
    assert hi >= y.max()


def test_themes(panel, lab):
    shown(panel, lab, LabConfig(steps=40))
    panel.apply_theme(LIGHT)
    assert panel.curves[0].opts["pen"].color().name() == LIGHT.grad
    panel.apply_theme(DARK)
    assert panel.curves[0].opts["pen"].color().name() == DARK.grad


def test_click_moves_the_shared_cursor(panel, lab, qtbot):
    """A click at lag l emits cursor_moved(T - l)."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    shown(panel, lab, LabConfig(steps=40))
    qtbot.wait(10)
    got = []
    panel.cursor_moved.connect(got.append)
    viewport = panel.graphics.viewport()
    scene_pos = panel.plot.vb.mapViewToScene(QPointF(15.0, -2.0))
    pos = QPointF(panel.graphics.mapFromScene(scene_pos))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, button, buttons in ((QEvent.Type.MouseButtonPress, left, left),
                                  (QEvent.Type.MouseButtonRelease, left, none)):
        QApplication.sendEvent(viewport, QMouseEvent(kind, pos, viewport.mapToGlobal(pos),
                                                     button, buttons,
                                                     Qt.KeyboardModifier.NoModifier))
    assert got == [25]


def test_overflowed_state_ends_the_curve_with_a_mark(panel, lab):
    """A linear RNN at rho = 3 over 1000 steps: the state itself overflows near step 650;
    the RNN curve stops there (at ~1e308, its true height), marked and labelled (so does
    the IndRNN's, where registered; the gated cells' states stay bounded)."""
    res = shown(panel, lab, LabConfig(activation="linear", spectral_radius=3.0, steps=1000))
    rnn = list(CELLS).index("rnn")
    stop = int(np.argmin(np.isfinite(res.log10_norms[rnn])))
    x, y = panel.curves[rnn].getData()
    assert x[-1] == stop - 1 and y[-1] > 300
    assert panel.ends.data["x"][0] == stop - 1
    label = panel.end_labels[rnn]
    assert label.isVisible() and "state overflows" in label.textItem.toPlainText()
    for i in range(len(CELLS)):  # a label exactly where a curve stops early
        stops = not np.isfinite(res.log10_norms[i]).all()
        assert panel.end_labels[i].isVisible() == stops


def test_export_png(panel, lab, tmp_path):
    shown(panel, lab, LabConfig(steps=40))
    panel.export(tmp_path / "cells.png")
    assert (tmp_path / "cells.png").stat().st_size > 1000
