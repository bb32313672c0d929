"""Gradient clipping (kernels/clip.py, gradlab/clip.py) against its twin and PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from gradlab.clip import ClipReport, clip_by_global_norm, clip_by_value, global_norm
from kernels.clip import clip_values, combine, sum_squares

from . import ref_clip as ref


def grads(seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {"W": (scale * rng.standard_normal((5, 5))).astype(dtype),
            "U": (scale * rng.standard_normal((5, 3))).astype(dtype),
            "b": (scale * rng.standard_normal(5)).astype(dtype)}


def test_sum_squares_kernel_matches_twin_and_never_overflows():
    g = np.random.default_rng(1).standard_normal(50)
    scale, ssq = sum_squares(g)
    assert scale * np.sqrt(ssq) == pytest.approx(np.linalg.norm(g), rel=1e-14)
    big = np.full(4, 1e300)
    scale, ssq = sum_squares(big)
    assert (scale, ssq) == (1e300, pytest.approx(4.0, rel=1e-15))
    assert sum_squares(np.zeros(3)) == (0.0, 0.0)
    assert sum_squares(np.array([1.0, np.inf])) == (np.inf, np.inf)
    assert all(np.isnan(v) for v in sum_squares(np.array([np.inf, np.nan])))
    s, q = combine(np.array([2.0, 1e-3, 0.0]), np.array([3.0, 5.0, 0.0]))
    assert s * s * q == pytest.approx(4 * 3 + 1e-6 * 5, rel=1e-15)


def test_clip_values_kernel_counts_changes():
    g = np.array([-3.0, -1.0, 0.5, 2.0, np.inf, -np.inf, np.nan])
    out = np.empty_like(g)
    assert clip_values(g, 1.5, out) == 4
    np.testing.assert_array_equal(out[:6], [-1.5, -1.0, 0.5, 1.5, 1.5, -1.5])
    assert np.isnan(out[6])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**20), scale=st.floats(1e-3, 1e3), threshold=st.floats(0.01, 100))
def test_global_norm_clipping_matches_algorithm_1(seed, scale, threshold):
    g = grads(seed, scale)
    out, rep = clip_by_global_norm(g, threshold)
    want, clipped = ref.clip_by_global_norm(g, threshold)
    assert rep.clipped == clipped
    for k in g:
        np.testing.assert_allclose(out[k], want[k], rtol=1e-13, atol=0)
    assert rep.norm_before == pytest.approx(ref.global_norm(g), rel=1e-13)
    assert rep.norm_after == pytest.approx(min(threshold, rep.norm_before), rel=1e-13)
    assert rep.factor == pytest.approx(min(1.0, threshold / rep.norm_before), rel=1e-13)
    assert rep.finite


def test_clipping_keeps_the_direction_and_leaves_inputs_alone():
    g = grads(3, 10.0)
    before = {k: v.copy() for k, v in g.items()}
    out, rep = clip_by_global_norm(g, 1.0)
    assert rep.clipped and rep.norm_after == pytest.approx(1.0, rel=1e-14)
    flat_in = np.concatenate([v.ravel() for v in g.values()])
    flat_out = np.concatenate([v.ravel() for v in out.values()])
    assert np.dot(flat_in, flat_out) == pytest.approx(np.linalg.norm(flat_in), rel=1e-13)
    for k in g:
        np.testing.assert_array_equal(g[k], before[k])
    out2, rep2 = clip_by_global_norm(g, 1e6)
    assert not rep2.clipped and rep2.factor == 1.0
    for k in g:
        np.testing.assert_array_equal(out2[k], g[k])
        assert out2[k] is not g[k]


def test_value_clipping_matches_twin():
    g = grads(4, 2.0)
    out, rep = clip_by_value(g, 1.0)
    want = ref.clip_by_value(g, 1.0)
    for k in g:
        np.testing.assert_array_equal(out[k], want[k])
    assert rep.changed == sum(int(np.sum(np.abs(v) > 1.0)) for v in g.values()) > 0
    assert rep.clipped and rep.norm_after == pytest.approx(ref.global_norm(want), rel=1e-14)
    _, rep = clip_by_value(g, 100.0)
    assert not rep.clipped and rep.changed == 0 and rep.norm_after == rep.norm_before


def test_finite_gradients_whose_norm_overflows_are_still_rescaled():
    g = {"a": np.array([1e300, -1e300, 1e300])}
    out, rep = clip_by_global_norm(g, 2.0)
    assert rep.norm_before == pytest.approx(np.sqrt(3) * 1e300, rel=1e-14) and rep.finite
    np.testing.assert_allclose(out["a"], 2.0 / np.sqrt(3) * np.array([1, -1, 1]), rtol=1e-14)
    g = {"a": np.full(4, 1e308)}  # the norm itself is beyond float64
    out, rep = clip_by_global_norm(g, 1.0)
    assert rep.norm_before == np.inf and rep.clipped and rep.finite
    np.testing.assert_allclose(out["a"], np.full(4, 0.5), rtol=1e-14)


def test_non_finite_gradients_come_back_unchanged_and_flagged():
    g = {"W": np.array([[1.0, np.inf]]), "b": np.array([2.0])}
    out, rep = clip_by_global_norm(g, 1.0)
    assert rep == ClipReport(np.inf, np.inf, False, 1.0, 0, False)
    np.testing.assert_array_equal(out["W"], g["W"])
    g["b"][0] = np.nan
    out, rep = clip_by_global_norm(g, 1.0)
    assert np.isnan(rep.norm_before) and not rep.clipped and not rep.finite
    with pytest.raises(FloatingPointError):
        clip_by_global_norm(g, 1.0, error_if_nonfinite=True)
    out, rep = clip_by_value(g, 0.5)
    assert np.isnan(out["b"][0]) and out["W"][0, 1] == 0.5 and not rep.finite


def test_float32_grads_stay_float32():
    g = grads(5, 3.0, np.float32)
    out, rep = clip_by_global_norm(g, 1.0)
    assert all(v.dtype == np.float32 for v in out.values())
    assert rep.norm_after == pytest.approx(1.0, rel=1e-6)
    out, _ = clip_by_value(g, 0.1)
    assert all(v.dtype == np.float32 for v in out.values())


def test_a_grads_object_is_accepted():
    p = gradlab.init_params("rnn", 4, 2, spectral_radius=1.5, seed=0)
    tr = gradlab.forward(p, np.ones((30, 2)))
    g = gradlab.backward(p, tr, np.ones_like(tr.h))
    out, rep = clip_by_global_norm(g, 0.5)
    assert set(out) == set(g.params) and rep.norm_after == pytest.approx(0.5, rel=1e-13)
    assert global_norm(g) == pytest.approx(ref.global_norm(dict(g.params)), rel=1e-13)


def test_thresholds_must_be_positive():
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="positive"):
            clip_by_global_norm(grads(), bad)
        with pytest.raises(ValueError, match="positive"):
            clip_by_value(grads(), bad)


@pytest.mark.torch
def test_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    for threshold in (0.5, 3.0, 100.0):
        g = grads(6, 2.0)
        ts = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in g.values()]
        for t, v in zip(ts, g.values(), strict=True):
            t.grad = torch.tensor(v)
        total = torch.nn.utils.clip_grad_norm_(ts, threshold)
        out, rep = clip_by_global_norm(g, threshold)
        assert rep.norm_before == pytest.approx(float(total), rel=1e-13)
        for t, v in zip(ts, out.values(), strict=True):
            # PyTorch scales by threshold / (norm + 1e-6)
            np.testing.assert_allclose(t.grad.numpy(), v, rtol=1e-6 / rep.norm_before + 1e-13)
    g = grads(7, 2.0)
    ts = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in g.values()]
    for t, v in zip(ts, g.values(), strict=True):
        t.grad = torch.tensor(v)
    torch.nn.utils.clip_grad_value_(ts, 0.7)
    out, _ = clip_by_value(g, 0.7)
    for t, v in zip(ts, out.values(), strict=True):
        np.testing.assert_array_equal(t.grad.numpy(), v)
