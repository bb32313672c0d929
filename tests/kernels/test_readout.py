"""Readout and losses (kernels/readout.py, gradlab/readout.py) against the twin, central
finite differences and PyTorch."""

import numpy as np
import pytest

import gradlab
from gradlab.readout import cross_entropy, mean_squared_error, outputs, readout_params

from ..fd import central_differences
from . import ref_readout as ref


def data(B=2, T=5, n=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((B, T, n))
    ro = readout_params(n, k, seed=seed)
    ro["b_y"] = 0.3 * rng.standard_normal(k)
    classes = rng.integers(0, k, (B, T))
    classes[0, 1] = -1  # a step without a target
    y_star = rng.standard_normal((B, T, k))
    mask = rng.random((B, T)) < 0.7
    mask[0, 0] = True
    return h, ro, classes, y_star, mask


def check(res, want):
    loss, y, dh, dV, db = want
    assert res.loss == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(res.y, y, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(res.dh, dh, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.grads["V"], dV, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.grads["b_y"], db, rtol=1e-12, atol=1e-15)


def test_cross_entropy_matches_twin():
    h, ro, classes, _, _ = data()
    res = cross_entropy(ro, h, classes)
    check(res, ref.cross_entropy(ro["V"], ro["b_y"], h, classes))
    assert res.count == 9 and res.dh.shape == h.shape


def test_mean_squared_error_matches_twin():
    h, ro, _, y_star, mask = data()
    check(mean_squared_error(ro, h, y_star, mask=mask),
          ref.mean_squared_error(ro["V"], ro["b_y"], h, y_star, mask))
    check(mean_squared_error(ro, h, y_star),
          ref.mean_squared_error(ro["V"], ro["b_y"], h, y_star, np.ones(mask.shape, bool)))


numerical = central_differences


@pytest.mark.parametrize("loss", ["xent", "mse"])
def test_gradients_match_finite_differences(loss):
    h, ro, classes, y_star, mask = data(seed=2)

    def L(h_, ro_):
        if loss == "xent":
            return cross_entropy(ro_, h_, classes).loss
        return mean_squared_error(ro_, h_, y_star, mask=mask).loss

    res = cross_entropy(ro, h, classes) if loss == "xent" else mean_squared_error(
        ro, h, y_star, mask=mask)
    np.testing.assert_allclose(res.dh, numerical(lambda x: L(x, ro), h), rtol=1e-6, atol=1e-9)
    for k in ro:
        num = numerical(lambda x, k=k: L(h, {**ro, k: x}), ro[k])
        np.testing.assert_allclose(res.grads[k], num, rtol=1e-6, atol=1e-9)


def test_huge_logits_stay_finite():
    h, ro, classes, _, _ = data()
    res = cross_entropy(ro, 1e4 * h, classes)
    assert np.isfinite(res.loss) and np.all(np.isfinite(res.dh))
    want = ref.cross_entropy(ro["V"], ro["b_y"], 1e4 * h, classes)
    assert res.loss == pytest.approx(want[0], rel=1e-12)


def test_no_counted_step_gives_nan_loss_and_zero_gradients():
    h, ro, classes, _, _ = data()
    res = cross_entropy(ro, h, -np.ones_like(classes))
    assert np.isnan(res.loss) and res.count == 0
    assert not np.any(res.dh) and not np.any(res.grads["V"])


def test_one_forward_and_one_backward_make_a_training_step():
    p = gradlab.init_params("lstm", 5, 2, spectral_radius=1.0, seed=0)
    x = np.random.default_rng(1).standard_normal((3, 8, 2))
    tr = gradlab.forward(p, x)
    ro = readout_params(5, 4, seed=2)
    targets = np.full((3, 8), -1)
    targets[:, -1] = [0, 3, 1]  # loss on the last step only
    res = cross_entropy(ro, tr, targets)
    g = gradlab.backward(p, tr, res.dh)
    assert np.all(res.dh[:, :-1] == 0) and np.any(g.h[:, 0])

    def loss_of_W(W):
        q = p.replace(weights={"W": W})
        return cross_entropy(ro, gradlab.forward(q, x), targets).loss

    W = np.array(p.weights["W"])
    i = (3, 2)
    e = np.zeros_like(W)
    e[i] = 1e-6
    num = (loss_of_W(W + e) - loss_of_W(W - e)) / 2e-6
    assert g.params["W"][i] == pytest.approx(num, rel=1e-6, abs=1e-10)


def test_shapes_are_checked_and_2d_inputs_work():
    h, ro, classes, y_star, _ = data(B=1)
    res = cross_entropy(ro, h[0], classes[0])
    assert res.dh.shape == (1, 5, 4)
    assert outputs(ro, h[0]).shape == (1, 5, 3)
    with pytest.raises(ValueError, match="below the number of classes"):
        cross_entropy(ro, h, np.full((1, 5), 3))
    with pytest.raises(ValueError, match="integer"):
        cross_entropy(ro, h, np.zeros((1, 5)))
    with pytest.raises(ValueError, match="targets have shape"):
        mean_squared_error(ro, h, y_star[..., :2])
    with pytest.raises(ValueError, match="V"):
        cross_entropy({"V": np.ones((3, 7)), "b_y": np.zeros(3)}, h, classes)


def test_float32_runs():
    h, ro, classes, y_star, _ = data()
    r32 = cross_entropy(ro, h.astype(np.float32), classes)
    r64 = cross_entropy(ro, h, classes)
    assert r32.dh.dtype == np.float32
    assert r32.loss == pytest.approx(r64.loss, rel=1e-5)


@pytest.mark.torch
def test_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    h, ro, classes, y_star, _ = data()
    ht = torch.tensor(h, requires_grad=True)
    V = torch.tensor(ro["V"], requires_grad=True)
    b = torch.tensor(ro["b_y"], requires_grad=True)
    y = ht @ V.T + b
    loss = F.cross_entropy(y.reshape(-1, 3), torch.tensor(classes.ravel()), ignore_index=-1)
    loss.backward()
    res = cross_entropy(ro, h, classes)
    assert res.loss == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(res.dh, ht.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.grads["V"], V.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.grads["b_y"], b.grad.numpy(), rtol=1e-12, atol=1e-15)
    for t in (ht, V, b):
        t.grad = None
    y = ht @ V.T + b
    loss = F.mse_loss(y, torch.tensor(y_star))
    loss.backward()
    res = mean_squared_error(ro, h, y_star)
    assert res.loss == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(res.dh, ht.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.grads["V"], V.grad.numpy(), rtol=1e-12, atol=1e-15)
