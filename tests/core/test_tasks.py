"""Toy tasks: targets, implied alignments, the held-out split, and a reduced reversal run
that learns (the full >99% check is the ``gradlab train`` benchmark run, not a test)."""

import numpy as np
import pytest

from gradlab.seq2seq import Seq2Seq
from gradlab.tasks import TASKS, Task, alignment_hits, alignment_share
from gradlab.train import Adam, Trainer


def test_targets_and_implied_alignments():
    src = np.array([[3, 1, 4, 0]])
    rev, srt, cpy = (Task(name, 5, 4) for name in ("reverse", "sort", "copy"))
    np.testing.assert_array_equal(rev.target(src), [[0, 4, 1, 3]])
    np.testing.assert_array_equal(srt.target(src), [[0, 1, 3, 4]])
    np.testing.assert_array_equal(cpy.target(src), src)
    np.testing.assert_array_equal(rev.expected_alignment(src)[0], np.eye(4)[::-1])
    np.testing.assert_array_equal(cpy.expected_alignment(src)[0], np.eye(4))
    # sort: target step q reads the source step holding the q-th smallest token
    E = srt.expected_alignment(src)[0]
    np.testing.assert_array_equal(E.argmax(axis=1), [3, 1, 0, 2])
    for task in (rev, srt, cpy):  # the implied alignment reproduces the target
        E = task.expected_alignment(src)
        np.testing.assert_array_equal(np.einsum("bqt,bt->bq", E, src), task.target(src))


@pytest.mark.parametrize("name", TASKS)
def test_held_out_sequences_never_appear_in_training_batches(name):
    task = Task(name, 10, 6)
    rng = np.random.default_rng(0)
    train = task.sample(rng, 4000)
    held = task.held_out(500)
    assert not task.held_out_mask(train.src).any() and task.held_out_mask(held.src).all()
    assert not set(map(bytes, train.src)) & set(map(bytes, held.src))
    np.testing.assert_array_equal(held.tgt, task.target(held.src))
    np.testing.assert_array_equal(task.held_out(500).src, held.src)  # fixed
    assert 0.05 < task.held_out_mask(task._draw(rng, 20000)).mean() < 0.15
    assert task.example().src.shape == (1, 6)
    if name == "sort":  # distinct tokens, so the permutation is unique
        assert all(len(set(row)) == 6 for row in train.src)


def test_alignment_measures():
    E = np.eye(3)[::-1]
    assert alignment_share(E, E) == 1.0 and alignment_hits(E, E) == 1.0
    U = np.full((3, 3), 1 / 3)
    assert alignment_share(U, E) == pytest.approx(1 / 3)
    soft = 0.6 * E + 0.2 * np.roll(E, 1, axis=1) + 0.2 * np.roll(E, -1, axis=1)
    assert alignment_share(soft, E) == pytest.approx(0.6) and alignment_hits(soft, E) == 1.0
    with pytest.raises(ValueError, match="one shape"):
        alignment_share(E, np.eye(4))


def test_bad_task_settings_raise():
    with pytest.raises(ValueError, match="task='shuffle'"):
        Task("shuffle")
    with pytest.raises(ValueError, match="length=1"):
        Task("reverse", 5, 1)
    with pytest.raises(ValueError, match="vocab=5 must be at least length=8"):
        Task("sort", 5, 8)
    with pytest.raises(ValueError, match="size=0"):
        Task().sample(np.random.default_rng(0), 0)


def test_reversal_learns_with_an_anti_diagonal_alignment():
    """Reduced setting (length 6, 8 tokens, 32 units, 400 updates): a few seconds."""
    task = Task("reverse", 8, 6)
    model = Seq2Seq.create("gru", "additive", vocab=8, hidden=32, length=6, seed=0)
    held = task.held_out(300)
    tr = Trainer(model, task.sample, optimizer=Adam(0.01), batch_size=32, clip=5.0, seed=0,
                 eval_batch=held)
    res = tr.run(400, every=200)
    assert res.final.accuracy > 0.95
    dec = model.decode(held.src, res.params, targets=held.tgt)
    assert dec.exact.mean() == res.final.accuracy
    assert alignment_share(dec.alignment, task.expected_alignment(held.src)) > 0.85
    assert alignment_hits(res.final.alignment, task.expected_alignment(task.example().src)[0]) \
        == 1.0
    assert res.losses[-50:].mean() < 0.1 * res.losses[:50].mean()
