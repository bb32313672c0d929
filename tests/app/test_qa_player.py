"""QA: at the end of a live scene the status bar says "Home plays it again"; Home went back
to the first frame but stayed paused there (found by hand in ``gradlab play``)."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gradlab.app.player import ScenePlayer
from gradlab.app.window import LabWindow
from gradlab.config import LabConfig
from gradlab.scene import Scene
from tests.app.stand_ins import STAND_INS


class Short(Scene):
    config = LabConfig(spectral_radius=0.9, steps=20, hidden=8)
    fps = 10

    def construct(self):
        self.caption("only")
        self.animate(duration=0.3, ease="linear", spectral_radius=1.1)


def shown(qtbot):
    window = LabWindow(Short.config, synchronous=True, panels=STAND_INS)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    return window


def test_home_after_the_end_plays_the_scene_again(qtbot):
    window = shown(qtbot)
    player = ScenePlayer(window, Short)
    player.start()
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    assert "Home plays it again" in window.statusBar().currentMessage()
    QTest.keyClick(window, Qt.Key.Key_Home)
    assert player.index == 0 and player.playing
    qtbot.waitUntil(lambda: player.index > 0, timeout=5000)  # it really plays


def test_home_while_paused_mid_scene_stays_paused(qtbot):
    window = shown(qtbot)
    player = ScenePlayer(window, Short)
    player.start()
    player.pause()
    player._seek(1)  # paused in the middle
    player.restart()
    assert player.index == 0 and not player.playing
