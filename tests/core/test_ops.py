"""The public forward/backward wrappers: traces own their data; options are checked."""

import numpy as np
import pytest

import gradlab
from gradlab import Lab, LabConfig


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("batched", [False, True])
def test_trace_does_not_share_the_callers_input(cell, batched):
    p = gradlab.init_params(cell, 4, 3, seed=1)
    x = np.random.default_rng(0).standard_normal((1, 6, 3) if batched else (6, 3))
    h0 = np.random.default_rng(1).standard_normal(4)
    dh = np.ones((1, 6, 4))
    tr = gradlab.forward(p, x, h0)
    before = gradlab.backward(p, tr, dh).params["U"].copy()
    x[:] = 0.0  # a training loop refilling its input buffer
    h0[:] = 0.0
    assert not np.shares_memory(tr.x, x)
    np.testing.assert_array_equal(gradlab.backward(p, tr, dh).params["U"], before)


def test_gated_cells_reject_an_rnn_nonlinearity():
    sd = gradlab.to_torch(gradlab.init_params("lstm", 3, 2))
    with pytest.raises(ValueError, match="nonlinearity='relu' is for cell='rnn'"):
        gradlab.from_torch("lstm", sd, nonlinearity="relu")


def test_caption_names_the_activation_only_where_it_applies():
    assert "relu" in Lab().compute(LabConfig(activation="relu", steps=10)).caption()
    s = Lab().compute(LabConfig(cell="lstm", activation="relu", steps=10))
    assert "relu" not in s.caption() and s.caption().startswith("LSTM  ρ")


def test_reference_line_uses_the_leaky_step():
    c = LabConfig(activation="linear", spectral_radius=0.8, leak=0.2, steps=400)
    s = Lab().compute(c, ["gradient", "eigen"])
    g = s["gradient"]
    rho_eff = np.max(np.abs(0.8 + 0.2 * s["eigen"].eigvals))
    assert 0.9 < rho_eff < 1.0  # far slower decay than rho = 0.8
    np.testing.assert_allclose(g.log10_reference, g.lags * np.log10(rho_eff), atol=1e-10)
    # the step map (1 - a) I + a W is normal here: the gradient never exceeds the line, and
    # far back it shrinks at the line's rate
    assert np.all(g.log10_norms <= g.log10_reference + 1e-9)
    assert 10 ** (g.log10_norms[-1] - g.log10_norms[-2]) == pytest.approx(rho_eff, rel=1e-3)
    plain = Lab().compute(LabConfig(spectral_radius=0.8, steps=60), ["gradient"])["gradient"]
    np.testing.assert_allclose(plain.log10_reference, plain.lags * np.log10(0.8), atol=1e-12)
