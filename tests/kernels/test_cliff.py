"""kernels/cliff.py against its NumPy twin (full default grid) and central finite differences."""

import numpy as np
import pytest

from kernels.cliff import BLOCK, cliff_points

from ..fd import central_differences
from . import ref_cliff

S0 = 1.0 / (1.0 + np.exp(-0.5))  # sigma(x_0)


def run(w, b, steps=50, x0=0.5, target=0.7):
    w = np.ascontiguousarray(w, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    E, gw, gb = np.empty(w.size), np.empty(w.size), np.empty(w.size)
    cliff_points(w, b, steps, x0, target, E, gw, gb)
    return E, gw, gb


def default_grid():
    W, B = np.meshgrid(np.linspace(-2, 10, 601), np.linspace(-6, 2, 401))  # (401, 601)
    return W.ravel(), B.ravel()


def test_kernel_matches_twin_on_the_full_default_grid():
    w, b = default_grid()
    got = run(w, b)
    want = ref_cliff.cliff(w, b)
    for name, g, r in zip(("E", "dE/dw", "dE/db"), got, want, strict=True):
        assert np.all(np.isfinite(g)), name
        # every point, relative to its own value: 1e-9 (measured: about 4e-11)
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-300, err_msg=name)
    # the grid does contain the steep part of the cliff, not only gentle slopes
    assert np.hypot(got[1], got[2]).max() > 100


@pytest.mark.parametrize("steps, x0, target", [(1, 0.5, 0.7), (7, -1.0, 0.2), (120, 0.5, 0.7)])
def test_kernel_matches_twin_for_other_models(steps, x0, target):
    rng = np.random.default_rng(3)
    P = 3 * BLOCK + 17  # several blocks and a ragged last one
    w, b = rng.uniform(-2, 10, P), rng.uniform(-6, 2, P)
    got, want = run(w, b, steps, x0, target), ref_cliff.cliff(w, b, steps, x0, target)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-300)


def test_one_step_by_hand():
    # T = 1: x_1 = w s0 + b, E = (sigma(x_1) - t)^2, dE/dx_1 = 2 (s1 - t) s1 (1 - s1)
    w, b, t = 1.5, -0.3, 0.7
    s1 = 1 / (1 + np.exp(-(w * S0 + b)))
    d1 = 2 * (s1 - t) * s1 * (1 - s1)
    E, gw, gb = run([w], [b], steps=1, target=t)
    assert E[0] == pytest.approx((s1 - t) ** 2, rel=1e-14)
    assert gw[0] == pytest.approx(d1 * S0, rel=1e-13)
    assert gb[0] == pytest.approx(d1, rel=1e-13)


def test_empty_and_non_finite_points():
    E, gw, gb = run(np.empty(0), np.empty(0))
    assert E.size == gw.size == gb.size == 0
    E, gw, gb = run([np.nan, 1.0, 2.0, np.inf], [0.0, np.nan, 0.0, -np.inf])
    assert np.all(np.isnan(E[:2])) and np.all(np.isnan(gw[:2])) and np.all(np.isnan(gb[:2]))
    assert np.isfinite(E[2]) and np.isfinite(gw[2])  # a bad point does not spoil its block
    assert np.isnan(E[3])  # inf - inf


# (w, b, eps): points on gentle slopes, near the fold where the ridge starts (w ~ 4.3), and
# close to the ridge b = 0.5 - w sigma(0.5) at w = 4.5 and w = 5, where the gradient is large
# and so is the third derivative that sets the error of central differences (smaller eps).
POINTS = [(-1.5, 1.0, 1e-6), (2.0, -3.0, 1e-6), (4.3, -2.2, 1e-6), (7.0, -1.0, 1e-6),
          (9.5, -5.9, 1e-6), (4.5, 0.5 - 4.5 * S0 + 1e-3, 1e-6),
          (5.0, 0.5 - 5.0 * S0 + 2e-4, 1e-8), (5.0, 0.5 - 5.0 * S0, 1e-8)]


@pytest.mark.parametrize("w, b, eps", POINTS)
def test_gradient_matches_central_differences(w, b, eps):
    E, gw, gb = run([w], [b])

    def loss(p):
        return run([p[0]], [p[1]])[0][0]

    fd = central_differences(loss, [w, b], eps=eps)
    g = np.array([gw[0], gb[0]])
    # measured: at most 4e-7 of the gradient norm; a wrong term is off by far more
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * np.linalg.norm(g))
