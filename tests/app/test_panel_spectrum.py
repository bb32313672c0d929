"""SpectrumPanel: the fan of log10 singular values against the lag, its guides, the
Lyapunov exponents, the cursor, and a truncated spectrum noted."""

import numpy as np
import pytest

import gradlab.measures.spectrum as spectrum_measure
from gradlab.app.panels import get_panel
from gradlab.app.panels.spectrum import SpectrumPanel
from gradlab.app.theme import DARK, LIGHT
from gradlab.config import LabConfig


@pytest.fixture
def panel(make_panel):
    return make_panel(SpectrumPanel, (1000, 600), DARK)


def shown(panel, lab, config):
    panel.frame(config)
    snap = lab.compute(config, panel.measures)
    panel.show(snap)
    return snap["spectrum"]


def data(item):
    x, y = item.getData()
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def test_registered():
    assert get_panel("spectrum") is SpectrumPanel
    assert SpectrumPanel.measures == ("spectrum",)


def test_top_curve_is_the_largest_singular_value_and_the_fan_holds_the_rest(panel, lab):
    sp = shown(panel, lab, LabConfig(hidden=16, steps=40, spectral_radius=1.1))
    x, y = data(panel.top)
    np.testing.assert_array_equal(x, sp.lags)
    np.testing.assert_allclose(y, sp.log10_sv[:, 0])
    np.testing.assert_allclose(data(panel.bottom)[1], sp.log10_sv[:, -1])
    # the interior: one nan-separated polyline, d - 2 curves, each of L points
    fx, fy = data(panel.fan)
    assert np.isnan(fx).sum() == 16 - 2
    pieces = np.split(fy, np.nonzero(np.isnan(fy))[0])
    np.testing.assert_allclose(pieces[0], sp.log10_sv[:, 1])
    np.testing.assert_allclose(pieces[3][1:], sp.log10_sv[:, 4])
    np.testing.assert_allclose(data(panel.sigma_guide)[1], sp.log10_sigma_max)
    np.testing.assert_allclose(data(panel.rho_guide)[1], sp.log10_rho)
    lx, ly = data(panel.exponents)
    np.testing.assert_array_equal(lx, np.arange(1, 17))
    np.testing.assert_allclose(ly, sp.lyapunov)


def test_linear_orthogonal_fan_follows_rho_to_the_l(panel, lab):
    """W = rho Q (orthogonal Q), linear: every singular value of W^l is rho^l, so the top
    curve is drawn on the rho^l guide, tilting up for rho > 1 and down below."""
    for rho in (0.8, 1.25):
        shown(panel, lab, LabConfig(hidden=8, steps=30, activation="linear",
                                    spectral_radius=rho))
        x, y = data(panel.top)
        np.testing.assert_allclose(y, x * np.log10(rho), atol=1e-8)
        assert np.sign(y[-1]) == np.sign(np.log10(rho))
        # the frame holds the curves (drawn at their true height)
        lo, hi = panel.plot.vb.viewRange()[1]
        assert lo <= y.min() and y.max() <= hi


def test_guide_beyond_the_frame_is_marked(panel, lab):
    shown(panel, lab, LabConfig(hidden=16, steps=120, spectral_radius=1.5))
    # tanh saturates: the fan stays low while rho^l = 1.5^l climbs out of the frame
    label = panel.exits.labels[1]
    assert label.isVisible()
    assert label.textItem.toPlainText().startswith("▲")


def test_items_updated_in_place(panel, lab):
    items = (panel.top, panel.bottom, panel.fan, panel.sigma_guide, panel.rho_guide,
             panel.exponents, panel.plot, panel.lyap_plot)
    shown(panel, lab, LabConfig(hidden=8, steps=30))
    first = data(panel.top)[1].copy()
    shown(panel, lab, LabConfig(hidden=8, steps=30, spectral_radius=1.3))
    assert items == (panel.top, panel.bottom, panel.fan, panel.sigma_guide, panel.rho_guide,
                     panel.exponents, panel.plot, panel.lyap_plot)
    assert not np.allclose(first, data(panel.top)[1])


def test_truncated_spectrum_is_noted(panel, lab, monkeypatch):
    monkeypatch.setattr(spectrum_measure, "JACOBIAN_BYTES", 8 * 8 * 8 * 20)
    sp = shown(panel, lab, LabConfig(hidden=8, steps=60, seed=3))
    assert sp.truncated and len(sp.lags) == 20
    assert "last 20 of 60" in panel.plot.titleLabel.text
    assert panel.plot.vb.viewRange()[0][1] < 25  # the x axis covers the lags computed


def test_cursor_line_at_lag_T_minus_t(panel, lab):
    shown(panel, lab, LabConfig(hidden=8, steps=30))
    panel.set_cursor(20)
    assert panel.cursor.isVisible() and panel.cursor.value() == 10
    panel.set_cursor(None)
    assert not panel.cursor.isVisible()


def test_lstm_state_is_h_and_c(panel, lab):
    sp = shown(panel, lab, LabConfig(cell="lstm", hidden=8, steps=30))
    assert sp.log10_sv.shape[1] == 16
    assert "(h, c)" in panel.plot.titleLabel.text


def test_themes(panel, lab):
    shown(panel, lab, LabConfig(hidden=8, steps=30))
    panel.apply_theme(LIGHT)
    assert panel.top.opts["pen"].color().name() == LIGHT.grad
    panel.apply_theme(DARK)
    assert panel.top.opts["pen"].color().name() == DARK.grad


def test_scaled_type_keeps_the_title_whole(panel, lab):
    """The window scales type with its size: the title row grows with it (pyqtgraph's fixed
    30 px row would clip a 38 pt title)."""
    shown(panel, lab, LabConfig(hidden=8, steps=30))
    big = DARK.scaled(2.0)
    panel.apply_theme(big)
    for plot in (panel.plot, panel.lyap_plot):
        text_height = plot.titleLabel.item.boundingRect().height()
        assert text_height > 30
        assert plot.titleLabel.maximumHeight() >= text_height


def test_reveal_grows_the_fan_from_lag_one(panel, lab):
    sp = shown(panel, lab, LabConfig(hidden=8, steps=40))
    panel.set_reveal("backward", 0.5)
    x, y = data(panel.top)
    assert x.max() == 20 and np.allclose(y, sp.log10_sv[:20, 0])
    assert np.nanmax(data(panel.fan)[0]) == 20
    panel.set_reveal("done", 1.0)
    assert data(panel.top)[0].max() == 40


def test_export_png(panel, lab, tmp_path):
    shown(panel, lab, LabConfig(hidden=8, steps=30))
    panel.export(tmp_path / "spectrum.png")
    assert (tmp_path / "spectrum.png").stat().st_size > 1000
