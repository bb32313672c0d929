"""QA: an exported window or panel can be read by whoever may read the folder (found by
hand: Ctrl+E wrote win.png and win.svg as -rw------- because the temporary came from
mkstemp, unlike a saved .toml or a rendered video)."""

import os
import stat

import pytest

from gradlab.app.window import LabWindow
from tests.app.stand_ins import STAND_INS


@pytest.fixture
def win(qtbot):
    w = LabWindow(synchronous=True, panels=STAND_INS)
    qtbot.addWidget(w)
    w.resize(640, 360)
    w.show()
    return w


@pytest.mark.parametrize("name", ["window.png", "window.svg", "panel.png"])
def test_exports_get_the_usual_permissions(win, tmp_path, name):
    mask = os.umask(0o022)
    try:
        target = tmp_path / name
        if name.startswith("panel"):
            win.export_panel("gradient", target)
        else:
            win.export_window(target)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left behind
