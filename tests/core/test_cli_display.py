"""A display that is named but does not answer (DISPLAY=:42, QT_QPA_PLATFORM=xcb without a
server) gets the one-line no-display message and exit 1, not Qt's SIGABRT."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gradlab import cli
from gradlab.cli import display_problem, has_display

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="X11 / Wayland sockets")

ROOT = Path(__file__).resolve().parents[2]


def x_socket(n):
    return f"/tmp/.X11-unix/X{n}"


def answers(family, address):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(address)
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def silent_display():
    """A display number nothing listens on (no abstract or file socket, no TCP port)."""
    for n in range(4242, 4342):
        if os.path.exists(x_socket(n)) or answers(socket.AF_UNIX, "\0" + x_socket(n)):
            continue
        if not answers(socket.AF_INET, ("127.0.0.1", 6000 + n)):
            return n
    pytest.skip("no free X display number")


def test_unreachable_x_display_is_no_display(silent_display):
    env = {"DISPLAY": f":{silent_display}"}
    assert not has_display(env, "linux")
    assert display_problem(env, "linux") == f"nothing answers at DISPLAY=:{silent_display}"
    assert not has_display({**env, "QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not has_display({"DISPLAY": f"127.0.0.1:{silent_display}"}, "linux")
    assert not has_display({"DISPLAY": "no-colon"}, "linux")
    assert has_display({**env, "QT_QPA_PLATFORM": "offscreen"}, "linux")  # needs no server


def test_listening_x_servers_count(silent_display):
    """A local server on the abstract socket (what Xorg/Xvfb open first) and a TCP one
    (ssh -X forwards localhost:10 to port 6010)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind("\0" + x_socket(silent_display))
        srv.listen()
        assert has_display({"DISPLAY": f":{silent_display}.0"}, "linux")
        assert has_display({"DISPLAY": f"unix:{silent_display}"}, "linux")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        if port <= 6000:
            pytest.skip("ephemeral port below the X range")
        assert has_display({"DISPLAY": f"127.0.0.1:{port - 6000}"}, "linux")


def test_wayland_socket_is_probed(tmp_path):
    env = {"WAYLAND_DISPLAY": "wayland-test", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert display_problem(env, "linux") == "nothing answers at WAYLAND_DISPLAY=wayland-test"
    assert not has_display({"WAYLAND_DISPLAY": "wayland-test"}, "linux")  # no runtime dir
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(str(tmp_path / "wayland-test"))
        srv.listen()
        assert has_display(env, "linux")
        assert not has_display({**env, "QT_QPA_PLATFORM": "xcb"}, "linux")  # not the one asked


def run_gradlab(args, env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(env_changes)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "gradlab.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command, platform", [
    (["lab"], None),
    (["lab"], "xcb"),
    (["play", "scenes/vanishing_exploding.py"], None),
])
def test_window_commands_say_no_display_instead_of_aborting(silent_display, command, platform):
    """Before: Qt aborted with SIGABRT ('could not connect to display', 'xcb-cursor0 is
    needed'). Now: the one-line no-display message, exit 1."""
    env = {"DISPLAY": f":{silent_display}"}
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    proc = run_gradlab(command, env)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr == cli.NO_DISPLAY.format(
        reason=f"nothing answers at DISPLAY=:{silent_display}") + "\n"
    assert proc.stdout == ""


def test_render_still_works_with_an_unreachable_display(silent_display, tmp_path):
    """`render` never needs the display: with QT_QPA_PLATFORM=xcb and no server it renders
    offscreen instead of aborting."""
    out = tmp_path / "frames"
    scene = tmp_path / "tiny.py"
    scene.write_text("from gradlab.config import LabConfig\nfrom gradlab.scene import Scene\n\n"
                     "class Tiny(Scene):\n    config = LabConfig(steps=20, hidden=8)\n\n"
                     "    def construct(self):\n        self.wait(1)\n")
    proc = run_gradlab(["render", str(scene), "-o", str(out), "--frames", "1", "--size",
                        "64x36", "--no-progress"],
                       {"DISPLAY": f":{silent_display}", "QT_QPA_PLATFORM": "xcb"})
    assert proc.returncode == 0, proc.stderr
    assert os.listdir(out) == ["frame_00000.png"]
