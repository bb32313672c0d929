"""QA: the ? overlay fits its window (found by hand: at 1024x600 the last column was cut off
mid-formula and the line of keys was not shown at all)."""

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


@pytest.mark.parametrize("size", [(1024, 600), (800, 600), (1280, 720), (1920, 1080)])
def test_the_explanations_fit(win, qtbot, size):
    win.resize(*size)
    QCoreApplication.processEvents()
    win.toggle_help()
    overlay = win.overlay
    assert overlay.isVisible()
    assert overlay.heightForWidth(overlay.width()) <= overlay.height()
    assert "Ctrl+S save" in overlay.text()  # the keys are part of it


def test_a_roomy_window_keeps_the_full_type(win):
    win.resize(1280, 720)
    win.toggle_help()
    assert f"font-size:{win._theme.help_pt}pt" in win.overlay.text()


def test_it_refits_when_the_window_shrinks_while_shown(win, qtbot):
    win.resize(1280, 720)
    win.toggle_help()
    win.resize(1024, 600)
    QCoreApplication.processEvents()
    assert win.overlay.heightForWidth(win.overlay.width()) <= win.overlay.height()
