"""Scaled BPTT (gradlab.measures.scaled): restarts that always make progress, and one curve for
every measure that draws the gradient against the lag (gradient, leaky, cells)."""

import threading

import numpy as np
import pytest

from gradlab import Lab, LabConfig
from gradlab.measures import scaled
from gradlab.measures.context import BaseDraws, Context


def _run_with_deadline(fn, seconds: float):
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"did not return within {seconds} s (restarts forever?)"
    return out[0]


def test_a_band_left_within_one_step_stops_rescaling_instead_of_restarting_forever(monkeypatch):
    # a band that holds the loss's gradient at step T and a rescaled one (largest entry 1),
    # but not one step back (rho = 0.05 shrinks it ~20x a step): a restart at T cannot help;
    # before, the loop restarted at the same step for ever
    ctx = Context(LabConfig(hidden=8, steps=30, spectral_radius=0.05), BaseDraws())
    top = float(np.max(np.abs(ctx.g)))
    monkeypatch.setattr(scaled, "LOW", top * (1 - 1e-9))
    monkeypatch.setattr(scaled, "HIGH", 1.0 + 1e-9)
    gh, _, exponent, rescaled = _run_with_deadline(
        lambda: scaled.scaled_backward(ctx.params, ctx.x, ctx.trace, ctx.grads, ctx.dh), 30.0)
    with np.errstate(divide="ignore"):
        plain = np.log10(np.abs(np.vstack([ctx.grads.h0, ctx.grads.h[0]])))  # (T+1, n)
        got = np.log10(np.abs(gh)) + exponent[:, None]
    np.testing.assert_allclose(got, plain, atol=1e-10)


def test_restarts_reproduce_the_plain_gradient_where_it_is_in_range(monkeypatch):
    # a band of 1e-3..1e3 forces restarts every few steps; in scaled form the gradient is
    # the plain float64 one (tanh RNN, LSTM with its cell state carried along)
    monkeypatch.setattr(scaled, "LOW", 1e-3)
    monkeypatch.setattr(scaled, "HIGH", 1e3)
    for cell, rho, loss in (("rnn", 0.4, "last"), ("rnn", 1.5, "every"), ("lstm", 0.6, "last")):
        ctx = Context(LabConfig(cell=cell, hidden=8, steps=60, spectral_radius=rho,
                                activation="linear" if rho > 1 else "tanh",
                                input_scale=0.5, loss=loss), BaseDraws())
        gh, gc, exponent, rescaled = scaled.scaled_backward(ctx.params, ctx.x, ctx.trace,
                                                            ctx.grads, ctx.dh)
        assert rescaled >= 2, (cell, rho)
        plain = np.vstack([ctx.grads.h0, ctx.grads.h[0]])  # (T+1, n)
        np.testing.assert_allclose(gh * 10.0 ** exponent[:, None], plain, rtol=1e-9,
                                   atol=1e-12 * np.abs(plain).max())
        if gc is not None:
            plain_c = np.vstack([ctx.grads.c0, ctx.grads.c[0]])
            np.testing.assert_allclose(gc * 10.0 ** exponent[:, None], plain_c, rtol=1e-9,
                                       atol=1e-12 * np.abs(plain_c).max())


@pytest.mark.parametrize("config", [
    LabConfig(hidden=8, steps=200, spectral_radius=0.3),  # rescaled
    LabConfig(hidden=8, steps=300, spectral_radius=1.3, activation="relu", loss="every"),
    LabConfig(hidden=8, steps=100, spectral_radius=0.9, leak=0.12345678),  # not rounded
    LabConfig(hidden=8, steps=100, spectral_radius=0.9, leak=0.5000000001),  # not twice
])
def test_gradient_leaky_and_cells_draw_the_same_curve_for_the_config(config):
    s = Lab().compute(config, ["gradient", "leaky", "cells"])
    g = s["gradient"].log10_norms
    leaky, cells = s["leaky"], s["cells"]
    np.testing.assert_array_equal(leaky.log10_norms[leaky.current], g)
    np.testing.assert_array_equal(cells.log10_norms[cells.current], g)
    assert leaky.leaks[leaky.current] == config.leak and len(set(np.round(leaky.leaks, 6))) == \
        len(leaky.leaks)


def test_the_loss_direction_does_not_change_with_the_horizon_or_the_inputs():
    # before, g was drawn after x from one stream: every step of the T slider drew a new g
    from gradlab.measures.context import inputs_for

    x60, g60 = inputs_for(LabConfig(steps=60))
    x61, g61 = inputs_for(LabConfig(steps=61))
    _, g_m = inputs_for(LabConfig(steps=60, inputs=7))
    np.testing.assert_array_equal(x61[:60], x60)
    np.testing.assert_array_equal(g61, g60)
    np.testing.assert_array_equal(g_m, g60)
    assert np.linalg.norm(g60) == pytest.approx(1.0)
