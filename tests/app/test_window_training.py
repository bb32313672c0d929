"""The attention layout in the real window: G trains off the GUI thread, frames reach the
panels, ↑/↓ step through the decoding there (and move ρ elsewhere), closing is prompt."""

import time

import pytest
from PySide6.QtCore import Qt

from gradlab.app.window import LabWindow
from gradlab.config import LabConfig


@pytest.fixture
def win(qtbot):
    w = LabWindow(LabConfig(train_updates=40), synchronous=True)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    yield w
    w.close()


def test_training_is_wired_only_in_the_attention_layout(win, qtbot):
    assert win.training is None  # nothing trains (or even starts a thread) elsewhere
    win.set_layout("attention")
    assert win.training is not None and win.training_bar.isVisible()
    rho = win.config.spectral_radius
    qtbot.keyClick(win, Qt.Key.Key_G)
    qtbot.waitUntil(lambda: win.training.state in ("training", "done"), timeout=5000)
    qtbot.waitUntil(lambda: win.training.state == "done", timeout=30000)
    frame = win.training.frame
    assert frame is not None and frame.update == 40
    assert win.panel("alignment").current is frame  # the panels drew the newest frame
    qtbot.keyClick(win, Qt.Key.Key_Down)  # steps the decoding here, not rho
    assert win.config.spectral_radius == rho and win.training.row == 1
    win.set_layout("vanishing")
    assert not win.training_bar.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_Down)  # rho again
    assert win.config.spectral_radius == pytest.approx(rho - 0.05)


def test_closing_mid_training_is_prompt(qtbot):
    w = LabWindow(LabConfig(train_updates=5000), synchronous=True)
    qtbot.addWidget(w)
    w.set_layout("attention")
    w.training.start()
    qtbot.waitUntil(lambda: w.training.state == "training", timeout=5000)
    start = time.perf_counter()
    w.close()
    assert time.perf_counter() - start < 1.5
