"""The topic scenes (LSTM highway, leaky units, clipping): each opens its topic, says what
the lab then computes, and renders."""

import pathlib

import numpy as np
import pytest
from PIL import Image

from gradlab.cli import main
from gradlab.lab import Lab
from gradlab.layouts import LAYOUTS
from gradlab.scene import load_scene

SCENES = pathlib.Path(__file__).resolve().parents[2] / "scenes"


def ends(name):
    frames = list(load_scene(SCENES / name).frames())
    return frames[0], frames[-1], frames


@pytest.mark.parametrize("name, layout", [("lstm_highway.py", "gates"),
                                          ("leaky_units.py", "leaky"),
                                          ("clipping.py", "clipping")])
def test_each_scene_opens_its_topic_with_one_line_captions(name, layout):
    cls = load_scene(SCENES / name)
    assert cls.layout == layout and layout in LAYOUTS
    frames = list(cls.frames())
    assert 10 <= len(frames) / cls.fps <= 30  # a lecture-sized clip
    assert all(0 < len(f.caption) <= 60 for f in frames)


def test_the_highway_scene_lengthens_the_gradient():
    first, last, _ = ends("lstm_highway.py")
    lab = Lab()
    g0 = lab.compute(first.config, ["gradient"])["gradient"]
    g1 = lab.compute(last.config, ["gradient"])["gradient"]
    assert last.config.gate_bias == 3.0 and first.config.gate_bias == 0.0
    assert g1.log10_norms[50] > g0.log10_norms[50] + 3
    assert g0.horizon is not None and g0.horizon < 30
    assert g1.horizon is None  # "reaches 100 steps back": never 1000 times below lag 0


def test_the_leaky_scene_moves_the_memory_horizon_back():
    first, last, frames = ends("leaky_units.py")
    lab = Lab()
    before = lab.compute(first.config, ["gradient"])["gradient"].horizon
    lowest = min((f for f in frames), key=lambda f: f.config.leak).config
    after = lab.compute(lowest, ["gradient"])["gradient"].horizon
    assert before is not None and (after is None or after > 3 * before)
    assert last.config.leak_spread == "log-uniform"


def test_the_clipping_scene_caps_the_step_and_leaves_vanishing_alone():
    _, _, frames = ends("clipping.py")
    lab = Lab()
    clipped = next(f for f in frames if f.config.clip == 5.0 and f.config.spectral_radius == 1.3)
    c = lab.compute(clipped.config, ["clipping"])["clipping"]
    assert c.norm_before > 5.0 and c.norm_after == pytest.approx(5.0)
    vanish = frames[-1].config
    assert vanish.spectral_radius == 0.8
    g = lab.compute(vanish, ["gradient", "clipping"])
    assert g["clipping"].norm_before < 5.0  # below the threshold: clipping does nothing
    assert g["gradient"].growth_per_step < 1.0


@pytest.mark.parametrize("name", ["lstm_highway.py", "leaky_units.py", "clipping.py"])
def test_renders_in_its_topic(name, tmp_path, qapp):
    out = tmp_path / "frames"
    assert main(["render", str(SCENES / name), "-o", f"{out}/", "--frames", "2",
                 "--no-progress", "--size", "320x180"]) == 0
    pics = sorted(out.iterdir())
    assert len(pics) == 2
    assert np.asarray(Image.open(pics[0])).std() > 5
