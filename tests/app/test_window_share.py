"""Keep and share: save and open an experiment (.toml), copy it as a Scene snippet, export
the window or one panel as PNG and SVG; the keys open the dialogs."""

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gradlab.config import LabConfig
from gradlab.experiment import ExperimentError, load_experiment

K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
EDITED = LabConfig(cell="lstm", hidden=4, steps=40, spectral_radius=1.1, gate_bias=2.0,
                   eigs=((0.5, 0.0), (1.5, 0.0), (0.5, 0.0), (1.5, 0.0)))


@pytest.fixture
def win(stand_in_window):
    return stand_in_window


def valid_png(path, size=None):
    image = QImage(str(path))
    assert not image.isNull(), path
    if size is not None:
        assert (image.width(), image.height()) == size
    return image


def valid_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


def test_save_and_open_round_trip(win, tmp_path):
    win.set_layout("gates")
    win.set_config(EDITED)
    path = tmp_path / "lstm.toml"
    win.save_experiment(path)
    exp = load_experiment(path)
    assert exp.config == EDITED and exp.layout == "gates"
    win.set_layout("vanishing")
    win.set_config(LabConfig())
    win.open_experiment(path)
    assert win.config == EDITED and win.layout == "gates"
    assert win.snapshot.config == EDITED
    assert win.controls.editors["cell"].currentText() == "lstm"


def test_opening_a_bad_file_names_the_field_and_changes_nothing(win, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[config]\nsteps = 10\nleak = 3.0\n')
    with pytest.raises(ExperimentError, match=r"bad.toml:3: .*leak"):
        win.open_experiment(path)
    assert win.config == LabConfig()


def test_keys_open_the_dialogs(win, qtbot, tmp_path, monkeypatch):
    saved = tmp_path / "k.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "k"), "gradlab experiment (*.toml)"))
    win.set_config(EDITED)
    qtbot.keyClick(win, K.Key_S, CTRL)
    assert load_experiment(saved).config == EDITED
    win.set_config(LabConfig())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    qtbot.keyClick(win.controls.editors["hidden"], K.Key_O, CTRL)  # from inside a spin box
    assert win.config == EDITED
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "w.svg"), "SVG drawing (*.svg)"))
    qtbot.keyClick(win, K.Key_E, CTRL)
    valid_svg(tmp_path / "w.svg")


def test_a_failing_dialog_action_is_reported(win, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("hidden = [\n")
    warned = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    win.ask_open()
    assert warned and "bad.toml:1" in warned[0]
    assert "bad.toml" in win.statusBar().currentMessage()


def test_copy_as_scene_snippet(win, qtbot):
    win.set_config(EDITED)
    qtbot.keyClick(win, K.Key_C, CTRL | SHIFT)
    text = QGuiApplication.clipboard().text()
    assert text == win.scene_snippet()
    space: dict = {}
    exec(text, space)
    scene = next(v for k, v in space.items() if k.endswith("Experiment") and k != "Experiment")
    assert scene.timeline().start == EDITED


def test_export_the_window_as_png_and_svg(win, tmp_path):
    win.export_window(tmp_path / "w.png")
    valid_png(tmp_path / "w.png", (1280, 720))
    win.export_window(tmp_path / "w.svg")
    valid_svg(tmp_path / "w.svg")
    with pytest.raises(ValueError, match="png or .svg"):
        win.export_window(tmp_path / "w.jpg")


def test_export_one_panel(win, tmp_path):
    win.export_panel("gradient", tmp_path / "g.png")
    image = valid_png(tmp_path / "g.png")
    assert image.width() < 1280
    win.export_panel("gradient", tmp_path / "g.svg")
    valid_svg(tmp_path / "g.svg")
    with pytest.raises(ValueError, match="not shown"):
        win.export_panel("spectrum", tmp_path / "s.png")
    win.export_menu.fill()
    assert [a.text() for a in win.export_menu.actions()] == list(win._layout.panels)
