"""GradientPanel: the drawn ||dL/dh_{T-l}|| follows the mathematics, in place, at any height."""

import numpy as np
import pytest

from gradlab.app.panels import get_panel
from gradlab.app.panels.gradient import GradientPanel, decades
from gradlab.app.theme import get_theme
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(GradientPanel, (960, 540), get_theme("dark"))



def draw(panel, lab, **fields):
    snapshot = lab.compute(LabConfig(**fields), panel.measures)
    panel.show(snapshot)
    return snapshot["gradient"]


def drawn(panel):
    x, y = panel.curve.getData()
    if x is None:  # nothing drawn
        return np.zeros(0), np.zeros(0)
    return np.asarray(x), np.asarray(y)


def at_lag(panel, lag):
    x, y = drawn(panel)
    return float(y[np.flatnonzero(x == lag)[0]])


def test_registered():
    assert get_panel("gradient") is GradientPanel
    assert GradientPanel.measures == ("gradient",)
    assert GradientPanel.subtitle


def test_forget_bias_lengthens_the_lstm_gradient(panel, lab):
    draw(panel, lab, cell="lstm", steps=80, gate_bias=0.0)
    closed = at_lag(panel, 50)
    draw(panel, lab, cell="lstm", steps=80, gate_bias=3.0)
    opened = at_lag(panel, 50)
    assert opened > closed + 3.0  # decades: the highway carries the gradient much further


def test_rho_tilts_the_slope_of_the_tanh_rnn(panel, lab):
    slopes = []
    for rho in (0.8, 1.2):
        draw(panel, lab, spectral_radius=rho)
        x, y = drawn(panel)
        slopes.append(np.polyfit(x, y, 1)[0])
    assert slopes[0] < 0 < slopes[1]


def test_rho_sets_the_slope_of_the_linear_rnn(panel, lab):
    slopes = []
    for rho in (0.8, 1.2):
        draw(panel, lab, spectral_radius=rho, activation="linear")
        x, y = drawn(panel)
        slopes.append(np.polyfit(x, y, 1)[0])
    assert slopes[0] < 0 < slopes[1]
    # a linear RNN with orthogonal W: exactly rho^l, i.e. log10(rho) decades per step
    assert slopes[0] == pytest.approx(np.log10(0.8), rel=1e-6)
    assert slopes[1] == pytest.approx(np.log10(1.2), rel=1e-6)


def test_a_gradient_of_1e_minus_2000_is_drawn_at_its_height_and_marked(panel, lab):
    g = draw(panel, lab, activation="linear", spectral_radius=0.2, steps=3000)
    x, y = drawn(panel)
    assert x[-1] == 3000
    assert y[-1] == pytest.approx(3000 * np.log10(0.2), abs=1e-6)  # about -2097 decades
    np.testing.assert_allclose(y, g.log10_norms)
    assert y[-1] < -2000
    # the window stays +-16 decades: an arrow at the bottom edge says how far it went
    top = decades(3000)
    assert top == 16
    (y0, y1) = panel.plot.getViewBox().viewRange()[1]
    assert -18 < y0 < -16 and 16 < y1 < 18
    bottom = panel.marks["bottom"]
    assert bottom.arrow.isVisible() and bottom.label.isVisible()
    assert "10⁻²⁰⁹⁷" in bottom.text and "at lag 3000" in bottom.text
    assert bottom.arrow.pos().y() == -top
    # it leaves where the straight line log10(0.2) * l crosses -16
    assert bottom.arrow.pos().x() == pytest.approx(16 / -np.log10(0.2), abs=0.5)
    assert not panel.marks["top"].arrow.isVisible()


def test_exploding_curve_is_marked_at_the_top(panel, lab):
    draw(panel, lab, activation="linear", spectral_radius=1.5, steps=300)
    top = panel.marks["top"]
    assert top.arrow.isVisible()
    assert "at lag 300" in top.text
    assert not panel.marks["bottom"].arrow.isVisible()
    draw(panel, lab, activation="linear", spectral_radius=1.0, steps=300)
    assert not top.arrow.isVisible()


def test_reference_line_and_its_label(panel, lab):
    g = draw(panel, lab, spectral_radius=0.9)
    x, y = panel.reference.getData()
    np.testing.assert_allclose(y, g.log10_reference)
    assert "ρ<sup>l</sup>" in panel.key and "∂L/∂h" in panel.key
    assert panel.plot.titleLabel.text == panel.key
    draw(panel, lab, cell="lstm")
    assert "∏ f" in panel.key and "ρ<sup>l</sup>" not in panel.key
    draw(panel, lab, cell="gru")
    assert "∏ z" in panel.key
    assert panel.plot.titleLabel.text == panel.key


def test_state_overflow_is_marked(panel, lab):
    g = draw(panel, lab, activation="linear", spectral_radius=3.0, steps=3000)
    assert g.overflow_step is not None
    assert panel.overflow.isVisible()
    assert panel.overflow_label.toPlainText() == f"state overflows at step {g.overflow_step}"
    assert panel.overflow.getRegion()[1] == pytest.approx(3000 - g.overflow_step)
    draw(panel, lab)
    assert not panel.overflow.isVisible() and not panel.overflow_label.isVisible()


def test_memory_horizon_is_marked(panel, lab):
    g = draw(panel, lab, spectral_radius=0.8)
    assert g.horizon is not None
    assert panel.horizon.isVisible()
    assert panel.horizon.value() == g.horizon
    assert str(g.horizon) in panel.horizon_label.toPlainText()
    draw(panel, lab, spectral_radius=1.0)  # no horizon within T
    assert not panel.horizon.isVisible()


def test_cursor_is_a_line_at_lag_T_minus_t(panel, lab):
    draw(panel, lab, steps=60)
    panel.set_cursor(20)
    assert panel.cursor.isVisible() and panel.cursor.value() == 40
    panel.set_cursor(60)
    assert panel.cursor.value() == 0
    panel.set_cursor(None)
    assert not panel.cursor.isVisible()


def test_reveal_backward(panel, lab):
    draw(panel, lab, steps=60)
    panel.set_reveal("forward", 0.7)
    assert len(drawn(panel)[0]) == 0
    panel.set_reveal("backward", 0.5)
    x, _ = drawn(panel)
    assert x[0] == 0 and x[-1] == 30
    draw(panel, lab, steps=60, spectral_radius=0.9)  # a new snapshot keeps the phase
    assert drawn(panel)[0][-1] == 30
    panel.set_reveal("done", 1.0)
    assert drawn(panel)[0][-1] == 60


def test_frame_follows_the_config_only(panel, lab):
    panel.frame(LabConfig(steps=60))
    (x0, x1), (y0, y1) = panel.plot.getViewBox().viewRange()
    assert x1 == pytest.approx(60, abs=2) and y1 == pytest.approx(8, abs=1.5)
    draw(panel, lab, steps=60, spectral_radius=1.3)
    assert panel.plot.getViewBox().viewRange()[1] == pytest.approx([y0, y1])
    panel.frame(LabConfig(steps=3000))
    assert panel.plot.getViewBox().viewRange()[1][1] == pytest.approx(16, abs=2.5)


def test_items_are_updated_in_place(panel, lab):
    draw(panel, lab)
    before = list(panel.plot.items)
    curve = panel.curve
    for kw in (dict(spectral_radius=0.5), dict(cell="lstm", gate_bias=2.0),
               dict(activation="linear", spectral_radius=0.2, steps=3000),
               dict(activation="linear", spectral_radius=3.0, steps=3000)):
        draw(panel, lab, **kw)
        assert list(panel.plot.items) == before
        assert panel.curve is curve


def test_light_theme_and_scaling_restyle_in_place(panel, lab):
    draw(panel, lab, activation="linear", spectral_radius=0.2, steps=3000)
    items = list(panel.plot.items)
    panel.apply_theme(get_theme("light").scaled(1.5))
    assert list(panel.plot.items) == items
    assert panel.curve.opts["pen"].color().name() == get_theme("light").grad


def test_clicking_at_a_lag_points_the_cursor_at_step_T_minus_lag(panel, lab, qtbot):
    from PySide6.QtCore import QPointF, Qt

    draw(panel, lab, steps=60)
    qtbot.wait(20)
    scene = panel.plot.getViewBox().mapViewToScene(QPointF(15, 0))
    with qtbot.waitSignal(panel.cursor_moved, timeout=1000) as blocker:
        qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.graphics.mapFromScene(scene))
    assert blocker.args == [45]


def test_export_png(panel, lab, tmp_path):
    draw(panel, lab, activation="linear", spectral_radius=0.2, steps=3000)
    panel.export(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000


def test_export_svg(panel, lab, tmp_path):
    # drawn through QSvgGenerator (pyqtgraph's SVG exporter fails on this Qt's paths)
    draw(panel, lab)
    panel.widget.resize(800, 500)
    panel.export(tmp_path / "g.svg")
    text = (tmp_path / "g.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and len(text) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]  # no temporary left behind
