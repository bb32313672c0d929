"""QA: after ``gradlab play`` of a broken scene the lab stays up with "Scene error: file:line"
above the panels, which is right, but nothing took it away again (found by hand); Esc does."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gradlab.app.player import open_player


def test_esc_takes_a_broken_scenes_error_away(qtbot, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("from gradlab.scene import Scene\n\n"
                    "class B(Scene):\n"
                    "    def construct(self):\n"
                    "        self.caption('hi'\n")
    window, player = open_player(str(path))
    qtbot.addWidget(window)
    assert player is None
    assert window.caption.isVisible() and f"{path}:5" in window.caption.text()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.caption.isVisible()
    assert f"{path}:5" in window.statusBar().currentMessage()  # still said, smaller
