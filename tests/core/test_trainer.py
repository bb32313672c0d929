"""The trainer: optimisers against torch.optim, updates against finite-difference gradients,
clipping against torch.nn.utils, determinism, snapshots, the stop flag, non-finite
gradients, and a model that has nothing to do with attention."""

import threading

import numpy as np
import pytest

from gradlab.seq2seq import Batch, Seq2Seq
from gradlab.train import SGD, Adam, Trainer, TrainSnapshot, make_optimizer


class Linear:
    """Least squares y = X w + c: a model with params and loss_and_grads, and no attention."""

    def __init__(self, m=3, seed=0):
        self.params = {"w": np.zeros(m), "c": np.zeros(1)}
        self.true_w = np.random.default_rng(seed).standard_normal(m)

    def data(self, rng, size):
        X = rng.standard_normal((size, len(self.true_w)))
        return X, X @ self.true_w + 0.5

    def loss_and_grads(self, params, batch):
        X, y = batch
        r = X @ params["w"] + params["c"][0] - y  # (B,)
        return float(np.mean(r * r)), {"w": 2 * X.T @ r / len(r),
                                       "c": np.array([2 * r.mean()])}


@pytest.mark.parametrize("make", [
    lambda: (SGD(0.1, 0.0), "SGD", {"lr": 0.1, "momentum": 0.0}),
    lambda: (SGD(0.05, 0.9), "SGD", {"lr": 0.05, "momentum": 0.9}),
    lambda: (SGD(0.05, 0.8, nesterov=True), "SGD", {"lr": 0.05, "momentum": 0.8,
                                                     "nesterov": True}),
    lambda: (Adam(0.01), "Adam", {"lr": 0.01}),
    lambda: (Adam(0.003, (0.8, 0.99), 1e-6), "Adam", {"lr": 0.003, "betas": (0.8, 0.99),
                                                       "eps": 1e-6}),
])
def test_optimisers_match_torch_optim(make):
    torch = pytest.importorskip("torch")
    ours, name, kwargs = make()
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    theirs = getattr(torch.optim, name)(list(tp.values()), **kwargs)
    for _ in range(6):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        ours.step(params, grads)
        for k, t in tp.items():
            t.grad = torch.tensor(grads[k])
        theirs.step()
    for k in params:
        np.testing.assert_allclose(params[k], tp[k].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_bad_optimiser_settings_raise():
    with pytest.raises(ValueError, match="lr=0"):
        SGD(0)
    with pytest.raises(ValueError, match="momentum=1"):
        SGD(0.1, 1)
    with pytest.raises(ValueError, match=r"betas\[1\]=1.5"):
        Adam(0.1, (0.9, 1.5))
    with pytest.raises(ValueError, match="optimizer='rmsprop'"):
        make_optimizer("rmsprop", 0.1)


def _seq2seq():
    m = Seq2Seq.create("gru", "additive", vocab=5, hidden=4, length=4, seed=1)
    rng = np.random.default_rng(3)
    src = rng.integers(0, 5, (6, 4))
    return m, Batch(src, src[:, ::-1])


def test_an_sgd_update_follows_the_finite_difference_gradient():
    """p_1 = p_0 - lr dL/dp, with dL/dp from central differences of the model's loss
    (float64) on the minibatch the trainer drew."""
    m, data = _seq2seq()
    lr = 0.5
    tr = Trainer(m, data, optimizer=SGD(lr, 0.0), batch_size=len(data), seed=0)
    tr.step()
    batch = data  # the whole dataset, in a shuffled order: the mean loss is the same
    eps = 1e-6
    for name, p in m.params.items():
        fd = np.zeros(p.shape)
        for i in np.ndindex(p.shape):
            d = np.zeros(p.shape)
            d[i] = eps
            fd[i] = (m.forward(batch, dict(m.params, **{name: p + d})).loss
                     - m.forward(batch, dict(m.params, **{name: p - d})).loss) / (2 * eps)
        np.testing.assert_allclose(tr.params[name], p - lr * fd, rtol=0, atol=1e-8,
                                   err_msg=name)


def test_norm_clipping_matches_torch_clip_grad_norm():
    torch = pytest.importorskip("torch")
    m, data = _seq2seq()
    tr = Trainer(m, data, optimizer=SGD(1.0, 0.0), batch_size=len(data), clip=0.05)
    loss, grads = m.loss_and_grads(m.params, data)
    tr.step()
    assert tr.clipped == [True]
    ts = [torch.tensor(np.array(g)) for g in grads.values()]
    for t in ts:
        t.grad = t.clone()
    norm = float(torch.nn.utils.clip_grad_norm_(ts, 0.05))
    assert tr.grad_norms[0] == pytest.approx(norm, rel=1e-12)
    for (name, p), t in zip(m.params.items(), ts, strict=True):
        # torch divides by norm + 1e-6; the update here is exactly g * 0.05 / norm
        np.testing.assert_allclose(tr.params[name], p - np.asarray(grads[name]) * 0.05 / norm,
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(tr.params[name], p - t.grad.numpy(), rtol=1e-4)


def test_value_clipping_caps_every_entry():
    m, data = _seq2seq()
    tr = Trainer(m, data, optimizer=SGD(1.0, 0.0), batch_size=len(data), clip=1e-3,
                 clip_mode="value")
    _, grads = m.loss_and_grads(m.params, data)
    tr.step()
    for name, p in m.params.items():
        np.testing.assert_allclose(tr.params[name], p - np.clip(grads[name], -1e-3, 1e-3),
                                   rtol=1e-12, atol=1e-15)
    assert tr.clipped == [True]


def test_same_seed_same_weights_other_seed_other_weights():
    task_model = Linear()

    def train(seed):
        tr = Trainer(task_model, task_model.data, optimizer=Adam(0.05), batch_size=8,
                     seed=seed)
        tr.run(30, every=10)
        return tr.params

    a, b, c = train(1), train(1), train(2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["w"], c["w"])


def test_a_model_without_attention_trains_to_the_answer():
    lin = Linear(seed=4)
    tr = Trainer(lin, lin.data, optimizer=SGD(0.05, 0.9), batch_size=16, seed=0)
    res = tr.run(300, every=100)
    np.testing.assert_allclose(res.params["w"], lin.true_w, atol=1e-6)
    np.testing.assert_allclose(res.params["c"], [0.5], atol=1e-6)
    assert res.losses.shape == (300,) and res.losses[-1] < 1e-10
    assert all(np.isnan(s.accuracy) and s.alignment is None for s in res.snapshots)


def test_snapshots_every_k_updates_and_at_the_end_frozen():
    m, data = _seq2seq()
    tr = Trainer(m, data, batch_size=3, seed=0, eval_batch=data)
    seen = []
    res = tr.run(10, every=3, callback=seen.append)
    assert [s.update for s in seen] == [0, 3, 6, 9, 10]
    assert [s.done for s in seen] == [False] * 4 + [True]
    assert res.snapshots == tuple(seen) and res.updates == 10 and not res.stopped
    s = res.final
    assert isinstance(s, TrainSnapshot)
    assert s.alignment.shape == (4, 4) and not s.alignment.flags.writeable
    assert not s.params["enc.W"].flags.writeable
    assert 0.0 <= s.accuracy <= 1.0 and np.isfinite(s.eval_loss)
    assert s.mean_loss == pytest.approx(np.mean(res.losses[9:10]))
    assert np.isnan(seen[0].loss) and seen[0].params["enc.W"] is not None
    with pytest.raises(AttributeError):
        s.update = 3
    # a second run continues from update 10, with no extra update-0 snapshot
    more = tr.run(4, every=2)
    assert [x.update for x in more.snapshots] == [12, 14] and more.losses.shape == (14,)


def test_dataset_minibatches_cover_each_epoch_once():
    seen = []

    class Counting(Linear):
        def loss_and_grads(self, params, batch):
            seen.extend(batch[0][:, 0].tolist())
            return 0.0, {k: np.zeros_like(v) for k, v in params.items()}

    class Data:
        def __init__(self, n):
            self.X = np.arange(n, dtype=float)[:, None] * np.ones((1, 3))

        def __len__(self):
            return len(self.X)

        def take(self, idx):
            return self.X[idx], np.zeros(len(idx))

    tr = Trainer(Counting(), Data(12), batch_size=4, seed=0)
    tr.run(6, every=6)
    assert sorted(seen[:12]) == list(range(12)) and sorted(seen[12:]) == list(range(12))


def test_stop_from_another_thread_ends_the_run():
    lin = Linear()
    tr = Trainer(lin, lin.data, batch_size=4)
    started = threading.Event()
    out = {}

    def work():
        out["res"] = tr.run(10_000_000, every=50, callback=lambda s: started.set())

    t = threading.Thread(target=work)
    t.start()
    assert started.wait(10)
    tr.stop()
    t.join(10)
    assert not t.is_alive()
    res = out["res"]
    assert res.stopped and 0 < res.updates < 10_000_000 and res.final.done
    assert not tr.stopping  # cleared for the next run
    assert not tr.run(5).stopped


def test_callback_returning_false_stops():
    lin = Linear()
    tr = Trainer(lin, lin.data, batch_size=4)
    res = tr.run(100, every=10, callback=lambda s: s.update < 20)
    assert res.stopped and res.updates == 20


def test_non_finite_gradients_skip_the_update():
    class Exploding(Linear):
        def loss_and_grads(self, params, batch):
            loss, g = super().loss_and_grads(params, batch)
            g["w"] = g["w"] * np.inf
            return loss, g

    model = Exploding()
    for clip in (None, 1.0):
        tr = Trainer(model, model.data, batch_size=4, clip=clip)
        res = tr.run(5, every=5)
        assert res.final.skipped == 5 and not np.isfinite(res.grad_norms).any()
        np.testing.assert_array_equal(res.params["w"], 0.0)


def test_bad_trainer_arguments_raise():
    lin = Linear()
    with pytest.raises(ValueError, match="clip_mode='l1'"):
        Trainer(lin, lin.data, clip=1.0, clip_mode="l1")
    with pytest.raises(ValueError, match="clip=-1"):
        Trainer(lin, lin.data, clip=-1)
    with pytest.raises(ValueError, match="batch_size=0"):
        Trainer(lin, lin.data, batch_size=0)
    with pytest.raises(ValueError, match="model must have"):
        Trainer(object(), lin.data)
    with pytest.raises(ValueError, match="data must be"):
        Trainer(lin, 3)
    with pytest.raises(ValueError, match="every=0"):
        next(Trainer(lin, lin.data).iterate(5, every=0))


def test_task_trainer_builds_a_deterministic_run():
    from gradlab.train import task_trainer

    a = task_trainer("sort", cell="rnn", score=None, hidden=6, length=4, vocab=5,
                     optimizer="sgd", clip=1.0, seed=3, eval_size=10)
    b = task_trainer("sort", cell="rnn", score=None, hidden=6, length=4, vocab=5,
                     optimizer="sgd", clip=1.0, seed=3, eval_size=10)
    assert a.model.score is None and a.trainer.optimizer.lr == 0.1
    assert a.trainer.optimizer.momentum == 0.9 and a.trainer.clip == 1.0
    ra, rb = a.trainer.run(5, every=5), b.trainer.run(5, every=5)
    np.testing.assert_array_equal(ra.losses, rb.losses)
    # without attention the alignment is pinned to the last source step
    np.testing.assert_array_equal(ra.final.alignment[:, -1], 1.0)
    np.testing.assert_array_equal(a.example.src, a.task.example().src)
    with pytest.raises(ValueError, match="optimizer='lbfgs'"):
        task_trainer(optimizer="lbfgs")
