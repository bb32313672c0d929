"""The encoder-decoder: gradients against central finite differences and PyTorch autograd,
greedy decoding against the teacher-forced pass, the model without attention, and the
encoder-state gradient curves of issue 11 item 7."""

import numpy as np
import pytest

from gradlab.attention import SCORES
from gradlab.seq2seq import Batch, Seq2Seq, encoder_gradients

CELLS = ("rnn", "lstm", "gru")
ALL_SCORES = (*SCORES, None)


def _batch(rng, B=3, T=4, Q=4, k=5):
    return Batch(rng.integers(0, k, (B, T)), rng.integers(0, k, (B, Q)))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("score", ALL_SCORES)
def test_gradients_match_central_differences(cell, score):
    """Per parameter array, the directional derivative along a random direction d:
    (L(p + eps d) - L(p - eps d)) / (2 eps) = <dL/dp, d>, float64."""
    rng = np.random.default_rng(7)
    m = Seq2Seq.create(cell, score, vocab=5, hidden=4, length=4, seed=3)
    b = _batch(rng)
    loss, g = m.loss_and_grads(m.params, b)
    assert set(g) == set(m.params)
    eps = 1e-6
    for name, p in m.params.items():
        d = rng.standard_normal(p.shape)
        plus = dict(m.params, **{name: p + eps * d})
        minus = dict(m.params, **{name: p - eps * d})
        fd = (m.forward(b, plus).loss - m.forward(b, minus).loss) / (2 * eps)
        an = float(np.sum(g[name] * d))
        assert abs(fd - an) <= 1e-7 * max(1.0, abs(an)), (name, fd, an)


def _torch_loss(m: Seq2Seq, params, b: Batch):
    """The same model written directly in PyTorch (cell equations as in the PyTorch docs)."""
    torch = pytest.importorskip("torch")
    P = {k: torch.tensor(np.array(v), dtype=torch.float64, requires_grad=True)
         for k, v in params.items()}
    k, n = m.vocab, m.hidden
    F = torch.nn.functional

    def run(prefix, x, h, c):  # x (B, L, m)
        W, U, bi, bh = (P[f"{prefix}.{w}"] for w in ("W", "U", "b", "b_h"))
        hs = []
        for t in range(x.shape[1]):
            gi = x[:, t] @ U.T + bi
            gh = h @ W.T + bh
            if m.cell == "rnn":
                h = torch.tanh(gi + gh)
            elif m.cell == "gru":
                r = torch.sigmoid(gi[:, :n] + gh[:, :n])
                z = torch.sigmoid(gi[:, n:2 * n] + gh[:, n:2 * n])
                cand = torch.tanh(gi[:, 2 * n:] + r * gh[:, 2 * n:])
                h = (1 - z) * cand + z * h
            else:
                a = gi + gh
                i, f = torch.sigmoid(a[:, :n]), torch.sigmoid(a[:, n:2 * n])
                g, o = torch.tanh(a[:, 2 * n:3 * n]), torch.sigmoid(a[:, 3 * n:])
                c = f * c + i * g
                h = o * torch.tanh(c)
            hs.append(h)
        return torch.stack(hs, 1), h, c

    B, Q = b.tgt.shape
    x = F.one_hot(torch.tensor(b.src), k).double()
    y_in = np.concatenate([np.full((B, 1), k), b.tgt[:, :-1]], axis=1)
    u = F.one_hot(torch.tensor(y_in), k + 1).double()
    zero = torch.zeros(B, n, dtype=torch.float64)
    H, hT, cT = run("enc", x, zero, zero)
    S, _, _ = run("dec", u, hT, cT)
    if m.score is None:
        C = H[:, -1:].expand(B, Q, n)
    else:
        if m.score == "dot":
            E = S @ H.transpose(1, 2)
        elif m.score == "scaled_dot":
            E = S @ H.transpose(1, 2) / np.sqrt(n)
        elif m.score == "general":
            E = (H @ P["att.W_a"] @ S.transpose(1, 2)).transpose(1, 2)
        elif m.score == "additive":
            Z = torch.tanh((H @ P["att.W1"].T)[:, None] + (S @ P["att.W2"].T)[:, :, None])
            E = Z @ P["att.v"]  # (B, Q, T)
        elif m.score == "cosine":
            E = P["att.beta"] * F.cosine_similarity(S[:, :, None], H[:, None], dim=3, eps=0)
        else:
            E = S @ P["att.W_a"].T
        C = torch.softmax(E, dim=2) @ H
    logits = torch.cat([S, C], 2) @ P["out.V"].T + P["out.b_y"]
    loss = F.cross_entropy(logits.reshape(-1, k), torch.tensor(b.tgt).reshape(-1))
    loss.backward()
    return float(loss.detach()), {name: t.grad.numpy() for name, t in P.items()}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("score", ALL_SCORES)
def test_loss_and_gradients_match_pytorch_autograd(cell, score):
    rng = np.random.default_rng(11)
    m = Seq2Seq.create(cell, score, vocab=6, hidden=5, length=5, seed=4)
    b = _batch(rng, B=4, T=5, Q=3, k=6)
    loss, g = m.loss_and_grads(m.params, b)
    tloss, tg = _torch_loss(m, m.params, b)
    assert loss == pytest.approx(tloss, rel=1e-12)
    for name in m.params:
        np.testing.assert_allclose(g[name], tg[name], rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_greedy_decoding_is_the_teacher_forced_pass_fed_its_own_predictions(cell):
    rng = np.random.default_rng(2)
    m = Seq2Seq.create(cell, "additive", vocab=6, hidden=8, length=5, seed=1)
    src = rng.integers(0, 6, (7, 5))
    dec = m.decode(src)
    assert dec.tokens.shape == (7, 5) and dec.alignment.shape == (7, 5, 5)
    fwd = m.forward(Batch(src, dec.tokens))
    np.testing.assert_array_equal(fwd.logits.argmax(axis=2), dec.tokens)
    np.testing.assert_allclose(fwd.alignment, dec.alignment, rtol=1e-12, atol=1e-15)
    assert dec.exact is None
    ev = m.evaluate(None, Batch(src, dec.tokens))
    assert ev.exact_match == 1.0 and ev.accuracy == 1.0 and ev.alignment.shape == (5, 5)


def test_alignment_rows_sum_to_one_and_results_are_frozen():
    m = Seq2Seq.create("gru", "scaled_dot", vocab=5, hidden=6, length=4, seed=0)
    fwd = m.forward(_batch(np.random.default_rng(0), B=2, Q=3))
    assert fwd.alignment.shape == (2, 3, 4) and fwd.logits.shape == (2, 3, 5)
    np.testing.assert_allclose(fwd.alignment.sum(axis=2), 1.0, rtol=1e-12)
    for a in (fwd.alignment, fwd.logits, fwd.context, m.params["enc.W"]):
        assert not a.flags.writeable
    g = m.backward(fwd)
    assert not g.H.flags.writeable and not g.params["out.V"].flags.writeable


def test_without_attention_shares_the_weights_and_reads_the_last_state():
    m = Seq2Seq.create("lstm", "general", vocab=5, hidden=6, length=4, seed=0)
    plain = m.without_attention()
    assert plain.score is None and not plain.attention
    assert set(plain.params) == {k for k in m.params if not k.startswith("att.")}
    for k in plain.params:
        np.testing.assert_array_equal(plain.params[k], m.params[k])
    fwd = plain.forward(_batch(np.random.default_rng(1), B=2, Q=3))
    np.testing.assert_array_equal(fwd.alignment[:, :, -1], 1.0)
    np.testing.assert_array_equal(fwd.context, np.repeat(fwd.H[:, -1:], 3, axis=1))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="score='luong'"):
        Seq2Seq.create("gru", "luong")
    with pytest.raises(ValueError, match="cell="):
        Seq2Seq.create("elman", "dot")
    m = Seq2Seq.create("rnn", "dot", vocab=5, hidden=4, length=4)
    with pytest.raises(ValueError, match="length=4"):
        m.forward(Batch(np.zeros((1, 3), int), np.zeros((1, 3), int)))
    with pytest.raises(ValueError, match=r"tgt tokens must lie in \[0, 5\)"):
        m.forward(Batch(np.zeros((1, 4), int), np.full((1, 3), 5)))
    with pytest.raises(ValueError, match="src must be integer tokens"):
        Batch(np.zeros((1, 4)), np.zeros((1, 4), int))
    with pytest.raises(ValueError, match="must match"):
        Batch(np.zeros((2, 4), int), np.zeros((1, 4), int))
    with pytest.raises(ValueError, match="has no attention"):
        encoder_gradients(m.without_attention(), Batch(np.zeros((1, 4), int),
                                                       np.zeros((1, 4), int)))


@pytest.mark.parametrize("score", ("additive", "scaled_dot"))
def test_attention_keeps_encoder_gradients_level_while_the_last_state_path_decays(score):
    """Item 7: ||dL/dh_j|| over source positions j. With attention every h_j is one step
    from the contexts: a level curve. Through the last state only, the gradient must pass
    T - j recurrent Jacobians (contracting here) and falls with the distance from the end."""
    rng = np.random.default_rng(5)
    T = 12
    m = Seq2Seq.create("rnn", score, vocab=8, hidden=24, length=T, seed=2,
                       spectral_radius=0.8)
    src = rng.integers(0, 8, (16, T))
    curves = encoder_gradients(m, Batch(src, src[:, ::-1]))
    np.testing.assert_array_equal(curves.positions, np.arange(1, T + 1))
    assert curves.with_attention.shape == curves.without_attention.shape == (T,)
    assert curves.attention_ratio < 3.0
    w, wo = curves.normalised()
    assert w.max() == wo.max() == 1.0 and wo[-1] == 1.0 and wo[0] < 0.05
    assert curves.no_attention_ratio > 20.0
    # falls steadily towards the start of the source
    assert np.all(np.diff(curves.without_attention) > 0)
    # without attention nothing reaches h_j (j < T) directly; with it, every h_j is reached
    np.testing.assert_array_equal(curves.without_attention_direct[:-1], 0.0)
    assert np.all(curves.with_attention_direct > 0)
