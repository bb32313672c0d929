"""Fixtures for the Qt app tests: a synchronous LabWindow at the video export size, one Lab
per test module, and shown panels."""

import pytest

from gradlab.app.theme import DARK
from gradlab.app.window import LabWindow
from gradlab.lab import Lab


@pytest.fixture(scope="module")
def lab():
    """One Lab per test module (its caches make repeated configs cheap)."""
    return Lab()


@pytest.fixture
def make_panel(qtbot):
    """make_panel(PanelClass, (w, h), theme): the panel built, sized and shown offscreen."""

    def make(cls, size=(960, 540), theme=DARK):
        p = cls(theme)
        qtbot.addWidget(p.widget)
        p.widget.resize(*size)
        p.widget.show()
        return p

    return make


@pytest.fixture
def window(qtbot):
    """A shown (offscreen) synchronous LabWindow at 1280x720, closed after the test."""
    w = LabWindow(synchronous=True)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    return w



@pytest.fixture
def stand_in_window(qtbot):
    """A shown synchronous LabWindow at 1280x720 whose panels are the light stand-ins."""
    from .stand_ins import STAND_INS

    w = LabWindow(synchronous=True, panels=STAND_INS)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    return w
