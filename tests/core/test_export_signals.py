"""Signals during `gradlab render`, as a user sends them: the render stops, exits 128 + the
signal, leaves the target as it was and no temporary behind; kill -9 leftovers are removed
by the next writer of the same target. Subprocess tests (a real render, a real signal)."""

import os
import random
import re
import selectors
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gradlab import export

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="POSIX signals and flock")

ROOT = Path(__file__).resolve().parents[2]
OLD = b"an earlier render, to be kept"
# a render far longer than any test waits: a signal always lands in the middle of it.
# 640x360: big enough that a frame spends most of its time in Qt's paint code
LONG_SCENE = """\
from gradlab.config import LabConfig
from gradlab.scene import Scene

class Long(Scene):
    config = LabConfig(steps=20, hidden=8)
    fps = 10
    size = (640, 360)

    def construct(self):
        self.caption("a long sweep")
        self.animate(duration=600, spectral_radius=1.2)
"""
START_TIMEOUT_S = 60  # a loaded CI machine starts Python + Qt slowly
STOP_TIMEOUT_S = 30  # a render that ignored the signal would run for minutes


@pytest.fixture(scope="module")
def long_scene(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenes") / "long.py"
    path.write_text(LONG_SCENE)
    return path


def gradlab_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def start_render(scene, target):
    """A `gradlab render` process, returned once its first frame is written (progress bar
    line on stderr), with the stderr read so far."""
    proc = subprocess.Popen([sys.executable, "-m", "gradlab.cli", "render", str(scene), "-o",
                             str(target)], cwd=ROOT, env=gradlab_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = b""
    deadline = time.monotonic() + START_TIMEOUT_S
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr, selectors.EVENT_READ)
        while b"rendering [" not in err:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                proc.kill()
                pytest.fail(f"render did not start: {err.decode(errors='replace')}")
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                proc.wait()
                pytest.fail(f"render exited {proc.returncode} before its first frame: "
                            f"{err.decode(errors='replace')}")
            err += chunk
    return proc, err


def finish(proc, err):
    try:
        rest = proc.communicate(timeout=STOP_TIMEOUT_S)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        rest = proc.communicate()[1]
        return None, (err + rest).decode(errors="replace")
    return proc.returncode, (err + rest).decode(errors="replace")


def snapshot(target):
    if target.is_dir():
        return {p.name: p.read_bytes() for p in target.iterdir()}
    return target.read_bytes()


def earlier_render(target):
    """Put an 'earlier render' at target (a file, or a directory with one frame)."""
    if target.suffix:
        target.write_bytes(OLD)
    else:
        target.mkdir()
        (target / "frame_00000.png").write_bytes(OLD)


def signal_render(scene, folder, name, signum, delay):
    """Render to folder/name, send ``signum`` ``delay`` s after the first frame; return
    (exit status, stderr, target unchanged?, folder listing)."""
    folder.mkdir()
    target = folder / name
    earlier_render(target)
    before = snapshot(target)
    proc, err = start_render(scene, target)
    time.sleep(delay)
    proc.send_signal(signum)
    code, err = finish(proc, err)
    return code, err, snapshot(target) == before, sorted(os.listdir(folder))


def assert_stopped(result, signum, name, what):
    code, err, unchanged, listing = result
    assert code == 128 + signum, (code, err)
    assert err.rstrip().endswith(f"gradlab: {what}"), err
    assert "Traceback" not in err and "Ignored exception" not in err, err
    assert unchanged, "the earlier render was replaced"
    assert listing == [name], listing  # no temporary left beside the target


def test_ctrl_c_stops_every_time_at_random_moments(long_scene, tmp_path):
    """10 renders (mp4, gif, PNG directory), each sent SIGINT at a random moment while its
    frames are drawn: every one exits 130 with the earlier render intact and no temporary.
    (Before: the KeyboardInterrupt fired inside pyqtgraph's paintEvent and PySide swallowed
    it, so the render ran on, or the process segfaulted and left a .part file.)"""
    rng = random.Random()
    names = ["out.mp4", "out.gif", "frames"]
    runs = [(tmp_path / f"run{k}", names[k % 3], round(rng.uniform(0.0, 0.5), 3))
            for k in range(10)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: CI has two cores
        results = list(pool.map(
            lambda run: signal_render(long_scene, run[0], run[1], signal.SIGINT, run[2]), runs))
    for (_, name, delay), result in zip(runs, results, strict=True):
        try:
            assert_stopped(result, signal.SIGINT, name, "interrupted")
        except AssertionError as e:
            raise AssertionError(f"{name}, SIGINT {delay} s after the first frame: {e}") from e


def test_sigterm_and_sighup_remove_the_temporary(long_scene, tmp_path):
    """SIGTERM (to an mp4) and SIGHUP (to a PNG directory) mid-render: exit 143 / 129, the
    earlier render as it was, no hidden .<name>.*.part* left (before: the process died at
    once and the temporary stayed)."""
    runs = [(signal.SIGTERM, "out.mp4", "stopped by SIGTERM"),
            (signal.SIGHUP, "frames", "stopped by SIGHUP")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda run: signal_render(
            long_scene, tmp_path / run[0].name, run[1], run[0], 0.2), runs))
    for (signum, name, what), result in zip(runs, results, strict=True):
        assert_stopped(result, signum, name, what)


def test_next_render_removes_what_kill_9_left(long_scene, tmp_path):
    """kill -9 cannot be caught: the temporary stays. The next writer of the same target
    removes it (its process is gone and its lock is free), and only it: another target's
    leftovers and a live writer's temporary are kept."""
    target = tmp_path / "out.mp4"
    target.write_bytes(OLD)
    proc, err = start_render(long_scene, target)
    proc.kill()
    proc.wait()
    left = [p for p in os.listdir(tmp_path) if p != "out.mp4"]
    assert len(left) == 1 and re.fullmatch(rf"\.out\.mp4\.{proc.pid}\.\w+\.part\.mp4", left[0])
    other = tmp_path / f".other.mp4.{proc.pid}.abcdefgh.part.mp4"  # another target's
    other.write_bytes(b"x")
    frame = np.zeros((90, 160, 3), np.uint8)
    with export.open_writer(target, 10, (160, 90)) as live:  # a live writer of the same target
        assert not (tmp_path / left[0]).exists()  # the stale one went when it opened
        with export.open_writer(target, 10, (160, 90)) as w:  # a second writer keeps the first's
            assert live._temp.exists()
            w.write(frame)
        live.write(frame)
    assert sorted(os.listdir(tmp_path)) == [other.name, "out.mp4"]
    assert target.read_bytes() != OLD


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_need_a_dead_process_and_a_free_lock(tmp_path):
    target = tmp_path / "clip.gif"
    gone = dead_pid()
    stale_file = tmp_path / f".clip.gif.{gone}.k2j4h5g6.part.gif"
    stale_dir = tmp_path / f".clip.gif.{gone}.a1b2c3d4.part"
    stale_old = tmp_path / f".clip.gif.{gone}.zz_yy_xx.old"
    live = tmp_path / f".clip.gif.{os.getppid()}.q1w2e3r4.part.gif"  # a running process
    locked = tmp_path / f".clip.gif.{gone}.l0cked00.part.gif"  # pid unknown here, but locked
    unrelated = tmp_path / f".clip.gif.x.{gone}.abcdefgh.part.gif"
    for p in (stale_file, live, locked, unrelated):
        p.write_bytes(b"x")
    for d in (stale_dir, stale_old / "frames"):
        d.mkdir(parents=True)
        (d / "frame_00000.png").write_bytes(b"x")
    import fcntl

    holder = os.open(locked, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        removed = export.remove_stale_temporaries(target)
    finally:
        os.close(holder)
    assert sorted(removed) == sorted([stale_file.name, stale_dir.name, stale_old.name])
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, locked.name, unrelated.name])


def test_stop_signals_set_a_flag_and_restore_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with export.StopSignals() as stop:
        stop.check()  # nothing yet
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)  # the first signal wins
        assert stop.signum == signal.SIGTERM
        with pytest.raises(export.Stopped) as info:
            stop.check()
        assert isinstance(info.value, KeyboardInterrupt)
        assert info.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames"])
def test_a_signal_before_the_rename_undoes_the_render(tmp_path, name):
    """A signal that arrives after the last frame, while the file is finalised, still
    stops the render: the rename never happens."""
    target = tmp_path / name
    earlier_render(target)
    before = snapshot(target)
    stop = export.StopSignals()
    with pytest.raises(export.Stopped):
        with export.open_writer(target, 10, (160, 90), stop=stop) as w:
            w.write(np.zeros((90, 160, 3), np.uint8))
            stop.signum = signal.SIGINT  # as the handler would, after the last frame
    assert snapshot(target) == before
    assert os.listdir(tmp_path) == [name]
