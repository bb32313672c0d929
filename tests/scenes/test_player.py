"""ScenePlayer live in a LabWindow: timer playback, lecture keys, broken scenes; fit_frame."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from gradlab.app.player import ScenePlayer, fit_frame, open_player
from gradlab.app.window import LabWindow
from gradlab.config import LabConfig
from gradlab.scene import Scene


class Three(Scene):
    """Three timed steps at 10 fps: frames 0-1 (wait), 2-3 (animate), 4-5 (wait)."""

    config = LabConfig(spectral_radius=0.9, steps=20, hidden=8)
    fps = 10

    def construct(self):
        self.caption("first")
        self.wait(0.2)
        self.animate(duration=0.2, ease="linear", spectral_radius=1.1)
        self.caption("second")
        self.wait(0.2)


@pytest.fixture
def window(qtbot):
    w = LabWindow(Three.config, synchronous=True)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    return w


def caption_text(window):
    label = window.findChild(QLabel, "caption")
    return label.text() if label is not None and label.isVisibleTo(window) else ""


def test_plays_to_the_end_on_the_timer(qtbot, window):
    player = ScenePlayer(window, Three)
    assert player.step_starts == [0, 2, 4]
    with qtbot.waitSignal(player.finished, raising=False, timeout=200):
        player.start()
    assert player.playing and caption_text(window) == "first"
    assert window.controls.isHidden()
    assert "Space pause" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    assert player.index == len(player.frames) - 1 == 5
    assert window.config == Three.timeline()[-1].after
    assert caption_text(window) == "second"
    assert "scene finished" in window.statusBar().currentMessage()


def test_lecture_keys(qtbot, window):
    player = ScenePlayer(window, Three)
    player.start()
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert not player.playing
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert player.index == 2
    QTest.keyClick(window, Qt.Key.Key_PageDown)
    assert player.index == 4 and caption_text(window) == "second"
    assert window.config.spectral_radius == 1.1
    QTest.keyClick(window, Qt.Key.Key_Left)  # just after a step start: one step further back
    assert player.index == 2
    QTest.keyClick(window, Qt.Key.Key_PageUp)
    assert player.index == 0 and window.config.spectral_radius == 0.9
    QTest.keyClick(window, Qt.Key.Key_End)  # not a player key: nothing happens
    assert player.index == 0
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert player.playing
    QTest.keyClick(window, Qt.Key.Key_Home)
    assert player.index == 0
    with qtbot.waitSignal(player.finished, timeout=1000):
        QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not player.active and not player.playing
    assert not window.controls.isHidden() and caption_text(window) == ""


def test_keys_go_back_to_the_window_after_stop(qtbot, window):
    player = ScenePlayer(window, Three)
    player.start()
    player.pause()
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert player.index == 2  # the player had the key, not the window's rho nudge
    assert window.config == player.frames[2].config
    player.stop()
    before = window.config.spectral_radius
    QTest.keyClick(window, Qt.Key.Key_Right)  # the window's own binding is back
    assert window.config.spectral_radius == pytest.approx(before + 0.01)
    assert player.index == 2


def test_broken_scene_is_shown_in_the_window(qtbot, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("from gradlab.scene import Scene\n\n"
                    "class B(Scene):\n"
                    "    def construct(self):\n"
                    "        self.set(spectral_radius=-1)\n")
    window, player = open_player(str(path))
    qtbot.addWidget(window)
    assert player is None and window.isVisible()
    message = f"{path}:5: spectral_radius=-1 is out of range; allowed [0.01, 4.0]"
    assert message in caption_text(window)
    assert window.statusBar().currentMessage() == message
    window.set_config(LabConfig(spectral_radius=1.1))  # the lab itself still works
    qtbot.waitUntil(lambda: window.snapshot is not None
                    and window.snapshot.config.spectral_radius == 1.1, timeout=300_000)


def test_open_player_plays_a_good_scene(qtbot, tmp_path):
    path = tmp_path / "good.py"
    path.write_text("from gradlab.scene import Scene\n"
                    "from gradlab.config import LabConfig\n\n"
                    "class G(Scene):\n"
                    "    config = LabConfig(hidden=8, steps=10)\n"
                    "    def construct(self):\n"
                    "        self.caption('hello')\n"
                    "        self.wait(5)\n")
    window, player = open_player(str(path))
    qtbot.addWidget(window)
    assert player is not None and player.playing and caption_text(window) == "hello"
    player.stop()
    assert not player.active and not window.controls.isHidden()
    # let the worker's first compute (maybe a cold numba compile) finish before the window
    # closes: a LabWindow closed mid-compute destroys a running QThread (see the report)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=300_000)


def test_fit_frame_keeps_or_letterboxes():
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[...] = (10, 20, 30)
    rgb[40:60, 90:110] = 255
    assert fit_frame(rgb, (200, 100)) is rgb
    small = fit_frame(rgb, (100, 100))  # half size, centred, padded with the corner colour
    assert small.shape == (100, 100, 3)
    assert (small[0, 0] == (10, 20, 30)).all() and (small[50, 50] == 255).all()
    assert (small[:20] == (10, 20, 30)).all()
