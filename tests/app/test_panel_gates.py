"""GatesPanel: one heatmap per gate on the gate's own fixed scale, saturated shares in text."""

import numpy as np
import pytest

from gradlab.app.panels import get_panel
from gradlab.app.panels.gates import GatesPanel, percent, symmetric_level
from gradlab.app.theme import get_theme
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(GatesPanel, (1280, 540), get_theme("dark"))



def draw(panel, lab, **fields):
    snapshot = lab.compute(LabConfig(**fields), panel.measures)
    panel.show(snapshot)
    return snapshot["gates"]


def rows(panel):
    return {row.name: row for row in panel.rows}


def test_registered():
    assert get_panel("gates") is GatesPanel
    assert GatesPanel.measures == ("gates",)


def test_lstm_rows_levels_and_images(panel, lab):
    g = draw(panel, lab, cell="lstm", gate_bias=2.0)
    r = rows(panel)
    assert list(r) == ["i", "f", "g", "o", "c"]
    for name in ("i", "f", "o"):  # sigmoid gates: a fixed [0, 1] scale
        assert r[name].heat.image.levels.tolist() == [0.0, 1.0]
        np.testing.assert_array_equal(r[name].heat.image.image, g.values[name])
    assert r["g"].heat.image.levels.tolist() == [-1.0, 1.0]  # tanh
    lo, hi = r["c"].heat.image.levels
    assert lo == -hi and hi >= np.max(np.abs(g.c))  # symmetric, holds every c
    np.testing.assert_array_equal(r["c"].heat.image.image, g.c)


def test_saturated_shares_match_the_measure(panel, lab):
    for bias in (0.0, 4.0):
        g = draw(panel, lab, cell="lstm", gate_bias=bias)
        r = rows(panel)
        for name, share in g.saturated.items():
            assert r[name].value == percent(share)
            assert r[name].share.text == percent(share)
        assert panel.total_label.text == percent(g.saturated_share)
    # the forget bias drives f into saturation, which the number shows
    assert float(rows(panel)["f"].value.split()[0]) > 50.0


def test_gru_and_rnn_rows(panel, lab):
    g = draw(panel, lab, cell="gru")
    assert [row.name for row in panel.rows] == ["r", "z", "n"]
    assert rows(panel)["z"].heat.image.levels.tolist() == [0.0, 1.0]
    assert rows(panel)["n"].heat.image.levels.tolist() == [-1.0, 1.0]
    assert rows(panel)["z"].value == percent(g.saturated["z"])
    draw(panel, lab, cell="rnn")
    assert [row.name for row in panel.rows] == ["phi"]
    assert rows(panel)["phi"].heat.image.levels.tolist() == [-1.0, 1.0]
    g = draw(panel, lab, cell="rnn", activation="relu", input_scale=0.5)
    assert rows(panel)["phi"].heat.image.levels.tolist() == [-5.0, 5.0]
    assert rows(panel)["phi"].value == "—" and not g.saturated
    assert panel.total_label.text == "—"
    draw(panel, lab, cell="rnn", activation="sigmoid")
    assert rows(panel)["phi"].heat.image.levels.tolist() == [0.0, 1.0]


def test_same_cell_keeps_every_item_a_switch_rebuilds_once(panel, lab):
    draw(panel, lab, cell="lstm")
    items = list(panel.graphics.ci.items)
    plots = [row.plot for row in panel.rows]
    contents = [list(p.items) for p in plots]
    for kw in (dict(gate_bias=3.0), dict(spectral_radius=0.5), dict(steps=200, hidden=16)):
        draw(panel, lab, cell="lstm", **kw)
        assert list(panel.graphics.ci.items) == items
        assert [row.plot for row in panel.rows] == plots
        assert [list(p.items) for p in plots] == contents
    draw(panel, lab, cell="gru")
    gru_items = list(panel.graphics.ci.items)
    assert len(gru_items) == 3 * 3 + 3  # name, plot, share per gate; all, axis, total
    assert not set(plots) & set(gru_items)
    draw(panel, lab, cell="gru", gate_bias=2.0)
    assert list(panel.graphics.ci.items) == gru_items


def test_cursor_and_forward_reveal_on_every_row(panel, lab):
    draw(panel, lab, cell="lstm", steps=60)
    panel.set_cursor(12)
    assert all(row.heat.cursor.isVisible() and row.heat.cursor.value() == 12
               for row in panel.rows)
    panel.set_reveal("forward", 0.5)
    for row in panel.rows:
        r = row.heat.curtain.rect()
        assert row.heat.curtain.isVisible() and (r.left(), r.right()) == (30.5, 60.5)
    draw(panel, lab, cell="gru", steps=60)  # rebuilt rows keep the cursor and the reveal
    assert all(row.heat.cursor.value() == 12 and row.heat.curtain.isVisible()
               for row in panel.rows)
    panel.set_reveal("done", 1.0)
    panel.set_cursor(None)
    assert not any(row.heat.curtain.isVisible() or row.heat.cursor.isVisible()
                   for row in panel.rows)


def test_time_axes_line_up(panel, lab, qtbot):
    draw(panel, lab, cell="lstm", gate_bias=5.0, steps=200)
    qtbot.wait(50)
    lefts = {round(row.plot.getViewBox().sceneBoundingRect().left()) for row in panel.rows}
    rights = {round(row.plot.getViewBox().sceneBoundingRect().right()) for row in panel.rows}
    assert len(lefts) == 1 and len(rights) == 1


def test_symmetric_level_steps():
    assert symmetric_level(0.3) == 1.0
    assert symmetric_level(1.5) == 2.0
    assert symmetric_level(4.9) == 5.0
    assert symmetric_level(7.0) == 10.0
    assert symmetric_level(120.0) == 200.0
    assert symmetric_level(float("nan")) == 1.0


def test_clicking_any_row_points_the_shared_cursor(panel, lab, qtbot):
    from PySide6.QtCore import QPointF, Qt

    draw(panel, lab, cell="lstm", steps=60)
    qtbot.wait(20)
    plot = rows(panel)["o"].plot
    scene = plot.getViewBox().mapViewToScene(QPointF(41.8, 5))
    with qtbot.waitSignal(panel.cursor_moved, timeout=1000) as blocker:
        qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.graphics.mapFromScene(scene))
    assert blocker.args == [42]


def test_frame_builds_rows_before_data_and_forgets_the_old_cells_numbers(panel, lab):
    panel.frame(LabConfig(cell="gru"))
    assert [row.name for row in panel.rows] == ["r", "z", "n"]
    assert rows(panel)["z"].heat.levels == (0.0, 1.0)
    g = draw(panel, lab, cell="gru", gate_bias=5.0)
    assert panel.total_label.text == percent(g.saturated_share)
    panel.frame(LabConfig(cell="lstm"))
    assert [row.name for row in panel.rows] == ["i", "f", "g", "o", "c"]
    assert panel.total_label.text == "—"
    assert all(row.value == "" for row in panel.rows)


def test_narrow_panel_drops_the_gate_words(panel, lab, qtbot):
    draw(panel, lab, cell="lstm")
    panel.widget.resize(1280, 540)
    qtbot.wait(20)
    assert "forget" in rows(panel)["f"].title.text
    panel.widget.resize(480, 540)
    qtbot.wait(20)
    assert "forget" not in rows(panel)["f"].title.text
    assert "0</span>" in rows(panel)["f"].title.text  # the colour range stays
