"""Encoders: mp4/gif/png output, atomic writes, and one-line errors before any rendering."""

import os

import av
import numpy as np
import pytest
from PIL import Image

from gradlab.export import ExportError, ProgressBar, check_target, open_writer, output_kind

W, H, N, FPS = 160, 90, 6, 10


def frames(n=N):
    """n distinct frames: a red bar growing left to right on a dark gradient."""
    out = []
    for k in range(n):
        a = np.zeros((H, W, 3), np.uint8)
        a[..., 2] = np.linspace(0, 120, W, dtype=np.uint8)
        a[20:70, : 20 * (k + 1)] = (230, 40, 30)
        out.append(a)
    return out


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_output_kind_from_path(tmp_path):
    assert output_kind("a/b.mp4") == output_kind("X.MP4") == "mp4"
    assert output_kind("b.gif") == "gif"
    assert output_kind("frames/") == output_kind("frames") == output_kind(tmp_path) == "png"
    with pytest.raises(ExportError, match="unknown output type '.avi'"):
        output_kind("out.avi")


def test_mp4_has_every_frame(tmp_path):
    target = tmp_path / "out.mp4"
    with open_writer(target, FPS, (W, H)) as w:
        for f in frames():
            w.write(f)
    assert leftovers(tmp_path) == []
    with av.open(str(target)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        assert stream.average_rate == FPS
        decoded = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(decoded) == N
    # lossy, but the bar must be where it was drawn
    assert decoded[2][45, 50, 0] > 180 and decoded[2][45, 70, 0] < 80


def test_mp4_odd_size_is_cropped_to_even(tmp_path):
    target = tmp_path / "odd.mp4"
    with open_writer(target, FPS, (W - 1, H - 1)) as w:
        for f in frames(2):
            w.write(f[: H - 1, : W - 1])
    with av.open(str(target)) as c:
        ctx = c.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (W - 2, H - 2)


def test_gif_frames_loop_and_timing(tmp_path):
    target = tmp_path / "out.gif"
    src = frames()
    src.insert(3, src[2])  # a held frame is merged into a longer one
    with open_writer(target, FPS, (W, H)) as w:
        for f in src:
            w.write(f)
    assert leftovers(tmp_path) == []
    with Image.open(target) as im:
        assert im.n_frames == N
        assert im.info["loop"] == 0
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
            rgb = np.asarray(im.convert("RGB")).astype(int)
            expected = frames()[k].astype(int)
            assert np.abs(rgb - expected).max() <= 8, k  # 256 adaptive colours suffice
    assert durations[2] == 200 and sum(durations) == 1000 * len(src) / FPS


def test_png_directory_of_numbered_frames(tmp_path):
    target = tmp_path / "frames"
    with open_writer(str(target) + "/", FPS, (W, H)) as w:
        for f in frames():
            w.write(f)
    names = sorted(os.listdir(target))
    assert names == [f"frame_{k:05d}.png" for k in range(N)]
    for k, name in enumerate(names):
        np.testing.assert_array_equal(np.asarray(Image.open(target / name)), frames()[k])
    assert leftovers(tmp_path) == []


def test_png_directory_replaces_an_earlier_render(tmp_path):
    target = tmp_path / "frames"
    for n in (N, 2):
        with open_writer(target, FPS, (W, H)) as w:
            for f in frames(n):
                w.write(f)
    assert sorted(os.listdir(target)) == ["frame_00000.png", "frame_00001.png"]
    assert leftovers(tmp_path) == []


def test_png_directory_holding_other_files_is_refused(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="holds other files"):
        open_writer(target, FPS, (W, H))
    assert (target / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames/"])
def test_wrong_shape_frame_leaves_target_untouched(tmp_path, name):
    target = tmp_path / name
    with pytest.raises(ExportError, match=r"frame 2 has shape \(90, 161, 3\)"):
        with open_writer(target, FPS, (W, H)) as w:
            for f in frames(2):
                w.write(f)
            w.write(np.zeros((H, W + 1, 3), np.uint8))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames/"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failing_frame_source_keeps_an_existing_target(tmp_path, name, error):
    target = tmp_path / name
    with open_writer(target, FPS, (W, H)) as w:  # an earlier, good render
        w.write(frames(1)[0])
    before = sorted(os.listdir(target)) if target.is_dir() else target.read_bytes()

    def source():
        yield from frames(3)
        raise error("renderer died")

    with pytest.raises(error):
        with open_writer(target, FPS, (W, H)) as w:
            for f in source():
                w.write(f)
    after = sorted(os.listdir(target)) if target.is_dir() else target.read_bytes()
    assert after == before
    assert leftovers(tmp_path) == []


def test_no_frames_is_an_error_and_leaves_nothing(tmp_path):
    with pytest.raises(ExportError, match="no frames"):
        with open_writer(tmp_path / "out.mp4", FPS, (W, H)):
            pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path, message", [
    ("missing/out.mp4", "does not exist"),
    ("file.txt/out.mp4", "is not a directory"),
    ("out.webm", "unknown output type '.webm'"),
    ("file.txt", "unknown output type '.txt'"),
    ("plain", "exists and is not a directory"),  # no suffix: a PNG directory
])
def test_bad_targets_fail_before_anything_is_written(tmp_path, path, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "plain").write_text("x")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ExportError) as info:
        check_target(tmp_path / path)
    with pytest.raises(ExportError):
        open_writer(tmp_path / path, FPS, (W, H))
    assert "\n" not in str(info.value)
    assert message in str(info.value)
    assert sorted(os.listdir(tmp_path)) == before


def test_bad_fps_and_size(tmp_path):
    with pytest.raises(ExportError, match="fps=0"):
        open_writer(tmp_path / "a.gif", 0, (W, H))
    with pytest.raises(ExportError, match="size 0x90"):
        open_writer(tmp_path / "a.gif", FPS, (0, H))
    assert list(tmp_path.iterdir()) == []


class Tty:
    def __init__(self, tty):
        self.out, self.tty = [], tty

    def write(self, s):
        self.out.append(s)

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def test_progress_bar_counts_frames():
    s = Tty(False)
    bar = ProgressBar(20, stream=s)
    for _ in range(20):
        bar.update()
    bar.close()
    text = "".join(s.out)
    assert text.count("\n") == 11  # 0%, 10%, ..., 100% on a pipe
    assert "20/20" in s.out[-1] and "#" * 30 in s.out[-1]
    t = Tty(True)
    bar = ProgressBar(5, stream=t, width=10)
    bar.update(5)
    bar.close()
    assert t.out[-1].startswith("\r[##########]") and t.out[-1].endswith("\n")


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames"])
def test_outputs_get_ordinary_permissions(tmp_path, name):
    """Temporaries are private while written; the result gets the umask's usual mode."""
    mask = os.umask(0o022)
    try:
        with open_writer(tmp_path / name, FPS, (W, H)) as w:
            w.write(frames(1)[0])
    finally:
        os.umask(mask)
    target = tmp_path / name
    expected = 0o755 if target.is_dir() else 0o644
    assert target.stat().st_mode & 0o777 == expected


def test_encoder_failure_surfaces_as_export_error(tmp_path, monkeypatch):
    """An error on the encoder thread (say, a full disk) fails the export cleanly."""
    from gradlab.export import PngDirWriter

    real = PngDirWriter._write

    def failing(self, rgb):
        if self._encoded == 1:
            raise OSError(28, "No space left on device")
        real(self, rgb)

    monkeypatch.setattr(PngDirWriter, "_write", failing)
    with pytest.raises(ExportError, match="No space left on device"):
        with open_writer(tmp_path / "frames", FPS, (W, H)) as w:
            for f in frames(N):
                w.write(f)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames"])
def test_full_disk_while_finalising_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, name):
    """The disk fills up while the file is finalised (the mp4 container's close writes the
    index; the gif trailer; the rename): a one-line ExportError, no temporary, the earlier
    render kept. (Before: a raw av.error.OSError escaped.)"""
    import errno

    from gradlab.export import GifWriter, Mp4Writer, PngDirWriter

    target = tmp_path / name
    with open_writer(target, FPS, (W, H)) as w:  # an earlier, good render
        w.write(frames(1)[0])
    before = sorted(os.listdir(target)) if target.is_dir() else target.read_bytes()

    def full(self):
        raise av.error.OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._temp))

    for cls in (Mp4Writer, GifWriter, PngDirWriter):
        real = cls._finish

        def finish(self, real=real):
            real(self)  # finalise for real, then fail as a full disk would
            full(self)

        monkeypatch.setattr(cls, "_finish", finish)
    with pytest.raises(ExportError) as info:
        with open_writer(target, FPS, (W, H)) as w:
            for f in frames(3):
                w.write(f)
    message = str(info.value)
    assert message == f"cannot finish {target}: No space left on device"
    after = sorted(os.listdir(target)) if target.is_dir() else target.read_bytes()
    assert after == before
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RLIMIT_FSIZE is POSIX")
def test_render_into_a_file_size_limit_exits_2_with_one_line(tmp_path):
    """A real write failure, no monkeypatch: `gradlab render` under a 4 kB file-size limit
    (the kernel refuses the mp4's last writes with EFBIG, as a full disk refuses them with
    ENOSPC). One line, exit 2, no temporary. (Before: a raw traceback and exit 1.)"""
    import pathlib
    import resource
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    scene = tmp_path / "tiny.py"
    scene.write_text("from gradlab.scene import Scene\n\nclass Tiny(Scene):\n"
                     "    fps = 10\n\n    def construct(self):\n        self.wait(2)\n")
    out = tmp_path / "out"
    out.mkdir()

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "gradlab.cli", "render", str(scene), "-o",
                           str(out / "clip.mp4"), "--size", "160x90", "--no-progress"],
                          cwd=root, env=env, preexec_fn=limit, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"gradlab: error: cannot finish {out / 'clip.mp4'}: "), \
        proc.stderr
    assert "File too large" in proc.stderr
    assert os.listdir(out) == []


def test_empty_output_path_is_refused_by_name(tmp_path):
    """`-o ""` was taken as `/` (and then refused for holding other files)."""
    for path in ("", " "):
        with pytest.raises(ExportError, match=r"output path '\s*' is empty"):
            check_target(path)
        with pytest.raises(ExportError, match="is empty"):
            open_writer(path, FPS, (W, H))


def test_abandoned_progress_bar_ends_its_line():
    """A render stopped mid-way (Ctrl-C, an error) ends the bar's line on a terminal, so
    the one-line message that follows starts on a line of its own."""
    t = Tty(True)
    bar = ProgressBar(10, stream=t)
    bar.update()
    bar.abandon()
    assert t.out[-1] == "\n" and t.out[-2].startswith("\r")
    p = Tty(False)
    bar = ProgressBar(10, stream=p)
    bar.update()
    bar.abandon()
    assert p.out[-1].endswith("\n") and "\n" not in p.out[-1][:-1]  # pipe lines end anyway
