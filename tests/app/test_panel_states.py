"""StatesPanel: h_t per unit and time, on fixed symmetric levels; overflow marked."""

import numpy as np
import pytest

from gradlab.app.panels import get_panel
from gradlab.app.panels.states import StatesPanel
from gradlab.app.theme import get_theme
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(StatesPanel, (960, 540), get_theme("dark"))



def draw(panel, lab, **fields):
    snapshot = lab.compute(LabConfig(**fields), panel.measures)
    panel.show(snapshot)
    return snapshot["states"]


def test_registered():
    assert get_panel("states") is StatesPanel
    assert StatesPanel.measures == ("states",)


def test_image_is_h_on_fixed_levels(panel, lab):
    s = draw(panel, lab, input_scale=1.0)
    np.testing.assert_array_equal(panel.heat.image.image, s.h)
    assert panel.heat.image.levels.tolist() == [-1.0, 1.0]
    draw(panel, lab, input_scale=1.0, spectral_radius=3.0)  # saturates, same scale
    assert panel.heat.image.levels.tolist() == [-1.0, 1.0]
    s = draw(panel, lab, activation="relu", input_scale=0.5)
    assert panel.heat.image.levels.tolist() == [-s.level, s.level] == [-5.0, 5.0]


def test_states_scale_with_the_input_in_a_linear_rnn(panel, lab):
    draw(panel, lab, activation="linear", spectral_radius=0.9, input_scale=0.05)
    small = panel.heat.image.image.copy()
    draw(panel, lab, activation="linear", spectral_radius=0.9, input_scale=0.5)
    np.testing.assert_allclose(panel.heat.image.image, 10 * small, rtol=1e-9, atol=1e-12)


def test_overflow_is_marked(panel, lab):
    s = draw(panel, lab, activation="linear", spectral_radius=3.0, steps=1000)
    k = s.overflow_step
    assert k is not None
    assert panel.overflow_line.isVisible() and panel.overflow_line.value() == k - 0.5
    assert " ".join(panel.overflow_label.toPlainText().split()) == \
        f"state overflows at step {k}"
    assert panel.heat.mask.isVisible()
    assert panel._title.startswith("max |h| = ") and panel.clipped.isVisible()
    draw(panel, lab)
    assert not panel.overflow_line.isVisible() and not panel.heat.mask.isVisible()
    assert panel._title is None and not panel.clipped.isVisible()


def test_cursor_and_forward_reveal(panel, lab):
    draw(panel, lab, steps=60)
    panel.set_cursor(33)
    assert panel.heat.cursor.isVisible() and panel.heat.cursor.value() == 33
    panel.set_reveal("forward", 0.5)  # steps 1..30 shown, 31..60 covered
    r = panel.heat.curtain.rect()
    assert panel.heat.curtain.isVisible() and (r.left(), r.right()) == (30.5, 60.5)
    panel.set_reveal("backward", 0.3)  # the states are all there while the gradient flows
    assert not panel.heat.curtain.isVisible()
    panel.set_cursor(None)
    assert not panel.heat.cursor.isVisible()


def test_items_are_updated_in_place(panel, lab):
    draw(panel, lab)
    before = list(panel.plot.items)
    image = panel.heat.image
    for kw in (dict(spectral_radius=0.5), dict(cell="lstm"), dict(hidden=64, steps=200),
               dict(activation="linear", spectral_radius=3.0, steps=1000)):
        draw(panel, lab, **kw)
        assert list(panel.plot.items) == before
        assert panel.heat.image is image
    panel.apply_theme(get_theme("light"))
    assert list(panel.plot.items) == before


def test_hidden_module_is_gone():
    with pytest.raises(ModuleNotFoundError):
        __import__("gradlab.app.panels.hidden")


def click_at(qtbot, panel, plot, x, y):
    """A left click at data point (x, y) of ``plot``."""
    from PySide6.QtCore import QPointF, Qt

    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    pos = panel.graphics.mapFromScene(scene)
    qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_clicking_points_the_shared_cursor(panel, lab, qtbot):
    draw(panel, lab, steps=60)
    qtbot.wait(20)
    with qtbot.waitSignal(panel.cursor_moved, timeout=1000) as blocker:
        click_at(qtbot, panel, panel.plot, 20.2, 10)
    assert blocker.args == [20]
