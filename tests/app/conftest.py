"""Fixtures for the Qt app tests: a synchronous LabWindow at the video export size."""

import pytest

from gradlab.app.window import LabWindow


@pytest.fixture
def window(qtbot):
    """A shown (offscreen) synchronous LabWindow at 1280x720, closed after the test."""
    w = LabWindow(synchronous=True)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    return w

