"""gradlab/cliff.py (the Pascanu cliff, descent paths) and gradlab.clip.clip_summary."""

import math

import numpy as np
import pytest

import gradlab
from gradlab import cliff as gc
from gradlab.cliff import CliffSurface, DescentPath, cliff_loss, cliff_surface, descend, ridge
from gradlab.clip import ClipSummary, clip_summary

from ..kernels import ref_cliff, ref_clip

S0 = 1.0 / (1.0 + math.exp(-0.5))  # sigma(x_0)
DS0 = S0 * (1.0 - S0)  # sigma'(x_0)


# --- the model is gradlab's own one-unit sigmoid RNN -------------------------------------

def gradlab_rnn(w, b, steps=50, x0=0.5, target=0.7):
    """E, dE/dw, dE/db and h_1..h_T through gradlab.forward / gradlab.backward.

    h_t = sigma(W h_{t-1} + U x_t + b + b_h) with W = [[w]], b = [b], U = b_h = 0 and
    h_0 = sigma(x_0) is h_t = sigma(x_t) for x_t = w sigma(x_{t-1}) + b; E depends on h_T only.
    """
    p = gradlab.Params("rnn", {"W": [[w]], "U": [[0.0]], "b": [b], "b_h": [0.0]},
                       {"activation": "sigmoid"})
    x = np.zeros((steps, 1))  # (T, m = 1): no input
    trace = gradlab.forward(p, x, h0=[S0 if x0 == 0.5 else 1 / (1 + math.exp(-x0))])
    hT = trace.h[0, -1, 0]
    dh = np.zeros((1, steps, 1))  # (B, T, n): dE/dh_t from the loss, on h_T only
    dh[0, -1, 0] = 2.0 * (hT - target)
    g = gradlab.backward(p, trace, dh)
    return (hT - target) ** 2, g.params["W"][0, 0], g.params["b"][0], trace.h[0, :, 0]


# (w, b, rtol). Close to the ridge an ulp of difference in x_t (gradlab adds U x + b_h too)
# grows like lambda^t = (w sigma'(x_0))^t: about 3e3 by t = 50 at w = 5, 3e7 at w = 6.
@pytest.mark.parametrize("w, b, rtol", [
    (-1.5, 1.0, 1e-9), (2.0, -3.0, 1e-9), (4.5, -2.3, 1e-9), (7.0, -1.0, 1e-9),
    (9.5, -5.9, 1e-9), (5.0, 0.5 - 5.0 * S0, 1e-9), (6.0, 0.5 - 6 * S0 + 1e-9, 1e-6)])
def test_cliff_is_gradlabs_one_unit_rnn(w, b, rtol):
    E, gw, gb, h = gradlab_rnn(w, b)
    # the states: h_t = sigma(x_t) of the cliff recursion
    xs = [0.5]
    for _ in range(50):
        xs.append(w * ref_cliff.sigma(xs[-1]) + b)
    np.testing.assert_allclose(h, ref_cliff.sigma(np.array(xs[1:])), rtol=rtol)
    # the loss and its gradient: the cliff kernel equals gradlab's forward and BPTT
    mine = cliff_loss(w, b)
    np.testing.assert_allclose(mine, (E, gw, gb), rtol=rtol)
    assert abs(gb) > 0


# --- the surface ----------------------------------------------------------------------------

def test_cliff_surface_default_grid():
    s = cliff_surface()
    assert isinstance(s, CliffSurface)
    assert s.w.shape == (601,) and s.b.shape == (401,)
    for a in (s.E, s.dE_dw, s.dE_db, s.log10_grad_norm):
        assert a.shape == (401, 601) and a.dtype == np.float64 and not a.flags.writeable
        assert np.all(np.isfinite(a))
    assert not s.w.flags.writeable and not s.b.flags.writeable
    assert s.extent == (-2.0, 10.0, -6.0, 2.0)
    assert (s.steps, s.x0, s.target) == (50, 0.5, 0.7)
    # rows are b, columns are w
    i, j = 123, 456
    E, gw, gb = ref_cliff.cliff(s.w[j], s.b[i])
    np.testing.assert_allclose((s.E[i, j], s.dE_dw[i, j], s.dE_db[i, j]), (E, gw, gb), rtol=1e-9)
    np.testing.assert_allclose(s.log10_grad_norm, np.log10(np.hypot(s.dE_dw, s.dE_db)))
    # the ridge is on the grid near its start: a steep band well above the gentle slopes
    assert s.log10_grad_norm.max() > 2 and np.median(s.log10_grad_norm) < -1
    with pytest.raises(ValueError):
        s.E[0, 0] = 1.0


def test_cliff_surface_other_grids_and_models():
    s = cliff_surface((0, 1), (-1, 1), shape=(3, 5), steps=4, x0=0.0, target=0.5)
    np.testing.assert_array_equal(s.w, [0, 0.5, 1])
    assert s.E.shape == (5, 3)
    W, B = np.meshgrid(s.w, s.b)
    for got, want in zip((s.E, s.dE_dw, s.dE_db), ref_cliff.cliff(W, B, 4, 0.0, 0.5),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("kwargs, word", [
    ({"w_range": (3, 1)}, "w_range"), ({"b_range": (0, np.inf)}, "b_range"),
    ({"b_range": 5}, "b_range"), ({"shape": (1, 10)}, "shape"), ({"shape": (10,)}, "shape"),
    ({"shape": (10.5, 10)}, "shape"), ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"),
    ({"x0": np.nan}, "x0"), ({"target": "a"}, "target")])
def test_cliff_surface_rejects_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        cliff_surface(**kwargs)


def test_cliff_loss_broadcasts():
    E, gw, gb = cliff_loss(np.array([1.0, 2.0, 3.0])[:, None], np.array([0.0, -1.0]))
    assert E.shape == gw.shape == gb.shape == (3, 2)
    np.testing.assert_allclose(E[2, 1], ref_cliff.cliff(3.0, -1.0)[0], rtol=1e-12)
    E, gw, gb = cliff_loss(5.0, -2.0)
    assert E.shape == ()


# --- the ridge ------------------------------------------------------------------------------

@pytest.mark.parametrize("w", [4.5, 5.0, 6.0])
def test_gradient_on_the_ridge_has_its_closed_form(w):
    """On b = x0 - w sigma(x0), x_t = x0 for every t (x0 is the unstable fixed point), so
    dE/dx_t = dE/dx_T lambda^(T-t) with lambda = w sigma'(x0), and
    dE/db = dE/dx_T (lambda^T - 1) / (lambda - 1), dE/dw = sigma(x0) dE/db."""
    b = ridge(w)
    assert b == 0.5 - w * S0
    lam = w * DS0
    db = 2 * (S0 - 0.7) * DS0 * (lam ** 50 - 1) / (lam - 1)
    E, gw, gb = cliff_loss(w, b)
    assert float(E) == pytest.approx((S0 - 0.7) ** 2, rel=1e-9)
    assert float(gb) == pytest.approx(db, rel=1e-6)
    assert float(gw) == pytest.approx(S0 * db, rel=1e-6)


def test_ridge_only_where_the_fixed_point_is_unstable():
    w_fold = 1 / DS0  # 4.255...: lambda = 1
    out = ridge(np.array([0.0, w_fold - 1e-9, w_fold + 1e-9, 10.0]))
    assert np.isnan(out[:2]).all() and np.isfinite(out[2:]).all()
    assert math.isnan(ridge(1.0))
    assert ridge(10.0) == pytest.approx(0.5 - 10 * S0)


# --- descent paths --------------------------------------------------------------------------

W_RANGE, B_RANGE = (-2.0, 10.0), (-6.0, 2.0)
DIAGONAL = math.hypot(12.0, 8.0)  # 14.42: any longer step from inside leaves the region
# Start on the ridge at w = 5, b = 0.5 - 5 sigma(0.5) = -2.612: the closed form above gives
# ||grad E|| = 778.8 there, so an unclipped step with lr = 0.05 is 38.9 long, longer than the
# region's diagonal: it must leave. Clipped at 1, 20 updates move at most 20 * 0.05 * 1 = 1.0
# (by norm) or 1.0 * sqrt(2) (by value, per component), less than the start's distance 3.39
# to the nearest edge (b = -6): the clipped paths cannot leave, whatever the gradients.
W0, B0 = 5.0, 0.5 - 5.0 * S0
LR, UPDATES, THRESHOLD = 0.05, 20, 1.0


def test_the_ridge_start_point_follows_from_the_math():
    lam = W0 * DS0
    norm = abs(2 * (S0 - 0.7) * DS0 * (lam ** 50 - 1) / (lam - 1)) * math.hypot(1, S0)
    assert norm == pytest.approx(778.8, rel=1e-3)
    assert LR * norm > DIAGONAL
    distance = min(W0 - W_RANGE[0], W_RANGE[1] - W0, B0 - B_RANGE[0], B_RANGE[1] - B0)
    assert distance == pytest.approx(3.388, abs=1e-3)
    assert UPDATES * LR * THRESHOLD * math.sqrt(2) < distance


def test_unclipped_step_leaves_the_region_and_clipped_paths_stay():
    plain = descend(W0, B0, lr=LR, updates=UPDATES)
    assert isinstance(plain, DescentPath)
    assert plain.norm_before[0] == pytest.approx(778.8, rel=1e-3)
    inside = plain.inside(W_RANGE, B_RANGE)
    assert inside[0] and not inside[1]  # the first step is thrown off the plotted surface
    assert np.hypot(*(plain.points[1] - plain.points[0])) > DIAGONAL
    assert not plain.clipped.any()
    np.testing.assert_array_equal(plain.norm_before, plain.norm_after)
    for mode in ("norm", "value"):
        path = descend(W0, B0, lr=LR, updates=UPDATES, clip=(mode, THRESHOLD))
        assert path.inside(W_RANGE, B_RANGE).all(), mode
        assert path.clipped[0], mode
        assert path.clip == (mode, THRESHOLD)


def test_clipping_by_norm_keeps_the_direction():
    path = descend(W0, B0, lr=LR, updates=UPDATES, clip=("norm", THRESHOLD))
    steps = np.diff(path.points, axis=0)  # (k, 2)
    for i in range(UPDATES):
        g = path.grads[i]
        np.testing.assert_allclose(np.hypot(*g), path.norm_before[i], rtol=1e-14)
        if path.clipped[i]:
            assert np.hypot(*steps[i]) == pytest.approx(LR * THRESHOLD, rel=1e-12)
            assert path.norm_after[i] == pytest.approx(THRESHOLD, rel=1e-12)
            cos = -steps[i] @ g / (np.hypot(*steps[i]) * np.hypot(*g))
            assert cos == pytest.approx(1.0, abs=1e-14)
        else:
            assert path.norm_before[i] <= THRESHOLD
            np.testing.assert_allclose(steps[i], -LR * g, rtol=1e-12, atol=1e-15)


def test_clipping_by_value_caps_each_component():
    path = descend(W0, B0, lr=LR, updates=UPDATES, clip=("value", THRESHOLD))
    steps = np.diff(path.points, axis=0)  # (k, 2)
    assert np.all(np.abs(steps) <= LR * THRESHOLD * (1 + 1e-15))
    np.testing.assert_allclose(steps, -LR * np.clip(path.grads, -THRESHOLD, THRESHOLD),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(path.clipped, np.any(np.abs(path.grads) > THRESHOLD, axis=1))
    # at the ridge both components are far above the threshold: the direction turns to (1, 1)
    np.testing.assert_allclose(steps[0], [LR * THRESHOLD, LR * THRESHOLD])


def test_descend_matches_a_plain_loop():
    lr, k, t = 0.3, 15, 0.05
    path = descend(2.0, -1.0, lr=lr, updates=k, clip=("norm", t))
    theta = np.array([2.0, -1.0])
    for i in range(k + 1):
        E, gw, gb = ref_cliff.cliff(theta[0], theta[1])
        np.testing.assert_allclose(path.points[i], theta, rtol=1e-9)
        assert path.losses[i] == pytest.approx(E, rel=1e-9)
        if i < k:
            out, clipped = ref_clip.clip_by_global_norm({"g": np.array([gw, gb])}, t)
            assert path.clipped[i] == clipped
            theta = theta - lr * out["g"]
    assert path.losses[-1] < path.losses[0]  # away from the cliff descent descends


def test_descend_result_is_frozen_and_shaped():
    path = descend(1.0, 0.0, lr=0.1, updates=3)
    assert path.points.shape == (4, 2) and path.losses.shape == (4,)
    assert path.grads.shape == (3, 2)
    for a in (path.norm_before, path.norm_after, path.clipped, path.skipped):
        assert a.shape == (3,)
    assert path.clipped.dtype == bool and not path.skipped.any()
    assert path.clip is None and path.lr == 0.1
    with pytest.raises(ValueError):
        path.points[0, 0] = 2.0
    empty = descend(1.0, 0.0, lr=0.1, updates=0)
    assert empty.points.shape == (1, 2) and empty.grads.shape == (0, 2)


def test_non_finite_gradient_skips_the_update(monkeypatch):
    real = gc.cliff_loss

    def exploding(w, b, **kw):
        E, gw, gb = real(w, b, **kw)
        return E, np.float64(np.inf), gb

    monkeypatch.setattr(gc, "cliff_loss", exploding)
    for clip in (None, ("norm", 1.0), ("value", 1.0)):
        path = descend(1.0, 0.0, lr=0.1, updates=2, clip=clip)
        assert path.skipped.all() and not path.clipped.any()
        np.testing.assert_array_equal(path.points, [[1.0, 0.0]] * 3)


@pytest.mark.parametrize("kwargs, word", [
    ({"lr": 0.0}, "lr"), ({"lr": np.nan}, "lr"), ({"updates": -1}, "updates"),
    ({"updates": 1.5}, "updates"), ({"clip": ("both", 1.0)}, "clip"), ({"clip": 1.0}, "clip"),
    ({"clip": ("norm", 0.0)}, "threshold"), ({"clip": ("value", np.inf)}, "threshold"),
    ({"w0": np.inf}, "w0"), ({"steps": 0}, "steps")])
def test_descend_rejects_bad_arguments(kwargs, word):
    args = {"w0": 1.0, "b0": 0.0, "lr": 0.1, "updates": 2} | kwargs
    w0, b0 = args.pop("w0"), args.pop("b0")
    with pytest.raises(ValueError, match=word):
        descend(w0, b0, **args)


# --- clip_summary: what clipping at a threshold does to a run of updates --------------------

def test_clip_summary_of_norms_caps_exploding_and_leaves_vanishing():
    norms = np.array([1e-30, 1e-3, 0.5, 1.0, 2.0, 1e300, np.inf, np.nan, 0.0])
    s = clip_summary(norms, 1.0)
    assert isinstance(s, ClipSummary) and s.threshold == 1.0
    np.testing.assert_array_equal(s.norm_before, norms)
    np.testing.assert_array_equal(s.clipped, [0, 0, 0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(s.finite, [1, 1, 1, 1, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(s.norm_after[:6], [1e-30, 1e-3, 0.5, 1.0, 1.0, 1.0])
    assert s.norm_after[6] == np.inf and np.isnan(s.norm_after[7])
    np.testing.assert_array_equal(s.factor, [1, 1, 1, 1, 0.5, 1e-300, 1, 1, 1])
    assert s.share == pytest.approx(2 / 9)
    for a in (s.norm_before, s.norm_after, s.factor, s.clipped, s.finite):
        assert not a.flags.writeable


def test_clip_summary_of_vectors_keeps_each_direction():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((40, 6)) * np.logspace(-3, 3, 40)[:, None]  # (U, d)
    s = clip_summary(G, 2.5)
    want_norms = [ref_clip.global_norm({"g": g}) for g in G]
    np.testing.assert_allclose(s.norm_before, want_norms, rtol=1e-14)
    for i, g in enumerate(G):
        out, clipped = ref_clip.clip_by_global_norm({"g": g}, 2.5)
        assert s.clipped[i] == clipped
        np.testing.assert_allclose(s.factor[i] * g, out["g"], rtol=1e-13)
    np.testing.assert_allclose(s.norm_after, np.minimum(want_norms, 2.5), rtol=1e-14)
    assert s.share == pytest.approx(np.mean(np.array(want_norms) > 2.5))
    # the same numbers from the norms alone
    t = clip_summary(s.norm_before, 2.5)
    np.testing.assert_array_equal(t.clipped, s.clipped)
    np.testing.assert_allclose(t.norm_after, s.norm_after, rtol=1e-14)


def test_clip_summary_of_gradient_mappings_and_overflow():
    ups = [{"W": np.full((2, 2), 3.0), "b": np.zeros(2)}, {"W": np.eye(2) * 0.1, "b": np.ones(2)},
           {"W": np.full((2, 2), 1e308), "b": np.zeros(2)}, {"W": np.eye(2), "b": [np.nan, 0]}]
    s = clip_summary(ups, 1.0)
    np.testing.assert_allclose(s.norm_before[:2], [6.0, math.sqrt(2.02)])
    assert s.norm_before[2] == np.inf  # the norm overflows, the entries do not: still clipped
    np.testing.assert_array_equal(s.clipped, [1, 1, 1, 0])
    np.testing.assert_array_equal(s.finite, [1, 1, 1, 0])
    np.testing.assert_allclose(s.norm_after[:3], 1.0, rtol=1e-14)
    assert s.factor[2] == pytest.approx(1 / 2e308)
    assert s.share == 0.75


def test_clip_summary_edge_cases():
    assert clip_summary([], 1.0).share == 0.0
    assert clip_summary(np.empty((0, 3)), 1.0).norm_before.shape == (0,)
    with pytest.raises(ValueError, match="threshold"):
        clip_summary([1.0], 0.0)
    with pytest.raises(ValueError, match="shape"):
        clip_summary(np.ones((2, 2, 2)), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        clip_summary([1.0, -2.0], 1.0)
