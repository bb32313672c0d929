"""The lab window: slider -> snapshot -> drawn data, overflow drawing, themes, keys, pixels."""

import numpy as np
from PySide6.QtCore import Qt

from gradlab.app.panels.gradient import decades
from gradlab.app.theme import DARK, LIGHT
from gradlab.config import LabConfig


def drawn(window):
    """The gradient curve as drawn: (lag, log10 norm), read back from the plot item."""
    x, y = window.gradient.curve.getData()  # the plot is in log-y mode: y is log10(norm)
    return np.asarray(x), np.asarray(y)


def drawn_slope(window) -> float:
    x, y = drawn(window)
    assert np.all(np.isfinite(y))
    return float(np.polyfit(x, y, 1)[0])


def test_window_builds_and_draws_the_default_experiment(window):
    snap = window.snapshot
    assert snap is not None and snap.config == LabConfig() == window.config
    x, y = drawn(window)
    assert len(x) == LabConfig().steps + 1 and np.all(np.isfinite(y))
    assert window.summary.text() == snap.caption()
    assert window.hidden.image.image.shape == (60, 32)
    assert len(window.eigen.points.getData()[0]) == 32


def test_moving_the_slider_recomputes_and_redraws(window):
    slider = window.controls.rho_slider
    before = drawn(window)[1].copy()
    slider.setValue(90)
    assert window.snapshot.config.spectral_radius == 0.9
    assert window.controls.rho_value.text() == "ρ = 0.90"
    after = drawn(window)[1]
    assert after.shape == before.shape and not np.allclose(after, before)
    assert after[-1] < before[-1]  # a smaller radius: less gradient reaches the far lags


def test_linear_slope_follows_the_slider(window):
    window.controls.activation.setCurrentText("linear")
    assert window.snapshot.config.activation == "linear"
    slider = window.controls.rho_slider
    slider.setValue(80)
    assert window.snapshot.config.spectral_radius == 0.8
    slope_vanish = drawn_slope(window)
    slider.setValue(120)
    assert window.snapshot.config.spectral_radius == 1.2
    slope_explode = drawn_slope(window)
    assert slope_vanish < 0 < slope_explode
    # orthogonal W times rho: in the linear regime the norm is exactly rho^l
    assert abs(slope_vanish - np.log10(0.8)) < 1e-6
    assert abs(slope_explode - np.log10(1.2)) < 1e-6


def test_y_range_is_fixed_while_dragging(window):
    view = window.gradient.plot.getViewBox()
    window.controls.rho_slider.setValue(80)
    first = view.viewRange()[1]
    for ticks in range(81, 121, 7):
        window.controls.rho_slider.setValue(ticks)
        assert view.viewRange()[1] == first
    assert np.allclose(first, [-1.12 * decades(60), 1.12 * decades(60)])


def test_set_config_updates_controls_without_echo(window):
    computed = window.worker.computed
    config = LabConfig(spectral_radius=1.234, activation="relu", steps=80, hidden=16, seed=3)
    window.set_config(config)
    assert window.worker.computed == computed + 1  # no feedback loop from the widgets
    assert window.snapshot.config == config == window.config
    c = window.controls
    assert (c.activation.currentText(), c.steps.value(), c.hidden.value(), c.seed.value()) == (
        "relu", 80, 16, 3)
    c.seed.setValue(4)  # editing another field keeps the scene's exact radius
    assert window.config.spectral_radius == 1.234 and window.config.seed == 4


def test_overflow_is_drawn_and_labelled(window):
    window.set_config(LabConfig(activation="linear", spectral_radius=4.0, steps=5000))
    snap = window.snapshot
    k = snap.overflow_lag
    assert k is not None and snap.overflow_step is not None
    x, y = drawn(window)
    assert len(x) == k and np.all(np.isfinite(y))  # the curve stops at the last finite lag
    g = window.gradient
    assert g.overflow_line.isVisible() and g.overflow_line.value() == k
    assert g.overflow_label.isVisible()
    assert g.overflow_label.textItem.toPlainText() == f"overflow at lag {k}"
    assert window.hidden.overflow_label.isVisible()
    assert f"step {snap.overflow_step}" in window.hidden.overflow_label.textItem.toPlainText()
    # the non-finite states are painted in the overflow colour, not left blank
    pixels = window.hidden.widget.grab().toImage()
    colour = DARK.overflow.lstrip("#").lower()
    found = {pixels.pixelColor(px, py).name().lstrip("#")
             for px in range(0, pixels.width(), 7) for py in range(0, pixels.height(), 7)}
    assert colour in found
    # back to a finite run: the overflow marks go away
    window.set_config(LabConfig())
    assert not g.overflow_label.isVisible() and not window.hidden.overflow_label.isVisible()


def test_exact_zero_gradients_keep_the_log_axis_valid(window):
    # relu with no input: h stays 0, phi'(0) = 0, so every lag beyond 0 has gradient exactly 0
    window.set_config(LabConfig(activation="relu", input_scale=0.0))
    assert np.count_nonzero(window.snapshot.grad_norms[1:]) == 0
    x, y = drawn(window)
    assert len(x) == 61 and np.all(np.isfinite(y)) and y[-1] < -100  # dives off the bottom


def test_heatmap_levels_are_fixed_by_the_config(window):
    assert tuple(window.hidden.image.levels) == (-1.0, 1.0)
    window.controls.rho_slider.setValue(130)
    assert tuple(window.hidden.image.levels) == (-1.0, 1.0)
    window.set_config(LabConfig(activation="linear", input_scale=0.5))
    assert tuple(window.hidden.image.levels) == (-5.0, 5.0)


def test_theme_toggle_restyles_in_place(window, qtbot):
    curve = window.gradient.curve
    assert curve.opts["pen"].color().name() == DARK.grad
    window.set_theme("light")
    assert window.theme == "light"
    assert curve is window.gradient.curve  # same item, restyled
    assert curve.opts["pen"].color().name() == LIGHT.grad
    assert window.gradient.widget.backgroundBrush().color().name() == LIGHT.background
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.theme == "dark"
    assert window.gradient.widget.backgroundBrush().color().name() == DARK.background


def test_lecture_keys(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.snapshot.config.spectral_radius == 1.01
    qtbot.keyClick(window.controls.rho_slider, Qt.Key.Key_Up)  # routed past the slider
    assert window.snapshot.config.spectral_radius == 1.06
    qtbot.keyClick(window.controls.activation, Qt.Key.Key_Down)  # and past the combo box
    assert window.config.spectral_radius == 1.01 and window.config.activation == "tanh"
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert window.config.spectral_radius == 1.0
    window.controls.seed.setValue(9)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.snapshot.config == LabConfig()


def test_grab_rgb_matches_the_window(window):
    rgb = window.grab_rgb()
    assert rgb.dtype == np.uint8 and rgb.shape == (720, 1280, 3)
    assert rgb.flags.c_contiguous and rgb.flags.writeable
    assert rgb.reshape(-1, 3).std(axis=0).max() > 10  # something is drawn
    window.show_controls(False)
    window.set_caption("Vanishing gradients: every step multiplies by ρ < 1")
    assert window.caption.isVisible() and not window.controls.isVisible()
    rgb2 = window.grab_rgb()
    assert rgb2.shape == (720, 1280, 3) and not np.array_equal(rgb, rgb2)
    window.set_caption("")
    assert not window.caption.isVisible()


def test_heatmap_title_says_when_colours_clip(window):
    w = window
    w.set_config(w.config.replace(spectral_radius=1.2, activation="linear"))
    peak = np.max(np.abs(w.snapshot.h))
    assert peak > 1 and f"max |h| = {peak:.2g}, colours clipped" in w.hidden._title
    w.set_config(w.config.replace(activation="tanh"))
    assert "clipped" not in w.hidden._title
