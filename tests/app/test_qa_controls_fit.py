"""QA: the control column is never narrower than its controls (found by hand: at 1024x600 the
combo boxes and the slider values were cut off on the right, under the scroll bar)."""

import pytest
from PySide6.QtCore import QCoreApplication

from gradlab.app.window import LabWindow
from tests.app.stand_ins import STAND_INS


@pytest.fixture
def win(qtbot):
    w = LabWindow(synchronous=True, panels=STAND_INS)
    qtbot.addWidget(w)
    w.show()
    return w


def settle(qtbot):
    QCoreApplication.processEvents()
    qtbot.wait(20)
    QCoreApplication.processEvents()


@pytest.mark.parametrize("size, zoom", [((1024, 600), 0), ((800, 600), 0), ((1280, 720), 0),
                                        ((1280, 720), 3), ((1024, 600), -2),
                                        ((1920, 1080), 2)])
def test_every_control_fits_its_column(win, qtbot, size, zoom):
    win.resize(*size)
    settle(qtbot)
    if zoom:
        win.zoom(zoom)
        settle(qtbot)
    viewport = win.controls_scroll.viewport().width()
    assert win.controls.minimumSizeHint().width() <= viewport
    assert win.controls.width() <= viewport
    for editor in win.controls.editors.values():  # nothing sticks out on the right
        right = editor.mapTo(win.controls, editor.rect().topRight()).x()
        assert right < viewport, editor
