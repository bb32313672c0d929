"""FlowPanel: the heatmap is log10 |dL/dh_t| itself, on levels fixed by the config."""

import numpy as np
import pytest
from PySide6.QtGui import QColor

from gradlab.app.panels import get_panel
from gradlab.app.panels.flow import FlowPanel
from gradlab.app.theme import get_theme
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(FlowPanel, (960, 540), get_theme("dark"))



def draw(panel, lab, **fields):
    snapshot = lab.compute(LabConfig(**fields), panel.measures)
    panel.show(snapshot)
    return snapshot["gradient"]


def test_registered():
    assert get_panel("flow") is FlowPanel
    assert FlowPanel.measures == ("gradient",)


def test_image_is_the_measure(panel, lab):
    g = draw(panel, lab, spectral_radius=0.8)
    image = panel.heat.image.image
    assert image.shape == (60, 32)  # (T, n): time across, units down
    np.testing.assert_array_equal(image, g.log10_units)
    rect = panel.heat.image.mapRectToParent(panel.heat.image.boundingRect())
    assert (rect.left(), rect.right()) == (0.5, 60.5)


def test_gradient_fades_back_in_time_when_rho_is_small(panel, lab):
    draw(panel, lab, spectral_radius=0.6, activation="linear")
    image = panel.heat.image.image
    mean = image.mean(axis=1)  # (T,) decades per step
    assert mean[0] < mean[-1] - 10  # step 1 is 59 steps back: 59 * log10(0.6) ~ -13


def test_levels_are_fixed_relative_to_lag_0(panel, lab):
    for rho in (0.8, 1.0, 1.3):
        draw(panel, lab, spectral_radius=rho)
        assert panel.heat.image.levels.tolist() == [-8.0, 8.0]  # decades(60) = 8 each way
        assert tuple(panel.heat.colorbar.levels()) == (-8.0, 8.0)
    draw(panel, lab, steps=3000, activation="linear", spectral_radius=0.2)
    assert panel.heat.image.levels.tolist() == [-16.0, 16.0]


def test_colour_bar_is_labelled_in_powers_of_ten(panel, lab):
    draw(panel, lab)
    labels = [label for _, label in panel.heat.colorbar.axis._tickLevels[0]]
    assert "1" in labels and "10⁻⁸" in labels and "10⁸" in labels


def test_exact_zero_and_nan_are_distinguishable(panel, lab):
    g = draw(panel, lab, activation="relu", spectral_radius=2.0, steps=2000, input_scale=1.0)
    units = g.log10_units
    zero = np.argwhere(np.isneginf(units))[0]
    lost = np.argwhere(np.isnan(units))[0]
    assert panel.heat.mask.isVisible()
    mask = panel.heat.mask.image  # (T, n, 4)
    t = get_theme("dark")
    assert QColor(*mask[tuple(zero)][:3]).name() == QColor(t.muted).name()
    assert QColor(*mask[tuple(lost)][:3]).name() == QColor(t.overflow).name()
    assert np.all(mask[np.isfinite(units)][:, 3] == 0)  # finite cells: the image shows
    assert np.all(np.isnan(panel.heat.image.image[~np.isfinite(units)]))
    assert "exactly 0" in panel.key.text and "overflow" in panel.key.text
    draw(panel, lab)
    assert not panel.heat.mask.isVisible()
    assert "exactly 0" not in panel.key.text


def test_cursor_and_backward_reveal(panel, lab):
    draw(panel, lab, steps=60)
    panel.set_cursor(17)
    assert panel.heat.cursor.isVisible() and panel.heat.cursor.value() == 17
    panel.set_cursor(None)
    assert not panel.heat.cursor.isVisible()
    panel.set_reveal("forward", 0.5)  # the gradient has not started flowing
    assert panel.heat.curtain.isVisible()
    assert panel.heat.curtain.rect().left() == 0.5 and panel.heat.curtain.rect().right() == 60.5
    panel.set_reveal("backward", 0.25)  # steps 46..60 shown, 1..45 covered
    r = panel.heat.curtain.rect()
    assert (r.left(), r.right()) == (0.5, 45.5)
    panel.set_reveal("done", 1.0)
    assert not panel.heat.curtain.isVisible()


def test_items_are_updated_in_place(panel, lab):
    draw(panel, lab)
    before = list(panel.plot.items)
    image = panel.heat.image
    for kw in (dict(spectral_radius=0.5), dict(cell="gru"),
               dict(activation="relu", spectral_radius=2.0, steps=2000, input_scale=1.0),
               dict(hidden=8, steps=30)):
        draw(panel, lab, **kw)
        assert list(panel.plot.items) == before
        assert panel.heat.image is image
    panel.apply_theme(get_theme("light").scaled(1.4))
    assert list(panel.plot.items) == before


def test_clicking_points_the_shared_cursor(panel, lab, qtbot):
    from PySide6.QtCore import QPointF, Qt

    draw(panel, lab, steps=60)
    qtbot.wait(20)
    scene = panel.plot.getViewBox().mapViewToScene(QPointF(7.1, 3))
    with qtbot.waitSignal(panel.cursor_moved, timeout=1000) as blocker:
        qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.graphics.mapFromScene(scene))
    assert blocker.args == [7]
