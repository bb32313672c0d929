"""The gradlab command line: dispatch, one-line errors (exit 2), and the no-display message."""

import sys
import types

import pytest

import gradlab
from gradlab import cli
from gradlab.cli import has_display, main

GOOD_SCENE = """\
from gradlab.scene import Scene

class Tiny(Scene):
    def construct(self):
        self.wait(1)
"""


def one_line(text):
    lines = text.strip("\n").split("\n")
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def no_display(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


@pytest.fixture
def scene_file(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(GOOD_SCENE)
    return path


@pytest.mark.parametrize("argv", [[], ["lab"], ["lab", "--theme", "light", "--rho", "1.1"]])
def test_no_display_prints_one_line_and_exits_1(no_display, capsys, argv):
    assert main(argv) == 1
    out = capsys.readouterr()
    line = one_line(out.err)
    assert "no display" in line
    assert "gradlab render scenes/vanishing_exploding.py -o out.mp4" in line
    assert out.out == ""


def test_play_without_display_is_the_same_line(no_display, capsys, scene_file):
    assert main(["play", str(scene_file)]) == 1
    assert "no display" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("env, platform, expected", [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, "linux", True),
    ({"QT_QPA_PLATFORM": "wayland"}, "linux", False),
    ({}, "darwin", True),
    ({}, "win32", True),
])
def test_has_display(env, platform, expected):
    """Which variables and platforms can show a window (the servers named are trusted here;
    test_cli_display.py connects to them)."""
    assert has_display(env, platform, probe=False) is expected


@pytest.mark.parametrize("argv, message", [
    (["render", "x.py"], "the following arguments are required: -o/--output"),
    (["render", "x.py", "-o", "out.avi"], "unknown output type '.avi'"),
    (["render", "x.py", "-o", "out.mp4", "--size", "big"], "must look like 1280x720"),
    (["render", "x.py", "-o", "out.mp4", "--size", "0x10"], "size 0x10 is out of range"),
    (["render", "x.py", "-o", "out.mp4", "--fps", "0"], "'0' must be a positive integer"),
    (["render", "nope.py", "-o", "out.mp4"], "nope.py: no such scene file"),
    (["lab", "--rho", "9"], "spectral_radius=9.0 is out of range; allowed [0.01, 4.0]"),
    (["lab", "--theme", "pink"], "invalid choice: 'pink'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["play", "nope.py"], "nope.py: no such scene file"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out = capsys.readouterr()
    line = one_line(out.err)
    assert line.startswith("gradlab: error: ")
    assert message in line
    assert "Traceback" not in out.err


def test_unwritable_target_fails_before_the_scene_is_loaded(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("this is not python\n")
    assert main(["render", str(broken), "-o", str(tmp_path / "missing" / "o.mp4")]) == 2
    assert "does not exist" in one_line(capsys.readouterr().err)


def test_broken_scene_names_file_and_line(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text(GOOD_SCENE + "        self.animate(duration=1, leak=3)\n")
    assert main(["render", str(broken), "-o", str(tmp_path / "o.gif")]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"gradlab: error: {broken}:6: leak=3 is out of range; allowed [0.01, 1.0]"
    assert list(tmp_path.iterdir()) == [broken]


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "render" in capsys.readouterr().out


def test_lab_dispatches_to_the_app(monkeypatch):
    calls = []
    fake = types.ModuleType("gradlab.app")
    fake.run = lambda config, theme: calls.append((config, theme)) or 0
    monkeypatch.setitem(sys.modules, "gradlab.app", fake)
    monkeypatch.setattr(gradlab, "app", fake, raising=False)
    monkeypatch.setattr(cli, "display_problem", lambda: None)
    assert main(["lab", "--rho", "1.2", "--theme", "light"]) == 0
    assert main([]) == 0
    (config, theme), (default, dark) = calls
    assert config.spectral_radius == 1.2 and theme == "light"
    assert default is None and dark == "dark"


def test_warm_compiles_what_the_lab_draws(capsys):
    """`gradlab warm` (run by make after installing) leaves every kernel the lab calls compiled."""
    import kernels.gru
    import kernels.lstm
    import kernels.rnn

    assert main(["warm"]) == 0
    assert "kernels compiled and cached" in one_line(capsys.readouterr().out)
    for sweep in (kernels.rnn.forward_sweep, kernels.rnn.backward_sweep,
                  kernels.lstm.lstm_forward_sweep, kernels.lstm.lstm_backward_sweep,
                  kernels.gru.gru_forward_sweep, kernels.gru.gru_backward_sweep):
        assert sweep.signatures, sweep.__name__
