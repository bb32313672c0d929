"""Attention (kernels/attention.py, gradlab/attention.py) against its twin, central finite
differences and, when installed, PyTorch."""

import numpy as np
import pytest

from gradlab.attention import SCORES, attend, attend_backward, attention_params

from ..fd import central_differences
from . import ref_attention as ref

SHAPES = {  # H, s
    "one query": ((6, 4), (4,)),
    "decoder steps": ((6, 4), (3, 4)),
    "batch": ((2, 6, 4), (2, 4)),
    "batch of decoder steps": ((2, 6, 4), (2, 3, 4)),
}


def setup(score, shapes, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal(shapes[0])
    s = rng.standard_normal(shapes[1])
    p = attention_params(score, 4, 4, d_a=5, steps=6, beta=2.5, seed=seed + 1)
    att = attend(score, H, s, p)
    dc = rng.standard_normal(att.context.shape)
    da = rng.standard_normal(att.weights.shape)
    return H, s, p, att, dc, da


def queries(H, s):
    """Yield (index into results, H (T, d_h), s (d_s,)) for each decoder state."""
    Hb = H if H.ndim == 3 else H[None]
    for idx in np.ndindex(s.shape[:-1]):
        b = idx[0] if H.ndim == 3 else 0
        yield idx, Hb[b], s[idx]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("score", SCORES)
def test_kernels_match_twin(score, shape):
    H, s, p, att, dc, da = setup(score, SHAPES[shape])
    g = attend_backward(att, dc, da)
    assert g.H.shape == H.shape and g.s.shape == s.shape
    assert set(g.params) == set(p)
    dH = np.zeros_like(H)
    dps = {k: np.zeros_like(v) for k, v in p.items()}
    for idx, Hq, sq in queries(H, s):
        e, a, c = ref.attend(score, Hq, sq, p)
        np.testing.assert_allclose(att.scores[idx], e, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(att.weights[idx], a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(att.context[idx], c, rtol=1e-12, atol=1e-12)
        gH, gs, gp = ref.backward(score, Hq, sq, p, dc[idx], da[idx])
        np.testing.assert_allclose(g.s[idx], gs, rtol=1e-12, atol=1e-12)
        if H.ndim == 3:
            dH[idx[0]] += gH
        else:
            dH += gH
        for k in gp:
            dps[k] += gp[k]
    np.testing.assert_allclose(g.H, dH, rtol=1e-12, atol=1e-12)
    for k in p:
        np.testing.assert_allclose(g.params[k], dps[k], rtol=1e-12, atol=1e-12)


numerical = central_differences


@pytest.mark.parametrize("shape", ["decoder steps", "batch of decoder steps"])
@pytest.mark.parametrize("score", SCORES)
def test_gradients_match_finite_differences(score, shape):
    H, s, p, att, dc, da = setup(score, SHAPES[shape], seed=3)

    def loss(H_, s_, p_):
        a = attend(score, H_, s_, p_)
        return np.sum(dc * a.context) + np.sum(da * a.weights)

    g = attend_backward(att, dc, da)
    np.testing.assert_allclose(g.H, numerical(lambda x: loss(x, s, p), H), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g.s, numerical(lambda x: loss(H, x, p), s), rtol=1e-6, atol=1e-8)
    for k in p:
        num = numerical(lambda x, k=k: loss(H, s, {**p, k: x}), p[k])
        np.testing.assert_allclose(g.params[k], num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("score", SCORES)
def test_weights_are_a_distribution_even_for_huge_scores(score):
    H, s, p, att, _, _ = setup(score, SHAPES["batch of decoder steps"])
    np.testing.assert_allclose(att.weights.sum(axis=-1), 1.0, rtol=1e-14)
    big = attend(score, 1e3 * H, 1e3 * s, p)
    assert np.all(np.isfinite(big.weights)) and np.all(big.weights >= 0)
    np.testing.assert_allclose(big.weights.sum(axis=-1), 1.0, rtol=1e-14)


def test_location_attention_ignores_the_encoder_contents():
    H, s, p, att, dc, _ = setup("location", SHAPES["decoder steps"])
    other = attend("location", 5 * H + 1, s, p)
    np.testing.assert_array_equal(other.weights, att.weights)
    g = attend_backward(att, dc)
    np.testing.assert_allclose(g.H, att.weights.T @ dc, rtol=1e-13)  # only via the context


def test_cosine_attention_is_scale_free_and_zero_vectors_are_safe():
    H, s, p, att, dc, da = setup("cosine", SHAPES["one query"])
    np.testing.assert_allclose(attend("cosine", 3 * H, 0.1 * s, p).weights, att.weights,
                               rtol=1e-13)
    H0 = H.copy()
    H0[2] = 0.0
    a0 = attend("cosine", H0, s, p)
    assert a0.scores[2] == 0.0
    g = attend_backward(a0, dc, da)
    assert np.all(np.isfinite(g.H)) and np.all(np.isfinite(g.s))


def test_inputs_and_parameters_are_checked():
    H = np.ones((5, 3))
    with pytest.raises(ValueError, match="score="):
        attend("bilinear", H, np.ones(3))
    with pytest.raises(ValueError, match="d_h = d_s"):
        attend("dot", H, np.ones(4))
    with pytest.raises(ValueError, match="W_a"):
        attend("general", H, np.ones(3), {})
    with pytest.raises(ValueError, match="W_a"):
        attend("location", H, np.ones(3), {"W_a": np.ones((4, 3))})
    with pytest.raises(ValueError, match="takes"):
        attend("dot", H, np.ones(3), {"W_a": np.ones((3, 3))})
    with pytest.raises(ValueError, match="same B"):
        attend("dot", np.ones((2, 5, 3)), np.ones((3, 3)))
    att = attend("dot", H, np.ones(3))
    with pytest.raises(ValueError, match="dcontext"):
        attend_backward(att, np.ones(4))


def test_inputs_are_not_frozen_or_modified():
    H = np.random.default_rng(0).standard_normal((4, 3))
    s = np.ones(3)
    att = attend("dot", H, s)
    H[0, 0] = 5.0  # still writable, and the result kept its own copy
    assert att.H[0, 0, 0] != 5.0 and not att.weights.flags.writeable


def test_float32_runs_and_agrees():
    H, s, p, att, dc, da = setup("additive", SHAPES["batch"])
    a32 = attend("additive", H.astype(np.float32), s.astype(np.float32), p)
    assert a32.context.dtype == np.float32
    np.testing.assert_allclose(a32.context, att.context, rtol=1e-5, atol=1e-5)
    g32 = attend_backward(a32, dc, da)
    np.testing.assert_allclose(g32.params["W1"], attend_backward(att, dc, da).params["W1"],
                               rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_scaled_dot_agrees_with_pytorch_attention():
    torch = pytest.importorskip("torch")
    H, s, p, att, dc, _ = setup("scaled_dot", SHAPES["batch of decoder steps"])
    q = torch.tensor(s, requires_grad=True)
    k = torch.tensor(H, requires_grad=True)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, k)
    np.testing.assert_allclose(out.detach().numpy(), att.context, rtol=1e-12, atol=1e-13)
    (out * torch.tensor(dc)).sum().backward()
    g = attend_backward(att, dc)
    np.testing.assert_allclose(q.grad.numpy(), g.s, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(k.grad.numpy(), g.H, rtol=1e-10, atol=1e-12)
