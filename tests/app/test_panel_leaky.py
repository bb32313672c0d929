"""LeakyPanel: one gradient curve per leak, legend 'a = … (γ = …)', memory horizons drawn in
the key (leak down -> horizon longer), per-unit leaks noted, and a clear message for cells
that have no leaky units."""

import re

import numpy as np
import pytest

from gradlab.app.panels import get_panel
from gradlab.app.panels.leaky import NOT_RNN, LeakyPanel, leak_label
from gradlab.app.theme import DARK, LIGHT
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(LeakyPanel, (1000, 600), DARK)


def shown(panel, lab, config):
    panel.frame(config)
    snap = lab.compute(config, panel.measures)
    panel.show(snap)
    return snap["leaky"]


def steps_of(text: str) -> float:
    """'23 steps' -> 23; '> 200 steps' -> inf."""
    if text.startswith(">"):
        return np.inf
    return float(re.match(r"(\d+) steps", text).group(1))


def drawn_horizon(panel, config) -> float:
    """The memory horizon of the config's own leak, as written in the drawn key."""
    return steps_of(panel.horizons()[leak_label(config.leak, config.leak_spread)])


def test_registered():
    assert get_panel("leaky") is LeakyPanel
    assert LeakyPanel.measures == ("leaky",)


def test_one_curve_per_leak_with_legend(panel, lab):
    cfg = LabConfig(leak=0.3, spectral_radius=0.9, steps=80)
    fam = shown(panel, lab, cfg)
    assert list(fam.leaks) == [1.0, 0.5, 0.3, 0.2, 0.1, 0.05]
    names = [name for name, _ in panel.key_values()]
    assert names == ["a = 1 (γ = 1)", "a = 0.5 (γ = 2)", "a = 0.3 (γ = 3.33)",
                     "a = 0.2 (γ = 5)", "a = 0.1 (γ = 10)", "a = 0.05 (γ = 20)"]
    for i in range(6):
        x, y = panel.curves[i].getData()
        np.testing.assert_array_equal(x, fam.lags)
        np.testing.assert_allclose(y, fam.log10_norms[i])
        assert panel.curves[i].isVisible()
    assert not any(c.isVisible() for c in panel.curves[6:])
    # the config's own leak is drawn thickest, and written large in the key
    widths = [c.opts["pen"].widthF() for c in panel.curves[:6]]
    assert int(np.argmax(widths)) == fam.current == 2
    assert f"{DARK.summary_pt + 2}pt" in panel.key.text


def test_leak_down_memory_horizon_longer(panel, lab):
    """The issue's requirement, read from the drawn readout."""
    horizons = []
    for leak in (1.0, 0.5, 0.2):
        cfg = LabConfig(leak=leak, spectral_radius=0.9, steps=300)
        shown(panel, lab, cfg)
        horizons.append(drawn_horizon(panel, cfg))
    assert horizons[0] < horizons[1] < horizons[2], horizons
    # within one picture too: smaller leaks reach further back (to within one step)
    fam = shown(panel, lab, LabConfig(leak=1.0, spectral_radius=0.9, steps=300))
    drawn = [steps_of(v) for _, v in panel.key_values()]
    assert drawn == sorted(drawn)  # leaks listed from 1 down
    assert drawn[0] == fam.horizons[0]
    # the horizon dots sit on the curves, 3 decades below lag 0
    pos = panel.marks.data["x"], panel.marks.data["y"]
    assert pos[0][0] == fam.horizons[0]
    assert pos[1][0] <= fam.log10_norms[0, 0] - 3.0


def test_spread_is_noted(panel, lab):
    cfg = LabConfig(leak=0.2, leak_spread="log-uniform", spectral_radius=0.9)
    shown(panel, lab, cfg)
    assert "leaks per unit" in panel.key.text
    assert "a = 0.2…1" in [name for name, _ in panel.key_values()]


def test_not_an_rnn_says_so(panel, lab):
    shown(panel, lab, LabConfig(leak=0.5))
    assert not panel.message.isVisible()
    shown(panel, lab, LabConfig(cell="lstm"))
    assert panel.message.isVisible()
    assert NOT_RNN in panel.message.textItem.toPlainText()
    assert not any(c.isVisible() for c in panel.curves)
    assert panel.key_values() == []
    shown(panel, lab, LabConfig(leak=0.5))  # and back
    assert not panel.message.isVisible() and panel.curves[0].isVisible()


def test_items_updated_in_place_and_cursor(panel, lab):
    items = (panel.plot, panel.key, *panel.curves, panel.marks)
    shown(panel, lab, LabConfig(leak=0.5))
    shown(panel, lab, LabConfig(leak=0.25, steps=90))
    assert items == (panel.plot, panel.key, *panel.curves, panel.marks)
    panel.set_cursor(80)
    assert panel.cursor.isVisible() and panel.cursor.value() == 10


def test_themes(panel, lab):
    shown(panel, lab, LabConfig(leak=0.5))
    panel.apply_theme(LIGHT)
    assert LIGHT.muted in panel.key.text
    panel.apply_theme(DARK)
    assert DARK.muted in panel.key.text


def test_reveal_draws_the_gradient_flowing_back(panel, lab):
    fam = shown(panel, lab, LabConfig(leak=0.5, steps=100, spectral_radius=0.8))
    panel.set_reveal("forward", 0.5)
    x, _ = panel.curves[0].getData()
    assert x is None or len(x) == 0  # no gradient during the forward pass
    panel.set_reveal("backward", 0.25)
    x, y = panel.curves[0].getData()
    assert x.max() == 25 and np.allclose(y, fam.log10_norms[0][:26])
    assert all(px <= 25 for px in panel.marks.data["x"])
    panel.set_reveal("done", 1.0)
    assert panel.curves[0].getData()[0].max() == 100


def test_a_snapshot_without_the_measure_keeps_the_picture(panel, lab):
    shown(panel, lab, LabConfig(leak=0.5))
    before = panel.curves[0].getData()[1].copy()
    panel.show(lab.compute(LabConfig(leak=0.2), ["gradient"]))
    np.testing.assert_array_equal(panel.curves[0].getData()[1], before)


def test_short_panel_key_one_line_a_leak(panel, lab, qtbot):
    """At 1280x720 the leaky panel is about 300 px tall: the key drops to one line per leak
    (every leak and horizon still written)."""
    cfg = LabConfig(leak=0.2, spectral_radius=0.9, steps=60)
    shown(panel, lab, cfg)
    two = panel.key.text.count("<br>")
    panel.widget.resize(1000, 300)
    qtbot.wait(20)
    panel.show(lab.compute(cfg, panel.measures))
    one = panel.key.text.count("<br>")
    assert one < two and one == len(panel.key_values())  # heading + one line each
    assert drawn_horizon(panel, cfg) == np.inf
    assert panel.horizons()["a = 1 (γ = 1)"] == "60 steps"
    assert "a = 1 (γ = 1)&nbsp;&nbsp;60<" in panel.key.text  # drawn: the unit in the heading
    assert "memory horizon (steps)" in panel.key.text


def test_export_png(panel, lab, tmp_path):
    shown(panel, lab, LabConfig(leak=0.5))
    panel.export(tmp_path / "leaky.png")
    assert (tmp_path / "leaky.png").stat().st_size > 1000
