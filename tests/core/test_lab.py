"""The lab's physics: lecture-note numbers, slopes, leaky units, overflow, validation."""

import numpy as np
import pytest

import gradlab
from gradlab import Lab, LabConfig


def linear_rnn(W):
    n = W.shape[0]
    return gradlab.Params("rnn", {"W": W, "U": np.zeros((n, 1)), "b": np.zeros(n),
                                  "b_h": np.zeros(n)}, {"activation": "linear"})


def jacobian_product(p, T):
    tr = gradlab.forward(p, np.zeros((T, 1)))
    J = gradlab.step_jacobians(p, tr)[0]  # (T, n, n)
    P = np.eye(p.n)
    for Jt in J[::-1]:
        P = P @ Jt
    return P, tr


@pytest.mark.parametrize("eigs, printed", [
    ((0.5, 1.5), (0.00098, 57.665039)),  # the lecture notes' first example
    ((-0.618034, 1.618034), (0.0081, 122.9919)),  # ... and the golden-ratio pair
])
def test_lecture_note_ten_step_jacobians(eigs, printed):
    P, tr = jacobian_product(linear_rnn(np.diag(eigs)), 10)
    np.testing.assert_allclose(np.diag(P), np.array(eigs) ** 10, rtol=1e-13)
    assert abs(P[0, 1]) == 0 and abs(P[1, 0]) == 0
    for value, shown in zip(np.diag(P), printed, strict=True):
        digits = len(str(shown).split(".")[1])
        assert round(value, digits) == pytest.approx(shown)  # as printed in the notes
    # the same numbers come out of BPTT: a loss on h_10 seen 10 steps back
    p = linear_rnn(np.diag(eigs))
    dh = np.zeros((1, 10, 2))
    dh[0, -1] = 1.0
    g = gradlab.backward(p, tr, dh)
    np.testing.assert_allclose(g.h0[0], np.array(eigs) ** 10, rtol=1e-13)


def test_ten_step_jacobian_to_four_significant_digits():
    P, _ = jacobian_product(linear_rnn(np.diag([0.5, 1.5])), 10)
    assert float(f"{P[0, 0]:.4g}") == 0.0009766 and float(f"{P[1, 1]:.4g}") == 57.67
    P, _ = jacobian_product(linear_rnn(np.diag([-0.618034, 1.618034])), 10)
    assert float(f"{P[0, 0]:.4g}") == 0.008131 and float(f"{P[1, 1]:.4g}") == 123.0


def grad(config):
    return Lab().compute(config, ["gradient"])["gradient"]


@pytest.mark.parametrize("rho", [0.8, 1.2])
def test_linear_gradient_slope_follows_spectral_radius(rho):
    g = grad(LabConfig(activation="linear", spectral_radius=rho))
    slope = np.polyfit(g.lags, g.log10_norms, 1)[0]
    assert (slope < 0) if rho < 1 else (slope > 0)
    # orthogonal W: every vector is scaled by exactly rho per step
    np.testing.assert_allclose(g.log10_norms, g.lags * np.log10(rho), atol=1e-10)
    np.testing.assert_allclose(g.log10_reference, g.lags * np.log10(rho), atol=1e-10)
    assert g.growth_per_step == pytest.approx(rho, rel=1e-9)
    e = Lab().compute(LabConfig(activation="linear", spectral_radius=rho), ["eigen"])["eigen"]
    assert np.max(np.abs(e.eigvals)) == pytest.approx(rho, rel=1e-9)


@pytest.mark.parametrize("init", ["gaussian", "identity"])
def test_other_inits_are_scaled_to_the_radius(init):
    for rho in (0.8, 1.2):
        c = LabConfig(activation="linear", spectral_radius=rho, init=init, steps=200)
        s = Lab().compute(c, ["gradient", "eigen"])
        assert np.max(np.abs(s["eigen"].eigvals)) == pytest.approx(rho, rel=1e-9)
        g = s["gradient"].growth_per_step
        assert (g < 1) if rho < 1 else (g > 1)


def test_leak_one_is_the_plain_rnn_exactly():
    p = gradlab.init_params("rnn", 8, 3, seed=4, leak=1.0)
    tr = gradlab.forward(p, np.random.default_rng(0).standard_normal((20, 3)))
    np.testing.assert_array_equal(tr.h, tr.gates["phi"])  # h_t = phi(z_t), bit for bit
    W, U = p.weights["W"], p.weights["U"]
    h = np.zeros(8)
    for t, xt in enumerate(np.random.default_rng(0).standard_normal((20, 3))):
        h = np.tanh(W @ h + U @ xt)
        np.testing.assert_allclose(tr.h[0, t], h, rtol=1e-14, atol=1e-15)


def test_leaky_units_slow_the_decay():
    rates = [grad(LabConfig(spectral_radius=0.8, leak=a)).growth_per_step
             for a in (1.0, 0.5, 0.2)]
    assert rates[0] < rates[1] < rates[2] < 1.0
    # linear: the per-step map is (1 - a) I + a W, eigenvalues 1 - a + a*lambda
    g = grad(LabConfig(activation="linear", spectral_radius=0.8, leak=0.5, steps=200))
    assert g.growth_per_step == pytest.approx(0.9, rel=2e-2)


def test_state_overflow_is_reported_not_raised():
    c = LabConfig(activation="linear", spectral_radius=4.0, steps=1000, input_scale=1.0)
    s = Lab().compute(c, ["gradient", "states"])
    step = s["states"].overflow_step
    assert step is not None and step < 1000
    assert s["gradient"].overflow_step == step
    assert f"overflows at step {step}" in s.caption()


def test_no_overflow_in_the_default_experiment():
    s = Lab().compute(LabConfig())
    assert s["gradient"].overflow_step is None and s["states"].overflow_step is None
    assert s["states"].h.shape == (60, 32) and s["gradient"].log10_norms.shape == (61,)
    assert s["eigen"].eigvals.shape == (32,)
    assert not s["states"].h.flags.writeable


def test_same_config_same_snapshot():
    a, b = Lab().compute(LabConfig(seed=7)), Lab().compute(LabConfig(seed=7))
    np.testing.assert_array_equal(a["states"].h, b["states"].h)
    np.testing.assert_array_equal(a["gradient"].log10_norms, b["gradient"].log10_norms)
    c = Lab().compute(LabConfig(seed=8), ["states"])
    assert not np.array_equal(a["states"].h, c["states"].h)


@pytest.mark.parametrize("field, value, words", [
    ("spectral_radius", 9.0, "spectral_radius=9.0 is out of range; allowed [0.01, 4.0]"),
    ("spectral_radius", float("nan"), "spectral_radius=nan"),
    ("hidden", 0, "hidden=0 is out of range; allowed [2, 512]"),
    ("hidden", 3.5, "hidden=3.5 must be an integer"),
    ("steps", True, "steps=True must be an integer"),
    ("activation", "softsign", "activation='softsign' is not allowed; choose one of"),
    ("init", "xavier", "init='xavier' is not allowed"),
    ("leak", 0.0, "leak=0.0 is out of range"),
    ("cell", "transformer", "cell='transformer'"),
])
def test_bad_config_names_field_value_and_range(field, value, words):
    with pytest.raises(ValueError) as e:
        LabConfig(**{field: value})
    assert words in str(e.value)


def test_replace_validates_and_rejects_unknown_fields():
    c = LabConfig().replace(spectral_radius=1.1)
    assert c.spectral_radius == 1.1
    with pytest.raises(ValueError, match="out of range"):
        c.replace(spectral_radius=-1)
    with pytest.raises(ValueError, match="unknown LabConfig field"):
        c.replace(rho=1.0)
