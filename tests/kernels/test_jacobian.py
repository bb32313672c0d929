"""Log singular values of long Jacobian products (kernels/jacobian.py, kernels/lyapunov.py)
against explicit products, exact (mpmath) products and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from kernels.jacobian import graded_log_singular_values, log_singular_values
from kernels.lyapunov import lyapunov_exponents

from . import ref_jacobian as ref

TINY = np.log(1e-250)  # below this, values need not agree (float64 inputs, ~1e-16 per step)


def rnn_jacobians(n, T, act, rho, scheme="gaussian", seed=1, scale=1.0):
    p = gradlab.init_params("rnn", n, 3, scheme=scheme, spectral_radius=rho, seed=seed,
                            activation=act)
    x = scale * np.random.default_rng(seed + 7).standard_normal((T, 3))
    return gradlab.step_jacobians(p, gradlab.forward(p, x))[0], p


@pytest.mark.parametrize("act", ["tanh", "linear"])
@pytest.mark.parametrize("rho", [0.9, 1.3])
def test_every_singular_value_matches_the_exact_product(act, rho):
    T = 60
    J, _ = rnn_jacobians(16, T, act, rho)
    out = log_singular_values(J)
    assert out.shape == (T, 16)
    direct = ref.log_singular_values_direct(J)
    np.testing.assert_allclose(out[:, 0], direct[:, 0], rtol=0, atol=1e-9)
    lags = (1, 2, 7, 20, 41, 60)
    exact = ref.log_singular_values_exact(J, lags)
    for l in lags:
        keep = exact[l] > TINY
        assert keep.sum() >= 8, "the test should reach deep into the spectrum"
        np.testing.assert_allclose(out[l - 1][keep], exact[l][keep], rtol=0, atol=1e-6,
                                   err_msg=f"lag {l}")
        np.testing.assert_allclose(out[l - 1, :4], exact[l][:4], rtol=0, atol=1e-9)


def test_spans_wider_than_one_svd_use_windows_and_stay_exact():
    # linear, rho 1.3, T = 200: the log singular values span about 900 at the last lags,
    # more than one float64 SVD can hold (e^-700 underflows).
    J, _ = rnn_jacobians(16, 200, "linear", 1.3)
    out = log_singular_values(J)
    exact = ref.log_singular_values_exact(J, (150, 200), dps=450)
    assert exact[200][0] - exact[200][-1] > 700
    for l in (150, 200):
        np.testing.assert_allclose(out[l - 1], exact[l], rtol=0, atol=1e-8)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 9))
def test_graded_windows_match_exact_svd(seed, d):
    rng = np.random.default_rng(seed)
    T = rng.standard_normal((d, d))
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    gaps = rng.choice([0.5, 5.0, 40.0, 300.0, 900.0], size=d - 1)
    delta = np.concatenate([[0.0], -np.cumsum(gaps * rng.uniform(0.5, 1.0, d - 1))])
    delta = rng.permutation(delta) + 100.0
    out = np.empty(d)
    graded_log_singular_values(delta, T, out)
    exact = ref.graded_exact(delta, T, dps=int((delta.max() - delta.min()) / 2.3) + 60)
    np.testing.assert_allclose(out, exact, rtol=0, atol=1e-8)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_small_windows_with_margins_match_exact_svd(seed):
    # Shrunk span/window/margin put window edges between rows only a few e-folds apart:
    # a margin of 12 leaves errors of about e^-24, a margin of 0 errors near 1.
    rng = np.random.default_rng(seed)
    d = 14
    T = rng.standard_normal((d, d))
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    delta = -np.cumsum(rng.uniform(0.5, 3.0, d))
    exact = ref.graded_exact(delta, T, dps=60)
    out = np.empty(d)
    graded_log_singular_values(delta, T, out, 8.0, 6.0, 12.0)
    np.testing.assert_allclose(out, exact, rtol=0, atol=1e-8)
    graded_log_singular_values(delta, T, out, 8.0, 6.0, 0.0)
    assert np.abs(out - exact).max() > 1e-6  # the margins are what make windows exact


@pytest.mark.parametrize("rho", [0.5, 1.0, 2.0])
def test_scaled_orthogonal_linear_rnn_has_every_value_at_l_log_rho(rho):
    T = 1500  # 2^1500 overflows float64; the log-domain product does not
    J, p = rnn_jacobians(12, T, "linear", rho, scheme="orthogonal")
    out = log_singular_values(J)
    expected = np.arange(1, T + 1)[:, None] * np.log(rho) * np.ones((1, 12))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("act", ["tanh", "linear"])
def test_ten_thousand_steps_at_radius_two_stay_finite(act):
    T, n = 10_000, 12
    J, p = rnn_jacobians(n, T, act, 2.0, scale=0.5)
    direct = ref.product_norms(J)
    out = log_singular_values(J)
    assert np.all(np.isfinite(out))
    assert np.all(np.diff(out, axis=1) <= 0)  # descending
    finite = np.isfinite(direct)
    np.testing.assert_allclose(out[finite, 0], np.log(direct[finite]), rtol=0, atol=1e-9)
    if act == "linear":
        assert not finite.all(), "the plain product should overflow on this run"
        lags = np.arange(1, T + 1)
        slope = np.polyfit(lags, out[:, 0], 1)[0]
        assert slope == pytest.approx(np.log(2.0), abs=1e-3)
        # Yamamoto: sigma_i(W^l)^(1/l) -> |lambda_i|, for every i, not only the largest
        mods = np.sort(np.log(np.abs(np.linalg.eigvals(p.weights["W"]))))[::-1]
        np.testing.assert_allclose(out[-1] / T, mods, rtol=0, atol=5e-3)


def test_a_singular_step_leaves_a_rounding_level_value_and_the_rest_exact():
    rng = np.random.default_rng(4)
    J = rng.standard_normal((30, 6, 6)) / np.sqrt(6)
    J[20, 2, :] = 0.0  # one singular step: every product through it (lag >= 10) loses rank
    out = log_singular_values(J)
    assert np.all(np.isfinite(out))
    assert np.all(out[9:, -1] < out[9:, 0] - np.log(1e12))  # zero up to rounding
    exact = ref.log_singular_values_exact(J, (5, 12, 30))
    np.testing.assert_allclose(out[4], exact[5], rtol=0, atol=1e-8)
    for l in (12, 30):
        assert exact[l][-1] < -600  # zero, to the 320 digits of the reference
        np.testing.assert_allclose(out[l - 1, :-1], exact[l][:-1], rtol=0, atol=1e-8)


def test_a_zero_jacobian_gives_minus_inf():
    J = np.random.default_rng(6).standard_normal((8, 3, 3))
    J[4] = 0.0
    out = log_singular_values(J)
    assert np.all(np.isfinite(out[:3])) and np.all(out[3:] == -np.inf)


def test_a_non_finite_jacobian_makes_that_lag_and_longer_ones_nan():
    rng = np.random.default_rng(5)
    J = rng.standard_normal((10, 4, 4))
    J[6, 1, 1] = np.nan  # J_7: in every product of lag >= 4
    out = log_singular_values(J)
    assert np.all(np.isfinite(out[:3])) and np.all(np.isnan(out[3:]))


def test_huge_finite_jacobians_are_not_mistaken_for_overflow():
    J = np.random.default_rng(7).standard_normal((6, 4, 4))
    lags = np.arange(1, 7)[:, None]
    np.testing.assert_allclose(log_singular_values(1e300 * J),
                               log_singular_values(J) + lags * np.log(1e300), rtol=0, atol=1e-9)


def test_float32_jacobians_are_accepted():
    J, _ = rnn_jacobians(8, 40, "tanh", 1.1)
    out32 = log_singular_values(J.astype(np.float32))
    out64 = log_singular_values(J.astype(np.float32).astype(np.float64))
    assert out32.dtype == np.float64
    np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-12)


def test_lyapunov_kernel_matches_twin():
    J, _ = rnn_jacobians(7, 80, "tanh", 1.5)
    Q0, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((7, 4)))
    np.testing.assert_allclose(lyapunov_exponents(J, Q0, 5), ref.lyapunov_exponents(J, Q0, 5),
                               rtol=0, atol=1e-12)


def test_lyapunov_kernel_gives_nan_on_non_finite_jacobians():
    J = np.ones((5, 3, 3))
    J[2, 0, 0] = np.inf
    assert np.all(np.isnan(lyapunov_exponents(J, np.eye(3), 0)))
