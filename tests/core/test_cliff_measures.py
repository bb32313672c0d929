"""The cliff's LabConfig fields and measures: the surface (computed once), descent with and
without clipping from the start, where a path leaves the plotted region, and the main lab's
clipping summary."""

import numpy as np
import pytest

from gradlab.cliff import cliff_surface, descend, ridge
from gradlab.config import CLIFF_FIELDS, FIELDS, RIDGE_B_AT_5, LabConfig
from gradlab.lab import Lab
from gradlab.measures import MEASURES, get_measure
from gradlab.measures.descent import BOX, clip_segment, clip_segments, first_exit


@pytest.fixture(scope="module")
def lab():
    return Lab()


# -- config -------------------------------------------------------------------------------

def test_cliff_fields_have_metadata_and_defaults_on_the_ridge():
    for name in CLIFF_FIELDS:
        assert name in FIELDS
    c = LabConfig()
    assert (c.clip_mode, c.lr, c.updates) == ("norm", 1.0, 40)
    assert (c.cliff_w0, c.cliff_b0) == (5.0, ridge(5.0)) == (5.0, RIDGE_B_AT_5)
    assert FIELDS["lr"].log and FIELDS["lr"].range[0] > 0
    assert FIELDS["clip_mode"].choices == ("norm", "value")


@pytest.mark.parametrize("field, value, match", [
    ("lr", 0.0, r"lr=0.0 is out of range"),
    ("lr", 11.0, r"lr=11.0 is out of range; allowed \[0.001, 10.0\]"),
    ("lr", float("nan"), r"lr=nan"),
    ("clip_mode", "both", r"clip_mode='both' is not allowed; choose one of \['norm', 'value'\]"),
    ("updates", 0, r"updates=0 is out of range"),
    ("updates", 2.5, r"updates=2.5 must be an integer"),
    ("updates", True, r"updates=True must be an integer"),
    ("cliff_w0", 10.5, r"cliff_w0=10.5 is out of range; allowed \[-2.0, 10.0\]"),
    ("cliff_b0", -7, r"cliff_b0=-7 is out of range; allowed \[-6.0, 2.0\]"),
    ("cliff_b0", "1", r"cliff_b0='1' must be a number"),
])
def test_bad_cliff_fields_are_named(field, value, match):
    with pytest.raises(ValueError, match=match):
        LabConfig(**{field: value})


def test_scene_can_animate_the_threshold_and_the_cliff_fields():
    c = LabConfig().replace(clip=2.5, lr=0.3, clip_mode="value", cliff_w0=4.5, cliff_b0=-2.0)
    assert (c.clip, c.lr, c.clip_mode, c.cliff_w0, c.cliff_b0) == (2.5, 0.3, "value", 4.5, -2.0)
    assert c.to_dict()["lr"] == 0.3


# -- measures ------------------------------------------------------------------------------

def test_registered_with_what_they_ignore():
    assert {"cliff", "descent", "clipping"} <= set(MEASURES)
    assert get_measure("cliff").ignores == frozenset(FIELDS)  # config-independent
    used = set(FIELDS) - get_measure("descent").ignores
    assert used == set(CLIFF_FIELDS) | {"clip"}
    for name in ("gradient", "states", "eigen", "clipping", "spectrum"):
        assert set(CLIFF_FIELDS) <= get_measure(name).ignores  # the network ignores the cliff
        assert "clip" not in get_measure("clipping").ignores


def test_surface_is_the_cliff_surface_and_computed_once(lab):
    a = lab.compute(LabConfig(), ["cliff"])["cliff"]
    b = lab.compute(LabConfig(spectral_radius=1.3, lr=2.0, clip=3.0), ["cliff"])["cliff"]
    assert b is a  # no config field changes it: the lab reuses it
    ref = cliff_surface()
    np.testing.assert_array_equal(a.surface.log10_grad_norm, ref.log10_grad_norm)
    np.testing.assert_array_equal(a.surface.E, ref.E)
    assert a.surface.log10_grad_norm.shape == (401, 601)
    ok = np.isfinite(a.ridge_b)
    np.testing.assert_allclose(a.ridge_b[ok], ridge(a.ridge_w[ok]))
    assert ok.any() and np.isnan(a.ridge_b[a.ridge_w < 4.0]).all()  # no cliff for small w


def test_unclipped_step_near_the_ridge_leaves_the_region_clipped_stays(lab):
    """Issue 11: from a point near the ridge the raw step is thrown far off the plotted
    region; the clipped path, same start, same lr, stays on the surface."""
    c = LabConfig(clip=1.0, lr=0.1, updates=40)  # start (5, ridge(5))
    d = lab.compute(c, ["descent"])["descent"]
    assert d.start == (5.0, ridge(5.0)) and d.clipping
    ex = d.plain_exit
    assert ex is not None and ex.update == 1  # the first update already throws it
    w, b = ex.landed
    assert not (-2 <= w <= 10 and -6 <= b <= 2) and ex.step > 50  # far outside
    assert ex.side in ("right", "top")
    assert ex.edge[0] == pytest.approx(10.0) or ex.edge[1] == pytest.approx(2.0)
    assert not d.plain.inside().all()
    assert d.clipped_exit is None and d.clipped.inside().all()
    assert d.clipped.clipped[0]  # the first gradient was clipped ...
    np.testing.assert_allclose(np.linalg.norm(d.clipped.points[1] - d.clipped.points[0]),
                               0.1 * 1.0)  # ... to a step of lr * threshold ...
    g = d.plain.grads[0]
    step = d.clipped.points[0] - d.clipped.points[1]
    np.testing.assert_allclose(step / np.linalg.norm(step), g / np.linalg.norm(g))  # same way
    assert d.plain.norm_before[0] > 100


def test_threshold_changes_the_clipped_path_only(lab):
    a = lab.compute(LabConfig(clip=1.0), ["descent"])["descent"]
    b = lab.compute(LabConfig(clip=0.5), ["descent"])["descent"]
    np.testing.assert_array_equal(a.plain.points, b.plain.points)
    assert not np.allclose(a.clipped.points, b.clipped.points)
    off = lab.compute(LabConfig(clip=0.0), ["descent"])["descent"]
    assert not off.clipping and off.clipped is off.plain  # clipping off: the same run
    v = lab.compute(LabConfig(clip=1.0, clip_mode="value"), ["descent"])["descent"]
    ref = descend(5.0, ridge(5.0), lr=1.0, updates=40, clip=("value", 1.0))
    np.testing.assert_array_equal(v.clipped.points, ref.points)
    assert np.allclose(np.abs(v.clipped.points[1] - v.clipped.points[0]), 1.0)  # each axis


def test_descent_reuses_the_network_fields():
    lab = Lab()
    a = lab.compute(LabConfig(clip=1.0), ["descent", "gradient"])
    b = lab.compute(LabConfig(clip=1.0, spectral_radius=1.2), ["descent", "gradient"])
    assert b["descent"] is a["descent"] and b["gradient"] is not a["gradient"]
    c = lab.compute(LabConfig(clip=1.0, spectral_radius=1.2, lr=0.2), ["descent", "gradient"])
    assert c["gradient"] is b["gradient"] and c["descent"] is not b["descent"]


def test_clip_segments_and_exits():
    box = BOX
    assert clip_segment(np.array([0.0, 0.0]), np.array([1.0, 1.0]), box) == (0.0, 1.0)
    assert clip_segment(np.array([20.0, 20.0]), np.array([30.0, 20.0]), box) is None
    s0, s1 = clip_segment(np.array([8.0, 0.0]), np.array([12.0, 0.0]), box)
    assert (s0, s1) == (0.0, 0.5)
    pts = np.array([[0.0, 0.0], [8.0, 0.0], [12.0, 0.0], [14.0, 0.0], [9.0, 1.0]])
    seg = clip_segments(pts, box)
    assert seg.shape == (8, 2)
    np.testing.assert_allclose(seg[2:4], [[8.0, 0.0], [10.0, 0.0]])  # cut at the edge
    assert np.isnan(seg[4:6]).all()  # wholly outside
    np.testing.assert_allclose(seg[6:8], [[10.0, 0.8], [9.0, 1.0]])  # back in
    ex = first_exit(pts, box)
    assert (ex.update, ex.edge, ex.landed, ex.side, ex.returns) == (
        2, (10.0, 0.0), (12.0, 0.0), "right", True)
    assert ex.step == 4.0
    assert first_exit(pts[:2], box) is None


def test_clipping_summary_in_the_main_lab(lab):
    c = LabConfig(spectral_radius=1.3, steps=60, input_scale=0.5)
    off = lab.compute(c, ["clipping"])["clipping"]
    assert off.batch is None and off.share_clipped == 0.0
    t = float(np.median(off.batch_norms))
    on = lab.compute(c.replace(clip=t), ["clipping"])["clipping"]
    assert on.batch.threshold == t
    np.testing.assert_array_equal(on.batch.norm_before, on.batch_norms)
    np.testing.assert_allclose(on.batch.norm_after, np.minimum(on.batch_norms, t))
    assert on.share_clipped == on.batch.share == np.mean(on.batch_norms > t)
    # the cliff's fields do not touch it
    assert lab.compute(c.replace(clip=t, lr=1.0, cliff_w0=3.0), ["clipping"])["clipping"] is on


def test_clipping_layout_starts_where_one_click_shows_the_cliff(lab):
    """Opening the 'clipping' layout: the first raw step leaves the region, the clipped run
    stays on the surface the whole way, and its main-lab clip threshold is on."""
    from gradlab.layouts import get_layout

    lay = get_layout("clipping")
    assert lay.panels == ("cliff", "descent", "clipnorm")
    c = LabConfig(**lay.config)
    d = lab.compute(c, ["descent"])["descent"]
    assert d.plain_exit.update == 1 and d.plain_exit.step > 100
    assert d.clipped_exit is None and d.clipped.clipped.any()
    assert d.clipped.losses.min() < d.clipped.losses[0]  # and it goes on descending
    snap = lab.compute(c, ["clipping"])
    assert snap["clipping"].threshold == c.clip > 0


def test_clip_segment_agrees_with_dense_sampling():
    rng = np.random.default_rng(3)
    for _ in range(300):
        p0 = rng.uniform([-30, -30], [30, 30])
        p1 = p0 + rng.standard_normal(2) * rng.choice([0.5, 5.0, 500.0])
        s = np.linspace(0.0, 1.0, 2001)
        pts = p0 + s[:, None] * (p1 - p0)
        inside = (pts[:, 0] >= BOX[0]) & (pts[:, 0] <= BOX[1]) & (pts[:, 1] >= BOX[2]) & \
            (pts[:, 1] <= BOX[3])
        part = clip_segment(p0, p1, BOX)
        if part is None:
            assert not inside.any()
            continue
        s0, s1 = part
        if inside.any():
            assert s0 <= s[inside].min() + 1e-12 and s[inside].max() <= s1 + 1e-12
            assert s[inside].min() - s0 <= 1 / 2000 and s1 - s[inside].max() <= 1 / 2000
