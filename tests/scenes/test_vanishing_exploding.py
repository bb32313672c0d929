"""The lecture scene: its content tells the truth, and it renders to mp4/gif/png, deterministically."""

import pathlib

import av
import numpy as np
import pytest
from PIL import Image

from gradlab.cli import main
from gradlab.lab import Lab
from gradlab.scene import load_scene

SCENE = pathlib.Path(__file__).resolve().parents[2] / "scenes" / "vanishing_exploding.py"
SMALL = ["--size", "160x90"]


@pytest.fixture(scope="module")
def scene():
    return load_scene(SCENE)


def test_sweeps_radius_from_0_8_to_1_2_in_a_lecture_sized_clip(scene):
    frames = list(scene.frames())
    rho = [f.config.spectral_radius for f in frames]
    assert rho[0] == 0.8 and max(rho) == 1.2 and min(rho) == 0.8
    assert scene.fps == 30 and 15 <= len(frames) / 30 <= 25
    assert {f.config.activation for f in frames} == {"tanh", "linear"}
    captions = {f.caption for f in frames}
    assert all(0 < len(c) <= 55 for c in captions)  # one line at 1280x720
    assert all(f.caption for f in frames)  # the caption strip never disappears (no jumps)


def test_captions_match_the_physics(scene):
    """What the captions claim at the sweep's ends is what the Lab computes."""
    lab = Lab()
    seen = {}
    for f in scene.frames():
        seen.setdefault((f.config.activation, f.config.spectral_radius), f)
    vanish = lab.compute(seen["tanh", 0.8].config, ["gradient"])["gradient"]
    explode = lab.compute(seen["tanh", 1.2].config, ["gradient"])["gradient"]
    linear = lab.compute(seen["linear", 1.2].config, ["gradient"])["gradient"]
    assert vanish.growth_per_step < 0.85 and vanish.log10_norms[-1] < -4
    assert explode.growth_per_step > 1.0 and explode.log10_norms[-1] > 0
    # tanh saturation holds the growth well below rho^l; linear follows it exactly
    assert explode.log10_norms[-1] < explode.log10_reference[-1] - 2
    assert linear.growth_per_step == pytest.approx(1.2, rel=1e-6)
    assert 0.5 ** 10 == pytest.approx(0.00098, rel=5e-3) and 1.5 ** 10 == pytest.approx(57.7, rel=1e-3)


def test_renders_mp4_through_the_cli(tmp_path, qapp, capsys):
    out = tmp_path / "out.mp4"
    assert main(["render", str(SCENE), "-o", str(out), "--frames", "4", *SMALL]) == 0
    with av.open(str(out)) as c:
        ctx = c.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (160, 90)
        assert sum(1 for _ in c.decode(video=0)) == 4
    err = capsys.readouterr().err
    assert f"wrote {out} (4 frames, 160x90, 30 fps)" in err
    assert "4/4" in err  # the progress bar
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_renders_gif_through_the_cli(tmp_path, qapp):
    out = tmp_path / "out.gif"
    # two frames per second: the 10 frames cover the first captions and differ
    assert main(["render", str(SCENE), "-o", str(out), "--frames", "10", "--fps", "2",
                 "--no-progress", *SMALL]) == 0
    with Image.open(out) as im:
        assert im.size == (160, 90) and im.info["loop"] == 0
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
    assert 2 <= im.n_frames <= 10  # held frames are merged
    assert total == 10 * 500


def test_renders_png_directory_through_the_cli(tmp_path, qapp):
    out = tmp_path / "frames"
    assert main(["render", str(SCENE), "-o", f"{out}/", "--frames", "3", "--no-progress",
                 *SMALL]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    a = np.asarray(Image.open(out / names[0]))
    assert a.shape == (90, 160, 3) and a.std() > 5  # a picture, not a blank frame


def test_render_is_deterministic(tmp_path, qapp):
    """The whole scene at 1 fps (every caption and the sweep), twice: identical pixels."""
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["render", str(SCENE), "-o", str(out), "--fps", "1", "--no-progress",
                     "--size", "320x180"]) == 0
        runs.append(sorted(out.iterdir()))
    a, b = runs
    assert len(a) == len(b) >= 20
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(Image.open(pa)), np.asarray(Image.open(pb)))
    # and the frames do change along the way
    assert not np.array_equal(np.asarray(Image.open(a[0])), np.asarray(Image.open(a[-1])))


def test_every_caption_fits_on_one_line_at_1280x720(scene, qtbot):
    """A wrapped caption would make the panels jump between frames and be hard to read."""
    from PySide6.QtWidgets import QLabel

    from gradlab.app.window import LabWindow

    window = LabWindow(scene.config, synchronous=True)
    qtbot.addWidget(window)
    window.show_controls(False)
    window.resize(*scene.size)
    window.show()
    label = window.findChild(QLabel, "caption")
    assert label is not None, "LabWindow has no QLabel named 'caption'"
    for text in {f.caption for f in scene.frames()}:
        window.set_caption(text)
        qtbot.wait(1)  # let the layout settle
        width = label.contentsRect().width() - 2 * label.margin() - 2 * label.indent()
        assert label.fontMetrics().horizontalAdvance(text) <= width, text
