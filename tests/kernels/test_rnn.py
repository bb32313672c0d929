"""The RNN kernels against their NumPy twin and against central finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from gradlab import engine
from kernels.jacobian import product_norms

from ..fd import central_differences
from . import ref_rnn

ACTS = ["tanh", "relu", "sigmoid", "linear"]


def make(n=4, m=3, seed=0, act="tanh", leak=1.0, residual=False, skip=0, rho=0.9):
    rng = np.random.default_rng(seed + 100)
    p = gradlab.init_params("rnn", n, m, scheme="gaussian", spectral_radius=rho, seed=seed,
                            activation=act, leak=leak, residual=residual, skip_delay=skip)
    # non-zero biases so every term is exercised
    return p.replace(weights={"b": 0.1 * rng.standard_normal(n), "b_h": 0.1 * rng.standard_normal(n)})


def data(p, B=2, T=7, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, T, p.m)), 0.3 * rng.standard_normal((B, p.n)),
            rng.standard_normal((B, T, p.n)))


def coeffs(p):
    a = p.options["leak"]
    return (np.ones_like(a) if p.options["residual"] else 1 - a), a


def twin(p, x, h0, dh, truncate=0):
    w = p.weights
    carry, a = coeffs(p)
    d = p.options["skip_delay"]
    Ws = w.get("Ws")
    s, z = ref_rnn.forward(w["W"], w["U"], w["b"] + w["b_h"], x, h0, carry, a,
                           p.options["activation"], Ws, d)
    g = ref_rnn.backward(w["W"], w["U"], x, s, z, carry, a, p.options["activation"], dh, Ws, d,
                         truncate)
    return s, z, g


def assert_matches_twin(p, x, h0, dh, truncate, tr, gr, *, rtol, atol, h_tol):
    """Kernel forward/backward results equal the NumPy twin's, every array.

    h_tol = (rtol, atol) for the forward states; rtol, atol for every gradient.
    """
    s, _, (gs, dW, dU, db, dWs, dx) = twin(p, x, h0, dh, truncate or 0)
    np.testing.assert_allclose(tr.h, s[:, 1:], rtol=h_tol[0], atol=h_tol[1])
    np.testing.assert_allclose(gr.h, gs[:, 1:], rtol=rtol, atol=atol)
    np.testing.assert_allclose(gr.h0, gs[:, 0], rtol=rtol, atol=atol)
    expected = {"W": dW, "U": dU, "b": db, "b_h": db, "Ws": dWs}
    for name in p.weights:
        np.testing.assert_allclose(gr.params[name], expected[name], rtol=rtol, atol=atol,
                                   err_msg=name)
    np.testing.assert_allclose(gr.x, dx, rtol=rtol, atol=atol)


VARIANTS = [
    dict(act=a) for a in ACTS
] + [
    dict(act="tanh", leak=0.3),
    dict(act="tanh", leak=np.array([1.0, 0.5, 0.2, 0.05])),
    dict(act="linear", residual=True, rho=0.3),
    dict(act="tanh", skip=3),
    dict(act="sigmoid", skip=2, leak=0.5),
]


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("truncate", [None, 3])
def test_kernel_matches_twin(kw, truncate):
    p = make(**kw)
    x, h0, dh = data(p)
    tr = gradlab.forward(p, x, h0)
    gr = gradlab.backward(p, tr, dh, truncate=truncate)
    assert_matches_twin(p, x, h0, dh, truncate, tr, gr, rtol=1e-11, atol=1e-13,
                        h_tol=(1e-12, 1e-14))


def loss(p, x, h0, up):
    return float(np.sum(gradlab.forward(p, x, h0).h * up))


@pytest.mark.parametrize("kw", [v for v in VARIANTS if v["act"] != "relu"],
                         ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_gradients_match_central_differences(kw):
    p = make(n=4, m=2, **kw)
    x, h0, up = data(p, B=2, T=6)
    gr = gradlab.backward(p, gradlab.forward(p, x, h0), up)
    for name in p.weights:
        num = central_differences(
            lambda w, name=name: loss(p.replace(weights={name: w}), x, h0, up), p.weights[name])
        np.testing.assert_allclose(gr.params[name], num, rtol=1e-6, atol=1e-8, err_msg=name)
    num = central_differences(lambda x_: loss(p, x_, h0, up), x)
    np.testing.assert_allclose(gr.x, num, rtol=1e-6, atol=1e-8)
    num = central_differences(lambda h0_: loss(p, x, h0_, up), h0)
    np.testing.assert_allclose(gr.h0, num, rtol=1e-6, atol=1e-8)


def test_truncation_stops_gradient_at_chunk_boundaries():
    p = make(act="tanh")
    x, h0, _ = data(p, B=1, T=9)
    dh = np.zeros((1, 9, p.n))
    dh[0, -1] = 1.0  # loss on h_9 only; chunks of 4 are steps 1-4, 5-8, 9
    gr = gradlab.backward(p, gradlab.forward(p, x, h0), dh, truncate=4)
    assert np.all(gr.h[0, :8] == 0) and np.all(gr.h0 == 0)
    full = gradlab.backward(p, gradlab.forward(p, x, h0), dh)
    assert np.all(np.abs(full.h[0, :8]).sum(axis=1) > 0)


def test_step_jacobians_match_twin_and_differences():
    p = make(act="tanh", leak=0.7)
    x, h0, _ = data(p, B=2, T=5)
    tr = gradlab.forward(p, x, h0)
    J = gradlab.step_jacobians(p, tr)
    w = p.weights
    carry, a = coeffs(p)
    _, z = ref_rnn.forward(w["W"], w["U"], w["b"] + w["b_h"], x, h0, carry, a, "tanh")
    np.testing.assert_allclose(J, ref_rnn.step_jacobians(w["W"], z, carry, a, "tanh"), rtol=1e-12)
    # one-step finite differences: h_1 as a function of h0
    eps = 1e-6
    num = np.zeros((p.n, p.n))
    for j in range(p.n):
        e = np.zeros_like(h0)
        e[0, j] = eps
        num[:, j] = (gradlab.forward(p, x[:1, :1], h0[:1] + e[:1]).h[0, 0]
                     - gradlab.forward(p, x[:1, :1], h0[:1] - e[:1]).h[0, 0]) / (2 * eps)
    np.testing.assert_allclose(J[0, 0], num, rtol=1e-7, atol=1e-9)


def test_product_norms_match_twin_and_overflow_to_inf():
    rng = np.random.default_rng(3)
    J = rng.standard_normal((12, 5, 5))
    np.testing.assert_allclose(product_norms(J), ref_rnn.product_norms(J), rtol=1e-12)
    big = np.repeat((1e200 * np.eye(3))[None], 4, axis=0)
    out = product_norms(big)
    assert out[0] == pytest.approx(1e200) and np.all(np.isinf(out[1:]))


def test_float32_runs_and_agrees_with_float64():
    p = make(act="tanh")
    x, h0, dh = data(p)
    p32 = p.astype(np.float32)
    tr32 = gradlab.forward(p32, x, h0)
    gr32 = gradlab.backward(p32, tr32, dh)
    assert tr32.h.dtype == np.float32 and gr32.params["W"].dtype == np.float32
    tr = gradlab.forward(p, x, h0)
    gr = gradlab.backward(p, tr, dh)
    np.testing.assert_allclose(tr32.h, tr.h, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gr32.params["W"], gr.params["W"], rtol=1e-4, atol=1e-4)


def test_nan_and_inf_inputs_propagate_without_raising():
    p = make(act="tanh")
    x, h0, dh = data(p, B=1, T=5)
    x[0, 2, 0] = np.nan
    tr = gradlab.forward(p, x, h0)
    assert np.all(np.isfinite(tr.h[0, :2])) and np.all(np.isnan(tr.h[0, 2:]))
    gr = gradlab.backward(p, tr, dh)
    assert np.isnan(gr.params["W"]).all()
    pl = make(act="linear", rho=1.0).replace(weights={"W": 1e300 * np.eye(4)})
    with np.errstate(over="ignore", invalid="ignore"):
        h = gradlab.forward(pl, np.ones((4, 3)), np.ones(4)).h
    assert np.isinf(h[0, 1]).all()  # overflow shows as inf ...
    assert not np.isfinite(h[0, -1]).any()  # ... then inf * 0 in W h makes nan: never a raise


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 6), n=st.integers(1, 5), m=st.integers(1, 4),
       seed=st.integers(0, 2**16), act=st.sampled_from(ACTS),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_property_shapes_seeds_dtypes(B, T, n, m, seed, act, dtype):
    p = make(n=n, m=m, seed=seed, act=act).astype(dtype)
    x, h0, dh = data(p, B=B, T=T, seed=seed)
    tr = gradlab.forward(p, x, h0)
    gr = gradlab.backward(p, tr, dh)
    assert tr.h.shape == (B, T, n) and gr.h.shape == (B, T, n) and gr.x.shape == (B, T, m)
    assert all(gr.params[k].shape == p.weights[k].shape for k in p.weights)
    s, _, (gs, dW, *_rest) = twin(p.astype(np.float64), x.astype(dtype).astype(float),
                                  h0.astype(dtype).astype(float), dh.astype(dtype).astype(float))
    tol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(tr.h, s[:, 1:], rtol=tol, atol=tol)
    np.testing.assert_allclose(gr.params["W"], dW, rtol=tol, atol=tol * max(1, T))


def test_unbatched_input_is_batch_of_one():
    p = make()
    x, h0, _ = data(p, B=1)
    a = gradlab.forward(p, x[0], h0[0])
    b = gradlab.forward(p, x, h0)
    np.testing.assert_array_equal(a.h, b.h)


def test_bad_shapes_are_clear_errors():
    p = make(n=4, m=3)
    with pytest.raises(ValueError, match="m=3"):
        gradlab.forward(p, np.zeros((5, 2)))
    tr = gradlab.forward(p, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="dh has shape"):
        gradlab.backward(p, tr, np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="truncate"):
        gradlab.backward(p, tr, np.zeros((1, 5, 4)), truncate=0)


@pytest.mark.parametrize("kw, B, T, truncate", [
    (dict(n=64, m=3, act="tanh"), 2, 1000, None),
    (dict(n=53, m=3, act="relu", leak=0.3), 3, 500, 7),
    (dict(n=48, m=3, act="sigmoid", skip=3), 2, 700, None),
    (dict(n=48, m=3, act="tanh", skip=3, leak=0.5), 2, 700, 50),
], ids=["long", "odd-n-batch-truncated", "skip", "skip-truncated"])
def test_long_sequences_blocked_and_two_threaded(monkeypatch, kw, B, T, truncate):
    """Long runs go through the blocked products and, on a pair of threads, the split sweeps
    and gradients: one and two threads must give the twin's numbers, bit-identically."""
    p = make(rho=0.95, **kw)
    x, h0, dh = data(p, B=B, T=T, seed=5)
    skip_rows = p.n if kw.get("skip") else 0
    assert engine.plan(B * p.n * (p.n + skip_rows), T)[0] == 2  # big enough for two pieces
    results = []
    for threads in ("2", "1"):
        monkeypatch.setenv("GRADLAB_THREADS", threads)
        tr = gradlab.forward(p, x, h0)
        results.append((tr, gradlab.backward(p, tr, dh, truncate=truncate)))
    (tr2, two), (tr, one) = results
    np.testing.assert_array_equal(tr.h, tr2.h)
    np.testing.assert_array_equal(tr.gates["phi"], tr2.gates["phi"])
    for k in p.weights:
        np.testing.assert_array_equal(one.params[k], two.params[k])
    np.testing.assert_array_equal(one.h, two.h)
    np.testing.assert_array_equal(one.x, two.x)
    assert_matches_twin(p, x, h0, dh, truncate, tr, one, rtol=1e-10, atol=1e-12,
                        h_tol=(1e-10, 1e-12))


def test_relu_of_minus_inf_is_zero_and_of_nan_is_nan():
    b = np.array([-np.inf, np.nan, 2.0, -1.0])  # z_1 = b for zero inputs and h0
    p = make(n=4, m=3, act="relu").replace(weights={"b": b, "b_h": np.zeros(4)})
    h = gradlab.forward(p, np.zeros((1, 3))).h[0, 0]
    assert h[0] == 0.0 and np.isnan(h[1]) and h[2] == 2.0 and h[3] == 0.0
    s, _ = ref_rnn.forward(p.weights["W"], p.weights["U"], b, np.zeros((1, 1, 3)),
                           np.zeros((1, 4)), np.zeros(4), np.ones(4), "relu")
    np.testing.assert_array_equal(h, s[0, 1])
