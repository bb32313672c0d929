"""The GRU kernels (both variants) against their NumPy twin, finite differences and algebra."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab

from ..fd import central_differences, close
from . import ref_gru

VARIANTS = ["torch", "cho"]


def make(n=4, m=3, seed=0, variant="torch", rho=0.9, dtype=np.float64):
    """GRU params with non-zero biases, so that every term is exercised."""
    rng = np.random.default_rng(seed + 100)
    p = gradlab.init_params("gru", n, m, scheme="gaussian", spectral_radius=rho, seed=seed,
                            gru_variant=variant)
    w = {"b": 0.3 * rng.standard_normal(3 * n), "b_h": 0.3 * rng.standard_normal(3 * n),
         "U": rng.standard_normal((3 * n, m))}
    return p.replace(weights=w).astype(dtype)


def data(p, B=2, T=6, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, T, p.m)), 0.5 * rng.standard_normal((B, p.n)),
            rng.standard_normal((B, T, p.n)))


def variant(p):
    return p.options["gru_variant"]


def twin_forward(p, x, h0, **kw):
    w = p.weights
    return ref_gru.gru_forward(w["W"], w["U"], w["b"], w["b_h"], x, h0, variant(p), **kw)


def twin_backward(p, x, h0, dh, truncate=0):
    w = p.weights
    return ref_gru.gru_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, dh, variant(p),
                                truncate)


def all_grads(g):
    return {"h": g.h, "h0": g.h0, "x": g.x, **g.params}


def all_twin_grads(r):
    return {k: r[k] for k in ("h", "h0", "x")} | r["params"]


# --- kernel vs twin ---------------------------------------------------------------------------


@pytest.mark.parametrize("v", VARIANTS)
def test_forward_matches_twin(v):
    p = make(variant=v)
    x, h0, _ = data(p)
    tr = gradlab.forward(p, x, h0)
    h, gates = twin_forward(p, x, h0)
    close(tr.h, h, 1e-12)
    assert set(tr.gates) == {"r", "z", "n"} and tr.c is None
    for k in "rzn":
        assert tr.gates[k].shape == (2, 6, 4)
        close(tr.gates[k], gates[k], 1e-12)


@pytest.mark.parametrize("v", VARIANTS)
@pytest.mark.parametrize("truncate", [None, 1, 4])
def test_backward_matches_twin(v, truncate):
    p = make(variant=v)
    x, h0, dh = data(p, T=9)
    g = gradlab.backward(p, gradlab.forward(p, x, h0), dh, truncate=truncate)
    r = twin_backward(p, x, h0, dh, truncate or 0)
    assert set(g.params) == set(p.weights) and g.c is None and g.c0 is None
    ours = all_grads(g)
    for k, v_ in all_twin_grads(r).items():
        close(ours[k], v_, 1e-12)


@pytest.mark.parametrize("v", VARIANTS)
def test_batch_rows_are_independent(v):
    p = make(variant=v)
    x, h0, dh = data(p, B=3)
    tr = gradlab.forward(p, x, h0)
    g = gradlab.backward(p, tr, dh)
    for b in range(3):
        tb = gradlab.forward(p, x[b], h0[b])
        gb = gradlab.backward(p, tb, dh[b])
        close(tr.h[b], tb.h[0], 1e-13)
        close(g.h[b], gb.h[0], 1e-13)
        close(g.x[b], gb.x[0], 1e-13)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 7), n=st.integers(1, 5), m=st.integers(1, 4),
       seed=st.integers(0, 2**16), f32=st.booleans(), v=st.sampled_from(VARIANTS),
       truncate=st.sampled_from([None, 1, 2, 3]))
def test_property_kernel_matches_twin(B, T, n, m, seed, f32, v, truncate):
    dtype = np.float32 if f32 else np.float64
    p = make(n, m, seed, variant=v, dtype=dtype)
    x, h0, dh = (a.astype(dtype) for a in data(p, B, T, seed + 1))
    tr = gradlab.forward(p, x, h0)
    g = gradlab.backward(p, tr, dh, truncate=truncate)
    assert tr.h.dtype == dtype and g.params["W"].dtype == dtype and g.x.dtype == dtype
    rtol = 2e-4 if f32 else 1e-12
    p64 = p.astype(np.float64)
    x64, h064, dh64 = (a.astype(np.float64) for a in (x, h0, dh))
    h, gates = twin_forward(p64, x64, h064)
    close(tr.h, h, rtol)
    for k in "rzn":
        close(tr.gates[k], gates[k], rtol)
    r = twin_backward(p64, x64, h064, dh64, truncate or 0)
    ours = all_grads(g)
    for k, v_ in all_twin_grads(r).items():
        close(ours[k], v_, rtol * 10 if f32 else rtol)


# --- finite differences ----------------------------------------------------------------------


def loss(p, x, h0, G):
    return np.sum(G * gradlab.forward(p, x, h0).h)


fd = central_differences


def fd_close(analytic, numeric):
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * scale + 1e-9)


@pytest.mark.parametrize("v", VARIANTS)
def test_gradients_match_finite_differences(v):
    p = make(n=3, m=2, variant=v)
    x, h0, G = data(p, B=2, T=4, seed=5)
    g = gradlab.backward(p, gradlab.forward(p, x, h0), G)
    for name, w in p.weights.items():
        num = fd(lambda a, name=name: loss(p.replace(weights={name: a}), x, h0, G), np.array(w))
        fd_close(g.params[name], num)
    fd_close(g.x, fd(lambda a: loss(p, a, h0, G), x))
    fd_close(g.h0, fd(lambda a: loss(p, x, a, G), h0))


@pytest.mark.parametrize("v", VARIANTS)
def test_total_hidden_gradient_matches_finite_differences(v):
    """Grads.h is the total dL/dh_t: nudge h_t in place and watch the whole loss."""
    p = make(n=3, m=2, variant=v)
    x, h0, G = data(p, B=2, T=5, seed=6)
    g = gradlab.backward(p, gradlab.forward(p, x, h0), G)
    zero = np.zeros_like(G)
    fd_close(g.h, fd(lambda a: np.sum(G * twin_forward(p, x, h0, h_add=a)[0]), zero))


# --- truncated BPTT ----------------------------------------------------------------------------


@pytest.mark.parametrize("v", VARIANTS)
@pytest.mark.parametrize("k", [1, 3])
def test_truncation_is_independent_chunks(v, k):
    """truncate=k equals BPTT on each chunk of k steps started from the detached state."""
    p = make(variant=v)
    T = 8
    x, h0, dh = data(p, T=T, seed=3)
    tr = gradlab.forward(p, x, h0)
    g = gradlab.backward(p, tr, dh, truncate=k)
    total = {name: np.zeros_like(w) for name, w in p.weights.items()}
    hs = np.concatenate([h0[:, None], tr.h], axis=1)
    for s in range(0, T, k):
        e = min(s + k, T)
        gc = gradlab.backward(p, gradlab.forward(p, x[:, s:e], hs[:, s]), dh[:, s:e])
        for name in total:
            total[name] += gc.params[name]
        close(g.h[:, s:e], gc.h, 1e-12)
        if s == 0:
            close(g.h0, gc.h0, 1e-12)
    for name in total:
        close(g.params[name], total[name], 1e-12)


# --- variants and options ----------------------------------------------------------------------


def test_variants_differ_and_cho_follows_the_lecture_notes():
    p = make(variant="torch")
    q = gradlab.Params("gru", p.weights, {"gru_variant": "cho"})
    x, h0, _ = data(p)
    t1, t2 = gradlab.forward(p, x, h0), gradlab.forward(q, x, h0)
    assert np.max(np.abs(t1.h - t2.h)) > 1e-2
    # the same r and z at the first step (they see the same h0); then the cho update
    np.testing.assert_allclose(t2.gates["r"][:, 0], t1.gates["r"][:, 0], rtol=1e-15)
    w = p.weights
    n = p.n
    r, z = t2.gates["r"][:, 0], t2.gates["z"][:, 0]
    cand = np.tanh((r * h0) @ w["W"][2 * n:].T + x[:, 0] @ w["U"][2 * n:].T + w["b"][2 * n:]
                   + w["b_h"][2 * n:])
    np.testing.assert_allclose(t2.h[:, 0], (1 - z) * h0 + z * cand, rtol=1e-13)


def test_options_are_validated():
    p = make()
    with pytest.raises(ValueError, match="gru_variant"):
        gradlab.Params("gru", p.weights, {"gru_variant": "keras"})
    with pytest.raises(ValueError, match="leak"):
        gradlab.Params("gru", p.weights, {"leak": 0.5})
    with pytest.raises(ValueError, match="gru_variant"):
        gradlab.init_params("gru", 3, 2, gru_variant="Cho")
    x, h0, dh = data(p)
    with pytest.raises(ValueError, match="gru_variant"):
        p.replace(gru_variant="bad")
    with pytest.raises(ValueError, match="c0"):
        gradlab.forward(p, x, h0, c0=h0)
    with pytest.raises(ValueError, match="dc"):
        gradlab.backward(p, gradlab.forward(p, x, h0), dh, dc=dh)


def test_init_defaults():
    p = gradlab.init_params("gru", 5, 2, seed=1)
    assert p.weights["W"].shape == (15, 5) and p.weights["U"].shape == (15, 2)
    assert not np.any(p.weights["b"]) and not np.any(p.weights["b_h"])
    assert p.options == {"gru_variant": "torch"}


@pytest.mark.parametrize("v", VARIANTS)
def test_float32_is_close_to_float64(v):
    p = make(n=6, m=3, variant=v)
    x, h0, dh = data(p, B=2, T=20)
    p32 = p.astype(np.float32)
    t64, t32 = gradlab.forward(p, x, h0), gradlab.forward(p32, x, h0)
    assert t32.h.dtype == np.float32 and t32.gates["n"].dtype == np.float32
    close(t32.h, t64.h, 1e-4)
    g64, g32 = gradlab.backward(p, t64, dh), gradlab.backward(p32, t32, dh)
    for k, a in all_grads(g64).items():
        assert all_grads(g32)[k].dtype == np.float32
        close(all_grads(g32)[k], a, 1e-4)
    J32 = gradlab.step_jacobians(p32, t32)
    assert J32.dtype == np.float32
    close(J32, gradlab.step_jacobians(p, t64), 1e-4)


# --- step Jacobians ----------------------------------------------------------------------------


@pytest.mark.parametrize("v", VARIANTS)
def test_step_jacobians_match_finite_differences(v):
    p = make(n=3, m=2, variant=v)
    x, h0, _ = data(p, B=2, T=4, seed=8)
    tr = gradlab.forward(p, x, h0)
    J = gradlab.step_jacobians(p, tr)
    assert J.shape == (2, 4, 3, 3)
    hs = np.concatenate([h0[:, None], tr.h], axis=1)
    eps = 1e-6
    for b in range(2):
        for t in range(4):
            num = np.zeros((3, 3))
            for k in range(3):
                hp, hm = hs[b, t].copy(), hs[b, t].copy()
                hp[k] += eps
                hm[k] -= eps
                num[:, k] = (gradlab.forward(p, x[b, t][None], hp).h[0, 0]
                             - gradlab.forward(p, x[b, t][None], hm).h[0, 0]) / (2 * eps)
            np.testing.assert_allclose(J[b, t], num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("v", VARIANTS)
def test_step_jacobians_chain_backward(v):
    """With the loss on the last state only, dL/dh_{t-1} = J_t^T dL/dh_t."""
    p = make(n=4, variant=v)
    x, h0, _ = data(p, B=2, T=7, seed=9)
    tr = gradlab.forward(p, x, h0)
    dh = np.zeros_like(tr.h)
    dh[:, -1] = np.random.default_rng(0).standard_normal((2, 4))
    g = gradlab.backward(p, tr, dh)
    J = gradlab.step_jacobians(p, tr)
    gs = np.concatenate([g.h0[:, None], g.h], axis=1)
    for t in range(7, 0, -1):
        close(np.einsum("bij,bi->bj", J[:, t - 1], gs[:, t]), gs[:, t - 1], 1e-12)


# --- overflow, inf and nan ----------------------------------------------------------------------


@pytest.mark.parametrize("v", VARIANTS)
def test_nan_input_propagates_without_raising(v):
    p = make(variant=v)
    x, h0, dh = data(p, T=6)
    x[0, 2, 0] = np.nan
    tr = gradlab.forward(p, x, h0)
    assert np.all(np.isfinite(tr.h[0, :2])) and np.all(np.isnan(tr.h[0, 2:]))
    assert np.all(np.isfinite(tr.h[1]))
    g = gradlab.backward(p, tr, dh)
    assert np.isnan(g.params["W"]).any() and np.all(np.isfinite(g.h[1]))


@pytest.mark.parametrize("v", VARIANTS)
def test_inf_and_huge_inputs_match_twin(v):
    p = make(variant=v)
    x, h0, dh = data(p, T=5)
    x[0, 1] = np.inf
    x[1, 2] = 1e300
    x[1, 3] = -1e300
    tr = gradlab.forward(p, x, h0)
    g = gradlab.backward(p, tr, dh)
    with np.errstate(all="ignore"):
        h, _ = twin_forward(p, x, h0)
        r = twin_backward(p, x, h0, dh)
    close(tr.h, h, 1e-12)
    ours = all_grads(g)
    for k, a in all_twin_grads(r).items():
        close(ours[k], a, 1e-12)
