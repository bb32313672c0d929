"""gradlab.jacobian_spectrum and gradlab.lyapunov_spectrum through the public API: meaning
(finite differences of the forward pass), closed forms, and the Pascanu et al. bound."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from gradlab.spectra import (
    jacobian_spectrum,
    log_singular_values,
    lyapunov_spectrum,
)
from kernels.jacobian import log_singular_values as serial_kernel

from ..kernels import ref_jacobian as ref


def rnn(n, rho, act="tanh", scheme="gaussian", seed=0, **options):
    return gradlab.init_params("rnn", n, 3, scheme=scheme, spectral_radius=rho, seed=seed,
                               activation=act, **options)


def run(p, T, seed=1, scale=0.5, B=1):
    x = scale * np.random.default_rng(seed).standard_normal((B, T, p.m))
    return gradlab.forward(p, x)


def final_state_jacobian(p, trace, lag, eps=1e-6):
    """d s_T / d s_{T-lag} by central differences of the forward pass from step T-lag."""
    T = trace.h.shape[1]
    x = trace.x[0, T - lag:]
    h0 = trace.h0[0] if lag == T else trace.h[0, T - lag - 1]
    lstm = p.cell == "lstm"
    c0 = (trace.c0[0] if lag == T else trace.c[0, T - lag - 1]) if lstm else None
    s0 = np.concatenate([h0, c0]) if lstm else h0.copy()
    n = p.n

    def final(s):
        tr = gradlab.forward(p, x, s[:n], s[n:] if lstm else None)
        return np.concatenate([tr.h[0, -1], tr.c[0, -1]]) if lstm else tr.h[0, -1]

    cols = []
    for i in range(s0.size):
        e = np.zeros_like(s0)
        e[i] = eps
        cols.append((final(s0 + e) - final(s0 - e)) / (2 * eps))
    return np.stack(cols, axis=1)


CELLS = {
    "rnn": lambda: rnn(5, 1.2),
    "lstm": lambda: gradlab.init_params("lstm", 4, 3, scheme="gaussian", spectral_radius=1.5,
                                        seed=2),
    "gru-torch": lambda: gradlab.init_params("gru", 5, 3, scheme="gaussian",
                                             spectral_radius=1.5, seed=3, gru_variant="torch"),
    "gru-cho": lambda: gradlab.init_params("gru", 5, 3, scheme="gaussian",
                                           spectral_radius=1.5, seed=3, gru_variant="cho"),
}


@pytest.mark.parametrize("cell", CELLS)
def test_row_l_is_the_spectrum_of_ds_T_by_ds_T_minus_l(cell):
    T = 12
    p = CELLS[cell]()
    tr = run(p, T, scale=1.0)
    out = jacobian_spectrum(p, tr)
    d = 2 * p.n if p.cell == "lstm" else p.n
    assert out.shape == (T, d) and out.dtype == np.float64
    for lag in (1, 4, T):
        sv = np.linalg.svd(final_state_jacobian(p, tr, lag), compute_uv=False)
        assert sv[0] > 1e-3  # so the comparison means something
        np.testing.assert_allclose(np.exp(out[lag - 1]), sv, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cell_spectrum_matches_the_exact_product(cell):
    p = gradlab.init_params(cell, 4, 3, scheme="orthogonal", spectral_radius=1.2, seed=5)
    tr = run(p, 40, scale=1.0)
    J = gradlab.step_jacobians(p, tr)[0]
    out = jacobian_spectrum(p, tr)
    exact = ref.log_singular_values_exact(J, (1, 10, 40))
    for lag in (1, 10, 40):
        keep = exact[lag] > np.log(1e-250)
        np.testing.assert_allclose(out[lag - 1][keep], exact[lag][keep], rtol=0, atol=1e-7)


def test_batch_element_is_selectable_and_checked():
    p = rnn(6, 1.1)
    tr = run(p, 20, B=3)
    outs = [jacobian_spectrum(p, tr, b=b) for b in range(3)]
    assert not np.allclose(outs[0], outs[1])
    np.testing.assert_array_equal(outs[2], jacobian_spectrum(p, tr, b=-1))
    with pytest.raises(ValueError, match="b=3"):
        jacobian_spectrum(p, tr, b=3)


def test_skip_connections_are_refused():
    p = rnn(4, 0.9, skip_delay=3)
    with pytest.raises(ValueError, match="skip_delay"):
        jacobian_spectrum(p, run(p, 10))


def test_two_threads_give_the_serial_result_bit_for_bit():
    J = gradlab.step_jacobians(p := rnn(16, 1.4), run(p, 150))[0]
    out = log_singular_values(J, threads=True)
    np.testing.assert_array_equal(out, log_singular_values(J, threads=False))
    np.testing.assert_allclose(out, serial_kernel(J), rtol=0, atol=1e-12)


def test_spectrum_stays_exact_where_the_forward_pass_overflows():
    p = rnn(4, 3.0, act="linear", scheme="orthogonal")
    with np.errstate(all="ignore"):
        tr = run(p, 800, scale=1.0)  # 3^800 overflows float64: h becomes inf and nan
    assert not np.all(np.isfinite(tr.h))
    out = jacobian_spectrum(p, tr)  # a linear RNN's Jacobians do not depend on h
    lags = np.arange(1, 801)[:, None]
    np.testing.assert_allclose(out, lags * np.log(3.0) * np.ones((1, 4)), rtol=0, atol=1e-9)


def test_float32_params_give_float64_spectra_close_to_float64():
    p = rnn(8, 1.1)
    x = run(p, 50).x
    out64 = jacobian_spectrum(p, gradlab.forward(p, x))
    p32 = p.astype(np.float32)
    out32 = jacobian_spectrum(p32, gradlab.forward(p32, x))
    assert out32.dtype == np.float64
    np.testing.assert_allclose(out32[:, :4], out64[:, :4], rtol=0, atol=1e-3)


@pytest.mark.parametrize("rho", [0.7, 1.0, 1.8])
def test_lyapunov_of_scaled_orthogonal_linear_rnn_is_log_rho(rho):
    p = rnn(10, rho, act="linear", scheme="orthogonal")
    lam = lyapunov_spectrum(p, run(p, 200))
    np.testing.assert_allclose(lam, np.log(rho), rtol=0, atol=1e-12)
    lam3 = lyapunov_spectrum(p, run(p, 200), k=3)
    np.testing.assert_allclose(lam3, np.log(rho), rtol=0, atol=1e-12)


def test_lyapunov_of_a_diagonal_linear_rnn_is_the_log_eigenvalues():
    w = {"W": np.diag([0.5, 1.5]), "U": np.ones((2, 1)), "b": np.zeros(2), "b_h": np.zeros(2)}
    p = gradlab.Params("rnn", w, {"activation": "linear"})
    tr = gradlab.forward(p, np.zeros((300, 1)))
    lam = lyapunov_spectrum(p, tr, warmup=100, seed=3)
    np.testing.assert_allclose(lam, np.log([1.5, 0.5]), rtol=0, atol=1e-10)
    top = lyapunov_spectrum(p, tr, k=1, warmup=100, seed=3)
    np.testing.assert_allclose(top, [np.log(1.5)], rtol=0, atol=1e-10)


def test_lyapunov_exponents_sum_to_the_mean_log_determinant():
    p = rnn(9, 2.0)
    tr = run(p, 400, scale=1.0)
    J = gradlab.step_jacobians(p, tr)[0]
    lam = lyapunov_spectrum(p, tr)
    assert np.all(np.diff(lam) <= 0)
    mean_logdet = np.mean(np.linalg.slogdet(J)[1])
    assert lam.sum() == pytest.approx(mean_logdet, rel=0, abs=1e-10)


def test_lyapunov_arguments_are_checked():
    p = rnn(4, 1.0)
    tr = run(p, 10)
    with pytest.raises(ValueError, match="k=5"):
        lyapunov_spectrum(p, tr, k=5)
    with pytest.raises(ValueError, match="warmup"):
        lyapunov_spectrum(p, tr, warmup=10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**20), n=st.integers(2, 12), T=st.integers(2, 40),
       sigma=st.floats(0.2, 0.99), scale=st.floats(0.0, 3.0))
def test_gradient_norms_obey_the_sigma_max_bound(seed, n, T, sigma, scale):
    # Pascanu, Mikolov and Bengio (2013), section 2.1: with |tanh'| <= 1,
    # ||dL/dh_{T-l}|| <= sigma_max(W)^l ||dL/dh_T|| when the loss only sees h_T.
    p = rnn(n, 1.0, seed=seed)
    W = p.weights["W"]
    p = p.replace(weights={"W": W * (sigma / np.linalg.norm(W, 2))})
    tr = run(p, T, seed=seed + 1, scale=scale)
    dh = np.zeros_like(tr.h)
    dh[0, -1] = np.random.default_rng(seed).standard_normal(n)
    g = gradlab.backward(p, tr, dh)
    norms = np.linalg.norm(np.concatenate([g.h[0, ::-1], g.h0]), axis=1)  # lag 0 .. T
    bound = sigma ** np.arange(T + 1) * norms[0]
    assert np.all(norms <= bound * (1 + 1e-12) + 1e-300)
