"""QA: the drawn time cursor never contradicts the config (found by hand, in a real window).

Scrub to t = 47, then press R: the eigenvalue key said "J_t at t = 60" while every heatmap
and the gradient plot kept a cursor line at t = 47; after steps 60 -> 5000 the gradient
plot still drew the line at the old lag (T - t with T = 60).
"""

import pytest
from PySide6.QtCore import Qt

from gradlab.app.window import LabWindow
from gradlab.config import LabConfig


@pytest.fixture
def win(stand_in_window):
    return stand_in_window


def scrub_to(win, qtbot, t):
    win.panel("gradient").cursor_moved.emit(t)
    qtbot.waitUntil(lambda: win.config.cursor == t, timeout=2000)


def test_reset_takes_the_drawn_cursor_away(win, qtbot):
    scrub_to(win, qtbot, 47)
    assert all(p.cursor == 47 for p in win.panels)
    qtbot.keyClick(win, Qt.Key.Key_R)
    assert win.config.cursor == 0
    assert all(p.cursor is None for p in win.panels)


def test_a_config_with_a_cursor_draws_it_everywhere(win):
    win.set_config(LabConfig(cursor=12))  # an opened file, a scene
    assert all(p.cursor == 12 for p in win.panels)
    win.set_config(LabConfig(cursor=12, steps=8))  # beyond the horizon: the last step
    assert all(p.cursor == 8 for p in win.panels)


def test_a_new_layout_shows_the_cursor_too(win, qtbot):
    scrub_to(win, qtbot, 20)
    win.set_layout("gates")
    assert all(p.cursor == 20 for p in win.panels)


def test_a_pointer_that_left_keeps_the_line_hidden_while_rho_moves(win, qtbot):
    scrub_to(win, qtbot, 20)
    win.panel("gradient").cursor_moved.emit(0)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert all(p.cursor is None for p in win.panels)


def test_the_gradient_line_moves_to_the_new_lag_when_the_horizon_grows(qtbot):
    w = LabWindow(synchronous=True)
    qtbot.addWidget(w)
    w.show()
    w.set_config(LabConfig(steps=60, cursor=47, hidden=8))
    gradient = w.panel("gradient")
    assert gradient.cursor.value() == 13
    w.set_config(LabConfig(steps=400, cursor=47, hidden=8))
    assert gradient.cursor.isVisible() and gradient.cursor.value() == 400 - 47
