"""The LSTM kernels against their NumPy twin, central finite differences and their own algebra."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from kernels.activations import sigmoid_into, tanh_into

from ..fd import central_differences, close
from . import ref_lstm

OPTIONS = [{}, {"peepholes": True}, {"coupled": True}, {"peepholes": True, "coupled": True}]
IDS = ["plain", "peepholes", "coupled", "peepholes+coupled"]


def make(n=4, m=3, seed=0, rho=0.9, dtype=np.float64, **opts):
    """LSTM params with non-zero biases and peepholes, so that every term is exercised."""
    rng = np.random.default_rng(seed + 100)
    p = gradlab.init_params("lstm", n, m, scheme="gaussian", spectral_radius=rho, seed=seed,
                            **opts)
    w = {"b": 0.3 * rng.standard_normal(4 * n), "b_h": 0.3 * rng.standard_normal(4 * n),
         "U": rng.standard_normal((4 * n, m))}
    if opts.get("peepholes"):
        w["P"] = 0.5 * rng.standard_normal((3, n))
    return p.replace(weights=w).astype(dtype)


def data(p, B=2, T=6, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, T, p.m)), 0.5 * rng.standard_normal((B, p.n)),
            0.5 * rng.standard_normal((B, p.n)), rng.standard_normal((B, T, p.n)),
            rng.standard_normal((B, T, p.n)))


def twin_forward(p, x, h0, c0, **kw):
    w = p.weights
    return ref_lstm.lstm_forward(w["W"], w["U"], w["b"], w["b_h"], x, h0, c0, w.get("P"),
                                 p.options["coupled"], **kw)


def twin_backward(p, x, h0, c0, dh, dc=None, truncate=0):
    w = p.weights
    return ref_lstm.lstm_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, c0, dh, dc,
                                  w.get("P"), p.options["coupled"], truncate)


def all_grads(g):
    return {"h": g.h, "c": g.c, "h0": g.h0, "c0": g.c0, "x": g.x, **g.params}


def all_twin_grads(r):
    return {k: r[k] for k in ("h", "c", "h0", "c0", "x")} | r["params"]


# --- kernel vs twin ---------------------------------------------------------------------------


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_forward_matches_twin(opts):
    p = make(**opts)
    x, h0, c0, _, _ = data(p)
    tr = gradlab.forward(p, x, h0, c0)
    h, c, gates = twin_forward(p, x, h0, c0)
    close(tr.h, h, 1e-12)
    close(tr.c, c, 1e-12)
    assert set(tr.gates) == {"i", "f", "g", "o"}
    for k in "ifgo":
        assert tr.gates[k].shape == (2, 6, 4)
        close(tr.gates[k], gates[k], 1e-12)
    np.testing.assert_array_equal(tr.c0, c0)


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
@pytest.mark.parametrize("truncate", [None, 1, 4])
@pytest.mark.parametrize("upstream_c", [False, True])
def test_backward_matches_twin(opts, truncate, upstream_c):
    p = make(**opts)
    x, h0, c0, dh, dc = data(p, T=9)
    dc = dc if upstream_c else None
    g = gradlab.backward(p, gradlab.forward(p, x, h0, c0), dh, dc=dc, truncate=truncate)
    r = twin_backward(p, x, h0, c0, dh, dc, truncate or 0)
    ours, theirs = all_grads(g), all_twin_grads(r)
    assert set(g.params) == set(p.weights)
    assert set(ours) == set(theirs)
    for k in theirs:
        close(ours[k], theirs[k], 1e-12)


def test_batch_rows_are_independent():
    p = make(peepholes=True)
    x, h0, c0, dh, dc = data(p, B=3)
    tr = gradlab.forward(p, x, h0, c0)
    g = gradlab.backward(p, tr, dh, dc=dc)
    for b in range(3):
        tb = gradlab.forward(p, x[b], h0[b], c0[b])
        gb = gradlab.backward(p, tb, dh[b], dc=dc[b])
        close(tr.h[b], tb.h[0], 1e-13)
        close(tr.c[b], tb.c[0], 1e-13)
        close(g.h[b], gb.h[0], 1e-13)
        close(g.c0[b], gb.c0[0], 1e-13)
        close(g.x[b], gb.x[0], 1e-13)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 7), n=st.integers(1, 5), m=st.integers(1, 4),
       seed=st.integers(0, 2**16), f32=st.booleans(), peep=st.booleans(), coupled=st.booleans(),
       truncate=st.sampled_from([None, 1, 2, 3]), upstream_c=st.booleans())
def test_property_kernel_matches_twin(B, T, n, m, seed, f32, peep, coupled, truncate,
                                      upstream_c):
    dtype = np.float32 if f32 else np.float64
    p = make(n, m, seed, dtype=dtype, peepholes=peep, coupled=coupled)
    x, h0, c0, dh, dc = (a.astype(dtype) for a in data(p, B, T, seed + 1))
    dc = dc if upstream_c else None
    tr = gradlab.forward(p, x, h0, c0)
    g = gradlab.backward(p, tr, dh, dc=dc, truncate=truncate)
    assert tr.h.dtype == dtype and g.params["W"].dtype == dtype and g.c.dtype == dtype
    rtol = 2e-4 if f32 else 1e-12
    p64 = p.astype(np.float64)
    h, c, gates = twin_forward(p64, *(a.astype(np.float64) for a in (x, h0, c0)))
    close(tr.h, h, rtol)
    close(tr.c, c, rtol)
    for k in "ifgo":
        close(tr.gates[k], gates[k], rtol)
    r = twin_backward(p64, *(a.astype(np.float64) for a in (x, h0, c0, dh)),
                      None if dc is None else dc.astype(np.float64), truncate or 0)
    ours, theirs = all_grads(g), all_twin_grads(r)
    for k in theirs:
        close(ours[k], theirs[k], rtol * 10 if f32 else rtol)


# --- finite differences ----------------------------------------------------------------------


def loss(p, x, h0, c0, Gh, Gc):
    tr = gradlab.forward(p, x, h0, c0)
    return np.sum(Gh * tr.h) + np.sum(Gc * tr.c)


fd = central_differences


def fd_close(analytic, numeric):
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * scale + 1e-9)


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_gradients_match_finite_differences(opts):
    p = make(n=3, m=2, **opts)
    x, h0, c0, Gh, Gc = data(p, B=2, T=4, seed=5)
    g = gradlab.backward(p, gradlab.forward(p, x, h0, c0), Gh, dc=Gc)
    for name, w in p.weights.items():
        num = fd(lambda v, name=name: loss(p.replace(weights={name: v}), x, h0, c0, Gh, Gc),
                 np.array(w))
        fd_close(g.params[name], num)
    fd_close(g.x, fd(lambda v: loss(p, v, h0, c0, Gh, Gc), x))
    fd_close(g.h0, fd(lambda v: loss(p, x, v, c0, Gh, Gc), h0))
    fd_close(g.c0, fd(lambda v: loss(p, x, h0, v, Gh, Gc), c0))


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_total_state_gradients_match_finite_differences(opts):
    """Grads.h and Grads.c are the total dL/dh_t and dL/dc_t: nudge h_t or c_t in place."""
    p = make(n=3, m=2, **opts)
    x, h0, c0, Gh, Gc = data(p, B=2, T=5, seed=6)
    g = gradlab.backward(p, gradlab.forward(p, x, h0, c0), Gh, dc=Gc)
    zero = np.zeros_like(Gh)

    def L(h_add, c_add):
        h, c, _ = twin_forward(p, x, h0, c0, h_add=h_add, c_add=c_add)
        return np.sum(Gh * h) + np.sum(Gc * c)

    fd_close(g.h, fd(lambda v: L(v, zero), zero))
    fd_close(g.c, fd(lambda v: L(zero, v), zero))


def test_cell_state_gradient_with_loss_on_cell_state_only():
    """Upstream only on c: the whole gradient enters through the cell state."""
    p = make(n=3, m=2, peepholes=True)
    x, h0, c0, _, Gc = data(p, B=1, T=6, seed=7)
    Gh = np.zeros_like(Gc)
    g = gradlab.backward(p, gradlab.forward(p, x, h0, c0), Gh, dc=Gc)
    fd_close(g.c0, fd(lambda v: loss(p, x, h0, v, Gh, Gc), c0))
    fd_close(g.h0, fd(lambda v: loss(p, x, v, c0, Gh, Gc), h0))
    # at the last step nothing comes back from the future: dL/dc_T is the upstream
    np.testing.assert_array_equal(g.c[:, -1], Gc[:, -1])


# --- truncated BPTT ----------------------------------------------------------------------------


@pytest.mark.parametrize("opts", OPTIONS[:2], ids=IDS[:2])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncation_is_independent_chunks(opts, k):
    """truncate=k equals BPTT on each chunk of k steps started from the detached state."""
    p = make(**opts)
    T = 8
    x, h0, c0, dh, dc = data(p, T=T, seed=3)
    tr = gradlab.forward(p, x, h0, c0)
    g = gradlab.backward(p, tr, dh, dc=dc, truncate=k)
    total = {name: np.zeros_like(w) for name, w in p.weights.items()}
    hs = np.concatenate([h0[:, None], tr.h], axis=1)
    cs = np.concatenate([c0[:, None], tr.c], axis=1)
    for s in range(0, T, k):
        e = min(s + k, T)
        tc = gradlab.forward(p, x[:, s:e], hs[:, s], cs[:, s])
        gc = gradlab.backward(p, tc, dh[:, s:e], dc=dc[:, s:e])
        for name in total:
            total[name] += gc.params[name]
        close(g.h[:, s:e], gc.h, 1e-12)
        close(g.c[:, s:e], gc.c, 1e-12)
        if s == 0:
            close(g.h0, gc.h0, 1e-12)
            close(g.c0, gc.c0, 1e-12)
    for name in total:
        close(g.params[name], total[name], 1e-12)


def test_truncation_longer_than_sequence_is_full_bptt():
    p = make(coupled=True)
    x, h0, c0, dh, dc = data(p, T=5)
    tr = gradlab.forward(p, x, h0, c0)
    full, long = gradlab.backward(p, tr, dh, dc=dc), gradlab.backward(p, tr, dh, dc=dc, truncate=5)
    for k, v in all_grads(full).items():
        np.testing.assert_array_equal(all_grads(long)[k], v)


# --- options -----------------------------------------------------------------------------------


def test_coupled_gate_leaves_input_block_unused():
    n = 4
    p = make(n=n, coupled=True, peepholes=True)
    x, h0, c0, dh, dc = data(p)
    tr = gradlab.forward(p, x, h0, c0)
    np.testing.assert_array_equal(tr.gates["i"], 1.0 - tr.gates["f"])
    g = gradlab.backward(p, tr, dh, dc=dc)
    for name in ("W", "U", "b", "b_h"):
        assert np.all(g.params[name][:n] == 0.0), name
        assert np.any(g.params[name][n:] != 0.0), name
    assert np.all(g.params["P"][0] == 0.0) and np.all(g.params["P"][1:] != 0.0)
    # changing the unused block changes nothing
    w = np.array(p.weights["W"])
    w[:n] += 1.0
    np.testing.assert_array_equal(gradlab.forward(p.replace(weights={"W": w}), x, h0, c0).h, tr.h)


def test_zero_peepholes_are_the_plain_lstm():
    plain = make()
    peep = gradlab.Params("lstm", plain.weights, {"peepholes": True})  # P defaults to zeros
    np.testing.assert_array_equal(peep.weights["P"], np.zeros((3, plain.n)))
    x, h0, c0, dh, dc = data(plain)
    t1, t2 = gradlab.forward(plain, x, h0, c0), gradlab.forward(peep, x, h0, c0)
    np.testing.assert_array_equal(t1.h, t2.h)
    np.testing.assert_array_equal(t1.c, t2.c)
    g1, g2 = gradlab.backward(plain, t1, dh, dc=dc), gradlab.backward(peep, t2, dh, dc=dc)
    for k in ("W", "U", "b", "b_h"):
        np.testing.assert_array_equal(g1.params[k], g2.params[k])
    assert np.any(g2.params["P"] != 0.0)  # the peepholes still get a gradient


def test_options_are_validated():
    p = make()
    w = dict(p.weights)
    with pytest.raises(ValueError, match="peeholes"):
        gradlab.Params("lstm", w, {"peeholes": True})
    with pytest.raises(ValueError, match="coupled"):
        gradlab.Params("lstm", w, {"coupled": "yes"})
    with pytest.raises(ValueError, match="peepholes=False"):
        gradlab.Params("lstm", w | {"P": np.zeros((3, p.n))}, {})
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        gradlab.Params("lstm", w | {"P": np.zeros((2, p.n))}, {"peepholes": True})
    with pytest.raises(ValueError, match="activation"):
        gradlab.init_params("lstm", 4, 3, activation="relu")
    x, h0, c0, _, _ = data(p)
    # every Params is validated on construction, replace() included
    peeped = p.replace(peepholes=True)
    np.testing.assert_array_equal(peeped.weights["P"], np.zeros((3, p.n)))
    np.testing.assert_array_equal(gradlab.forward(peeped, x, h0, c0).h,
                                  gradlab.forward(p, x, h0, c0).h)
    with pytest.raises(ValueError, match="coupled"):
        p.replace(coupled=1)


def test_init_defaults():
    p = gradlab.init_params("lstm", 5, 2, seed=1)
    assert p.weights["W"].shape == (20, 5) and p.weights["U"].shape == (20, 2)
    assert not np.any(p.weights["b"]) and not np.any(p.weights["b_h"])  # forget bias too
    assert p.options == {"peepholes": False, "coupled": False}
    q = gradlab.init_params("lstm", 5, 2, seed=1, peepholes=True, dtype=np.float32)
    assert q.weights["P"].shape == (3, 5) and q.weights["P"].dtype == np.float32


def test_float32_is_close_to_float64():
    p = make(n=6, m=3, peepholes=True)
    x, h0, c0, dh, dc = data(p, B=2, T=20)
    p32 = p.astype(np.float32)
    t64, t32 = gradlab.forward(p, x, h0, c0), gradlab.forward(p32, x, h0, c0)
    assert t32.h.dtype == np.float32 and t32.gates["o"].dtype == np.float32
    close(t32.h, t64.h, 1e-4)
    close(t32.c, t64.c, 1e-4)
    g64, g32 = gradlab.backward(p, t64, dh, dc=dc), gradlab.backward(p32, t32, dh, dc=dc)
    for k, v in all_grads(g64).items():
        assert all_grads(g32)[k].dtype == np.float32
        close(all_grads(g32)[k], v, 1e-4)
    J32 = gradlab.step_jacobians(p32, t32)
    assert J32.dtype == np.float32
    close(J32, gradlab.step_jacobians(p, t64), 1e-4)


# --- step Jacobians ----------------------------------------------------------------------------


def one_step(p, x_t, s):
    n = p.n
    tr = gradlab.forward(p, x_t[None, None], s[None, :n], s[None, n:])
    return np.concatenate([tr.h[0, 0], tr.c[0, 0]])


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_step_jacobians_match_finite_differences(opts):
    p = make(n=3, m=2, **opts)
    x, h0, c0, _, _ = data(p, B=2, T=4, seed=8)
    tr = gradlab.forward(p, x, h0, c0)
    J = gradlab.step_jacobians(p, tr)
    assert J.shape == (2, 4, 6, 6)
    hs = np.concatenate([h0[:, None], tr.h], axis=1)
    cs = np.concatenate([c0[:, None], tr.c], axis=1)
    for b in range(2):
        for t in range(4):
            s = np.concatenate([hs[b, t], cs[b, t]])
            num = np.zeros((6, 6))
            eps = 1e-6
            for k in range(6):
                sp, sm = s.copy(), s.copy()
                sp[k] += eps
                sm[k] -= eps
                num[:, k] = (one_step(p, x[b, t], sp) - one_step(p, x[b, t], sm)) / (2 * eps)
            np.testing.assert_allclose(J[b, t], num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_step_jacobians_chain_backward(opts):
    """With the loss on the last state only, ds-gradients obey g_{t-1} = J_t^T g_t."""
    p = make(n=4, **opts)
    x, h0, c0, _, _ = data(p, B=2, T=7, seed=9)
    tr = gradlab.forward(p, x, h0, c0)
    rng = np.random.default_rng(0)
    dh, dc = np.zeros_like(tr.h), np.zeros_like(tr.c)
    dh[:, -1], dc[:, -1] = rng.standard_normal((2, 2, 4))
    g = gradlab.backward(p, tr, dh, dc=dc)
    J = gradlab.step_jacobians(p, tr)
    gs = np.concatenate([np.concatenate([g.h0[:, None], g.h], 1),
                         np.concatenate([g.c0[:, None], g.c], 1)], axis=2)  # (B, T+1, 2n)
    for t in range(7, 0, -1):
        close(np.einsum("bij,bi->bj", J[:, t - 1], gs[:, t]), gs[:, t - 1], 1e-12)


# --- overflow, inf and nan ----------------------------------------------------------------------


def test_nan_input_propagates_without_raising():
    p = make()
    x, h0, c0, dh, dc = data(p, T=6)
    x[0, 2, 0] = np.nan
    tr = gradlab.forward(p, x, h0, c0)
    assert np.all(np.isfinite(tr.h[0, :2])) and np.all(np.isnan(tr.h[0, 2:]))
    assert np.all(np.isnan(tr.c[0, 2:])) and np.all(np.isfinite(tr.h[1]))
    g = gradlab.backward(p, tr, dh, dc=dc)
    assert np.isnan(g.params["W"]).any() and np.all(np.isfinite(g.h[1, 3:]))


@pytest.mark.parametrize("opts", OPTIONS, ids=IDS)
def test_inf_and_huge_inputs_match_twin(opts):
    p = make(**opts)
    x, h0, c0, dh, dc = data(p, T=5)
    x[0, 1] = np.inf
    x[1, 2] = 1e300  # pre-activations overflow to +-inf
    x[1, 3] = -1e300
    tr = gradlab.forward(p, x, h0, c0)
    g = gradlab.backward(p, tr, dh, dc=dc)
    with np.errstate(all="ignore"):
        h, c, _ = twin_forward(p, x, h0, c0)
        r = twin_backward(p, x, h0, c0, dh, dc)
    close(tr.h, h, 1e-12)
    close(tr.c, c, 1e-12)
    ours = all_grads(g)
    for k, v in all_twin_grads(r).items():
        close(ours[k], v, 1e-12)


# --- the vectorised activations ------------------------------------------------------------------


def special_values():
    rng = np.random.default_rng(0)
    return np.concatenate([
        rng.standard_normal(20000) * 4, rng.uniform(-750, 750, 20000),
        rng.uniform(-1e-8, 1e-8, 1000), np.linspace(0.6, 0.65, 1001),
        [0.0, -0.0, 5e-324, -5e-324, 1e-300, 0.625, -0.625, 708.0, -708.0, 709.9, -709.9,
         745.2, -745.2, 1e300, -1e300, np.inf, -np.inf, np.nan]])


def test_sigmoid_agrees_with_numpy():
    x = special_values()
    out = np.empty_like(x)
    sigmoid_into(x, out)
    with np.errstate(over="ignore"):
        ref = 1.0 / (1.0 + np.exp(-x))
    finite = np.abs(x) <= 708
    rel = np.abs(out[finite] - ref[finite]) / ref[finite]
    assert rel.max() < 4 * np.finfo(float).eps
    big = np.abs(x) > 708  # within e^-708 = 3.3e-308 of the true value, which is 0 or 1
    np.testing.assert_allclose(out[big], ref[big], rtol=1e-15, atol=3.31e-308)
    assert out[-3] == 1.0 and out[-2] == 0.0 and np.isnan(out[-1])


def test_tanh_agrees_with_numpy():
    x = special_values()
    out = np.empty_like(x)
    tanh_into(x, out)
    ref = np.tanh(x)
    ok = np.isfinite(ref) & (ref != 0)
    rel = np.abs(out[ok] - ref[ok]) / np.abs(ref[ok])
    assert rel.max() < 4 * np.finfo(float).eps
    assert np.signbit(out[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()
    assert out[-3] == 1.0 and out[-2] == -1.0 and np.isnan(out[-1])


def test_activations_accept_float32_and_subranges():
    x = special_values()[:5000].astype(np.float32)
    out = np.full_like(x, 7.0)
    tanh_into(x[100:4000], out[100:4000])
    np.testing.assert_allclose(out[100:4000], np.tanh(x[100:4000].astype(np.float64)),
                               rtol=1e-7, atol=1e-30)
    assert np.all(out[:100] == 7.0) and np.all(out[4000:] == 7.0)
    sigmoid_into(x, out)
    with np.errstate(over="ignore"):
        ref = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(out, ref, rtol=1e-7, atol=1e-30)
