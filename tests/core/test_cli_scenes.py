"""Hostile scenes and arguments get an immediate one-line error naming what is wrong:
an empty -o, a wait of 1e12 s, fps=10**9, sys.exit() in a scene. Scenes are programs: the
help and the README say so."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gradlab.cli import main
from gradlab.config import LabConfig
from gradlab.scene import MAX_STEP_SECONDS, Scene, SceneError, load_scene

ROOT = Path(__file__).resolve().parents[2]
TINY = """\
import sys
from gradlab.scene import Scene

class Tiny(Scene):
    fps = {fps}

    def construct(self):
        self.wait({seconds})
        {extra}
"""


def scene_file(tmp_path, fps=10, seconds=1, extra="pass", top=""):
    path = tmp_path / "tiny.py"
    path.write_text(top + TINY.format(fps=fps, seconds=seconds, extra=extra))
    return path


def one_line_error(text):
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert text.startswith("gradlab: error: ") and "Traceback" not in text, text
    return text[len("gradlab: error: "):].rstrip("\n")


def run_gradlab(args, cwd):
    """`gradlab ARGS` in a subprocess: a hang (the old behaviour) fails on the timeout."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "gradlab.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30)


def test_empty_output_is_refused_by_name(tmp_path, capsys):
    """`-o ""` was taken as `/`."""
    scene = scene_file(tmp_path)
    assert main(["render", str(scene), "-o", ""]) == 2
    assert one_line_error(capsys.readouterr().err) == (
        "argument -o/--output: '' is empty: give a file such as out.mp4, out.gif or a "
        "directory such as frames/")
    assert os.listdir(tmp_path) == ["tiny.py"]


@pytest.mark.parametrize("case, expected", [
    ("wait", r"tiny\.py:8: seconds=1000000000000\.0 is too long: a step lasts at most 3600 s"),
    ("scene fps", r"tiny\.py:4: Tiny\.fps=1000000000 must be an integer in \[1, 240\]"),
    ("--fps", r"argument --fps: fps=1000000000 must be an integer in \[1, 240\]"),
])
def test_huge_durations_and_rates_fail_at_once(tmp_path, case, expected):
    """Before: `wait(1e12)` with --frames 3 hung counting frames; fps=10**9 was refused
    only after counting a billion frames (54 s). Now: an error naming the value, before
    any frame is counted (the 30 s subprocess timeout catches the old behaviour)."""
    out = tmp_path / "out.mp4"
    if case == "wait":
        args = ["render", str(scene_file(tmp_path, seconds="1e12")), "-o", str(out),
                "--frames", "3"]
    elif case == "scene fps":
        args = ["render", str(scene_file(tmp_path, fps=10**9)), "-o", str(out)]
    else:
        args = ["render", str(scene_file(tmp_path)), "-o", str(out), "--fps", str(10**9)]
    proc = run_gradlab(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert re.fullmatch(expected, one_line_error(proc.stderr).replace(str(tmp_path) + "/", ""))
    assert sorted(os.listdir(tmp_path)) == ["tiny.py"]


def test_scene_limits_in_the_library():
    """Scene classes are checked when their timeline is built; long scenes are counted,
    not iterated. (Checks that fail at once on the old code come first: its frame
    counting of the rest would take hours.)"""

    class BadSize(Scene):
        size = (0, 720)

    with pytest.raises(SceneError, match=r"BadSize\.size=\(0, 720\) must be \(width, height\)"):
        BadSize.timeline()

    class TooLong(Scene):
        def construct(self):
            for _ in range(5):
                self.wait(3600)

    with pytest.raises(SceneError, match=r"the scene would last 18000 s; a scene lasts at "
                                         r"most 14400 s"):
        TooLong.timeline()

    class Long(Scene):
        def construct(self):
            self.wait(MAX_STEP_SECONDS)
            self.animate(duration=MAX_STEP_SECONDS, spectral_radius=1.2)

    timeline = Long.timeline()
    with pytest.raises(ValueError, match=r"fps=1000000000 must be an integer in \[1, 240\]"):
        timeline.frame_count(10**9)
    assert timeline.frame_count(240) == 2 * 3600 * 240


@pytest.mark.parametrize("steps", [
    "",
    "self.caption('a')",
    "self.wait(0.25); self.caption('b')",
    "self.caption('a'); self.animate(duration=0.35, leak=0.5); self.wait(0.04)",
    "self.wait(0.05); self.set(leak=0.5); self.wait(1.05); self.caption('c')",
])
def test_frame_count_is_the_number_of_frames(steps):
    namespace = {}
    exec(textwrap.dedent(f"""
        class S(Scene):
            config = LabConfig()
            def construct(self):
                {steps or 'pass'}
    """), {"Scene": Scene, "LabConfig": LabConfig}, namespace)
    timeline = namespace["S"].timeline()
    for fps in (1, 7, 30, 240):
        assert timeline.frame_count(fps) == len(list(timeline.frames(fps)))


@pytest.mark.parametrize("where", ["construct", "module"])
def test_sys_exit_in_a_scene_is_a_named_error(tmp_path, capsys, where):
    """Before: `sys.exit(5)` in a scene ended gradlab with status 5 and no message."""
    if where == "construct":
        scene, line = scene_file(tmp_path, extra="sys.exit(5)"), 9
    else:
        scene, line = scene_file(tmp_path, top="import sys; sys.exit(5)\n"), 1
    message = f"{scene}:{line}: the scene called sys.exit(5); a scene must not exit"
    with pytest.raises(SceneError) as info:
        load_scene(scene)
    assert str(info.value) == message
    assert main(["render", str(scene), "-o", str(tmp_path / "out.gif")]) == 2
    assert one_line_error(capsys.readouterr().err) == message
    assert os.listdir(tmp_path) == ["tiny.py"]


@pytest.mark.parametrize("command", ["render", "play"])
def test_help_says_scenes_run_with_your_rights(capsys, command):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "A scene file is a Python program: gradlab runs it with your rights" in text
    assert "Use only scene files you trust" in text


def test_readme_says_scenes_run_with_your_rights():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Scenes", 1)[1].split("\n## ", 1)[0]
    text = " ".join(section.split())
    assert "A scene file is ordinary Python" in text
    assert "run it with your rights" in text
    assert "run only scenes you trust" in text
