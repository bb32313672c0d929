"""QA: in a short gradient plot (1024x600 window, or under a two-line scene caption) the
rotated y label was clipped to "‖∂L/∂h_{T−l}‖ (log scale"; it now drops "(log scale)" when
it does not fit, and comes back when there is room."""

import pytest
from PySide6.QtCore import QCoreApplication

from gradlab.app.panels.gradient import Y_LABEL, Y_LABEL_SHORT, GradientPanel
from gradlab.app.theme import DARK


@pytest.fixture
def panel(qtbot):
    p = GradientPanel(DARK.scaled(0.85))
    qtbot.addWidget(p.widget)
    p.widget.show()
    return p


def fitted(panel, qtbot, w, h):
    panel.widget.resize(w, h)
    for _ in range(3):
        QCoreApplication.processEvents()
        qtbot.wait(10)
    axis = panel.plot.getAxis("left")
    return axis.labelText, axis.label.boundingRect().width(), panel.plot.getViewBox().height()


def test_the_y_label_fits_a_short_plot(panel, qtbot):
    text, length, height = fitted(panel, qtbot, 480, 230)
    assert text == Y_LABEL_SHORT
    assert length <= height + 8  # the whole label is beside the plot
    text, length, height = fitted(panel, qtbot, 700, 600)
    assert text == Y_LABEL
    assert length <= height + 8
