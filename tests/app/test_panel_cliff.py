"""The clipping views: cliff heatmap (= the measure), clicking a start, both descent paths
drawn and replayed, the unclipped step leaving the region with an arrow at the edge, the
threshold moving the clipped path, the loss/norm panel, the main lab's clip-norm panel."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from gradlab.app.panels import get_panel
from gradlab.app.panels._cliffkit import HEAT_LEVELS, number
from gradlab.app.panels.cliff import CliffPanel
from gradlab.app.panels.clipnorm import ClipNormPanel
from gradlab.app.panels.descent import DescentPanel
from gradlab.app.theme import get_theme
from gradlab.cliff import ridge
from gradlab.config import LabConfig
from gradlab.layouts import get_layout

BOX = (-2.0, 10.0, -6.0, 2.0)
START = dict(get_layout("clipping").config)


def inside(x, y):
    return (x >= BOX[0] - 1e-9) & (x <= BOX[1] + 1e-9) & (y >= BOX[2] - 1e-9) & \
        (y <= BOX[3] + 1e-9)



def make(qtbot, cls, size=(900, 600), theme="dark"):
    p = cls(get_theme(theme))
    qtbot.addWidget(p.widget)
    p.widget.resize(*size)
    p.widget.show()
    qtbot.waitExposed(p.widget)
    return p


def draw(panel, lab, finish=True, **fields):
    snap = lab.compute(LabConfig(**{**START, **fields}), panel.measures)
    panel.show(snap)
    if finish and hasattr(panel, "replay"):
        panel.replay.finish()
    return snap


def scene_items(panel):
    return len(panel.graphics.scene().items())


def test_registered_and_laid_out():
    assert get_panel("cliff") is CliffPanel
    assert get_panel("descent") is DescentPanel
    assert get_panel("clipnorm") is ClipNormPanel
    lay = get_layout("clipping")
    assert set(lay.panels) == {"cliff", "descent", "clipnorm"}
    c = LabConfig(**lay.config)  # the layout's start is a valid config ...
    assert c.cliff_b0 == ridge(c.cliff_w0) and c.clip > 0  # ... on the ridge, clipping on


def test_heatmap_is_the_measure_with_fixed_levels(qtbot, lab):
    p = make(qtbot, CliffPanel)
    snap = draw(p, lab)
    s = snap["cliff"].surface
    img = p.image.image
    assert img.shape == s.log10_grad_norm.shape == (401, 601)
    finite = np.isfinite(s.log10_grad_norm)
    np.testing.assert_array_equal(img[finite], s.log10_grad_norm[finite])
    assert (img[~finite] == HEAT_LEVELS[0]).all()  # exact zeros at the bottom of the scale
    assert tuple(p.image.levels) == HEAT_LEVELS
    x, y = p.ridge.getData()
    np.testing.assert_array_equal(x, snap["cliff"].ridge_w)
    ok = np.isfinite(y)
    np.testing.assert_allclose(y[ok], ridge(x[ok]))
    # the surface is drawn once: a second config reuses it without a new image
    before = p.image.image
    draw(p, lab, clip=1.0)
    assert p.image.image is before


def test_unclipped_step_leaves_the_region_clipped_stays_drawn(qtbot, lab):
    """Issue 11: from a start near the ridge the drawn unclipped path leaves the plotted
    region (cut at its edge, an arrow there and a label saying where it landed); the
    clipped path, drawn whole, stays inside."""
    p = make(qtbot, CliffPanel)
    snap = draw(p, lab)
    d = snap["descent"]
    plain, clipped = p.paths["plain"], p.paths["clipped"]
    # the measure: thrown out on the first update, clipped path inside
    assert d.plain_exit is not None and d.plain_exit.update == 1
    assert not d.plain.inside().all() and d.clipped.inside().all()
    # the drawing: every drawn point of the plain path inside, the first step cut at the edge
    x, y = plain.line.getData()
    assert len(x) and inside(x, y).all()
    assert (x[1], y[1]) == pytest.approx(d.plain_exit.edge)
    assert plain.arrow.isVisible() and plain.label.isVisible()
    pos = plain.arrow.pos()
    assert (pos.x(), pos.y()) == pytest.approx(d.plain_exit.edge)
    lw, lb = d.plain_exit.landed
    assert not inside(np.array(lw), np.array(lb))
    assert f"w = {number(lw)}" in plain.label_text and f"b = {number(lb)}" in plain.label_text
    # the clipped path: all of it drawn, inside, no arrow
    cx, cy = clipped.line.getData()
    assert len(cx) == 2 * d.updates and inside(cx, cy).all()
    np.testing.assert_allclose(cx[0::2], d.clipped.points[:-1, 0])
    np.testing.assert_allclose(cx[1::2], d.clipped.points[1:, 0])
    assert not clipped.arrow.isVisible()
    rw, _ = clipped.rings.getData()
    assert len(rw) == int(d.clipped.clipped.sum()) > 0  # clip events ringed
    sx, sy = p.start.getData()
    assert (sx[0], sy[0]) == d.start


def test_threshold_changes_the_drawn_clipped_path_in_place(qtbot, lab):
    p = make(qtbot, CliffPanel)
    draw(p, lab, clip=0.5)
    items = scene_items(p)
    line = p.paths["clipped"].line
    a = np.array(line.getData()[0])
    pa = np.array(p.paths["plain"].line.getData()[0])
    draw(p, lab, clip=0.2)
    b = np.array(p.paths["clipped"].line.getData()[0])
    assert p.paths["clipped"].line is line and scene_items(p) == items  # updated in place
    assert a.shape != b.shape or not np.allclose(a, b)
    np.testing.assert_array_equal(p.paths["plain"].line.getData()[0], pa)  # plain unchanged
    assert "0.2" in p.key.text
    draw(p, lab, clip=0.0)  # clipping off: one path, said so
    assert not p.paths["clipped"].line.isVisible() and "off" in p.key.text
    assert scene_items(p) == items


def test_click_emits_the_start_and_snaps_to_the_ridge(qtbot, lab):
    p = make(qtbot, CliffPanel)
    draw(p, lab)
    vb = p.plot.getViewBox()

    def click(w, b, modifier=Qt.KeyboardModifier.NoModifier):
        scene = vb.mapViewToScene(pg_point(w, b))
        view = p.graphics.mapFromScene(scene)
        with qtbot.waitSignal(p.edited, timeout=2000) as blocker:
            qtbot.mouseClick(p.graphics.viewport(), Qt.MouseButton.LeftButton, modifier,
                             QPoint(round(view.x()), round(view.y())))
        return blocker.args[0]

    px, py = (abs(v) for v in vb.viewPixelSize())
    got = click(2.0, 0.0)  # far from the ridge: where it was clicked
    assert set(got) == {"cliff_w0", "cliff_b0"}
    assert got["cliff_w0"] == pytest.approx(2.0, abs=2 * px)
    assert got["cliff_b0"] == pytest.approx(0.0, abs=2 * py)
    near = click(6.0, ridge(6.0) + 4 * py)  # a few pixels off the ridge: snapped onto it
    assert near["cliff_b0"] == ridge(near["cliff_w0"])
    free = click(6.0, ridge(6.0) + 4 * py, Qt.KeyboardModifier.ShiftModifier)
    assert free["cliff_b0"] != ridge(free["cliff_w0"])
    LabConfig(**free)  # a valid config change
    # a start on the ridge throws the raw step off the surface at once
    d = lab.compute(LabConfig(**{**START, **near}), ["descent"])["descent"]
    assert d.plain_exit is not None and d.plain_exit.update == 1 and d.clipped_exit is None


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(x, y)


def test_replay_update_by_update(qtbot, lab):
    p = make(qtbot, CliffPanel)
    draw(p, lab, finish=False, updates=5)  # no event loop running: drawn whole at once
    assert not p.replay.running and p.replay.shown == 5
    p.replay.live = lambda: True  # as in the app, where the event loop runs
    draw(p, lab, finish=False, updates=4)
    assert p.replay.running and p.replay.shown == 0
    assert len(p.paths["plain"].line.getData()[0] or []) == 0
    qtbot.waitUntil(lambda: p.replay.shown == 4 and not p.replay.running, timeout=3000)
    assert "4 / 4" in p.counter.toPlainText()
    # the threshold alone does not restart it; a new start does
    draw(p, lab, finish=False, updates=4, clip=0.3)
    assert not p.replay.running and p.replay.shown == 4
    draw(p, lab, finish=False, updates=4, cliff_w0=4.0)
    assert p.replay.running and p.replay.shown == 0
    p.set_reveal("forward", 0.5)  # the window's animation key
    assert p.replay.shown == 2 and not p.replay.running
    p.set_reveal("done", 1.0)
    assert p.replay.shown == 4


def test_descent_panel_draws_both_runs(qtbot, lab):
    p = make(qtbot, DescentPanel, size=(600, 600))
    snap = draw(p, lab)
    d = snap["descent"]
    x, y = p.loss["plain"].getData()
    np.testing.assert_array_equal(y, d.plain.losses)
    np.testing.assert_array_equal(p.loss["clipped"].getData()[1], d.clipped.losses)
    _, n = p.norm["clipped"].getData()
    np.testing.assert_allclose(n, np.log10(d.clipped.norm_before))
    assert p.thrown.isVisible() and p.thrown.value() == d.plain_exit.update
    assert p.threshold.value() == pytest.approx(np.log10(d.threshold))
    rx, _ = p.rings["loss"].getData()
    np.testing.assert_array_equal(rx, np.flatnonzero(d.clipped.clipped))
    lo, hi = p.decades
    assert lo <= np.log10(d.plain.norm_before[0]) <= hi
    items = scene_items(p)
    draw(p, lab, clip=0.2)
    assert scene_items(p) == items
    assert p.threshold.value() == pytest.approx(np.log10(0.2))


def test_clipnorm_panel_caps_and_keeps_the_slope(qtbot, lab):
    p = make(qtbot, ClipNormPanel, size=(900, 400))
    cfg = dict(spectral_radius=1.1, input_scale=0.05)
    off = draw(p, lab, **cfg, clip=0.0)
    assert not p.after.isVisible() and "clipping off" in p.text
    t = 0.9 * off["clipping"].norm_before  # this sequence clipped, some of the batch not
    snap = draw(p, lab, **cfg, clip=t)
    c, g = snap["clipping"], snap["gradient"]
    assert p.after.isVisible()
    _, before = p.before.getData()
    _, after = p.after.getData()
    ok = np.isfinite(g.log10_norms)
    shift = after[ok] - before[ok]
    np.testing.assert_allclose(shift, np.log10(c.scale))  # parallel: the slope is kept
    assert c.scale < 1
    k = int(c.batch.clipped.sum())
    assert f"{k} of {len(c.batch_norms)} updates clipped" in p.text
    assert f"({100 * c.share_clipped:.0f}%)" in p.text and 0 < k < len(c.batch_norms)
    assert p.threshold.value() == pytest.approx(np.log10(t))
    heights = p.bars_after.opts["height"] + p.bars_after.opts["y0"]
    np.testing.assert_allclose(heights, np.log10(np.minimum(c.batch_norms, t)))


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_themes_restyle_in_place(qtbot, lab, theme):
    for cls in (CliffPanel, DescentPanel, ClipNormPanel):
        p = make(qtbot, cls, theme=theme)
        draw(p, lab)
        items = scene_items(p)
        p.apply_theme(get_theme("light" if theme == "dark" else "dark"))
        assert scene_items(p) == items


def test_theme_toggles_keep_the_heat_map_and_the_shared_named_map(qtbot, lab):
    import pyqtgraph as pg

    from gradlab.app.panels.cliff import heat_cmap

    named = np.array(pg.colormap.get("CET-L1").color, copy=True)
    p = make(qtbot, CliffPanel)
    draw(p, lab)
    dark = heat_cmap(get_theme("dark")).map([0.0, 1.0])
    light = heat_cmap(get_theme("light")).map([0.0, 1.0])
    np.testing.assert_array_equal(dark, light[::-1])  # reversed on paper
    assert dark[0][:3].sum() < 30 and dark[1][:3].min() > 220  # black to white, in bytes
    for name in ("light", "dark", "light", "light", "dark"):
        p.apply_theme(get_theme(name))
        want = heat_cmap(get_theme(name)).map([0.0, 1.0])
        np.testing.assert_array_equal(p.colorbar.colorMap().map([0.0, 1.0]), want)
        lut = p.image.lut  # what the image is painted with
        assert lut.max() > 200 and lut.min() < 30
    np.testing.assert_array_equal(pg.colormap.get("CET-L1").color, named)  # untouched
