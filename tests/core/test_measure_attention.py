"""The attention layout's Qt-free half: its LabConfig fields, the 'attention' measure
(the untrained model's TrainingFrame) and Session (one training run, frame by frame)."""

import numpy as np
import pytest

from gradlab.config import ATTENTION_FIELDS, FIELDS, LabConfig
from gradlab.lab import Lab
from gradlab.measures import MEASURES
from gradlab.measures.attention import RunSpec, Session
from gradlab.tasks import Task, alignment_share

SMALL = {"length": 6, "vocab": 8, "hidden": 32, "eval_size": 100, "probe_size": 16}


def test_attention_fields_have_metadata_and_defaults():
    c = LabConfig()
    assert (c.task, c.score, c.train_updates) == ("reverse", "additive", 300)
    assert set(ATTENTION_FIELDS) <= set(FIELDS)
    assert FIELDS["score"].choices == ("dot", "scaled_dot", "general", "additive", "cosine",
                                       "location", "none")
    assert FIELDS["task"].choices == ("reverse", "sort", "copy")
    assert c.replace(score="none", task="sort").score == "none"


@pytest.mark.parametrize("field, value, words", [
    ("task", "mirror", r"task='mirror' is not allowed; choose one of \['reverse'"),
    ("score", "dotty", r"score='dotty' is not allowed.*'none'"),
    ("score", None, r"score=None is not allowed"),
    ("train_updates", 5, r"train_updates=5 is out of range; allowed \[10, 5000\]"),
    ("train_updates", 2.5, r"train_updates=2.5 must be an integer"),
])
def test_bad_attention_fields_are_refused_by_name(field, value, words):
    with pytest.raises(ValueError, match=words):
        LabConfig(**{field: value})


def test_the_network_measures_ignore_the_attention_fields_and_it_ignores_theirs():
    for name, m in MEASURES.items():
        if name != "attention":
            assert set(ATTENTION_FIELDS) <= m.ignores, name
    reads = set(FIELDS) - MEASURES["attention"].ignores
    assert reads == {"task", "cell", "score", "seed"}
    lab = Lab()
    a = lab.compute(LabConfig(), ["gradient"])
    assert lab.compute(LabConfig(score="dot", task="copy"), ["gradient"])["gradient"] is \
        a["gradient"]


def test_untrained_frame_from_the_lab():
    c = LabConfig(cell="gru")
    lab = Lab()
    f = lab.compute(c, ["attention"])["attention"]
    T = 8
    assert f.update == 0 and not f.done and f.spec == RunSpec.from_config(c)
    assert f.alignment.shape == f.expected.shape == (T, T)
    np.testing.assert_allclose(f.alignment.sum(axis=1), 1.0)
    np.testing.assert_array_equal(f.expected, np.fliplr(np.eye(T)))  # the anti-diagonal
    np.testing.assert_array_equal(f.target, f.source[::-1])
    assert f.share == pytest.approx(alignment_share(f.alignment, f.expected))
    assert f.share < 0.3  # untrained: spread out
    assert not f.alignment.flags.writeable and not f.losses.flags.writeable
    np.testing.assert_array_equal(f.frame_updates, [0])
    assert len(f.losses) == 0 and np.isnan(f.loss)
    # item 7 at the start: attention level, the last-state path fades towards the start
    assert f.ratio(f.grad_with) < 1.5
    assert f.ratio(f.grad_without) > 10.0
    assert np.argmax(f.grad_without) == T - 1
    # reused while other fields move; recomputed for another run
    assert lab.compute(c.replace(spectral_radius=0.5, train_updates=900),
                       ["attention"])["attention"] is f
    assert lab.compute(c.replace(score="dot"), ["attention"])["attention"] is not f


def test_without_attention_the_alignment_is_pinned_to_the_last_step():
    f = Session(RunSpec(score=None, **SMALL)).frame()
    assert f.grad_with is None and np.isnan(f.ratio(f.grad_with))
    np.testing.assert_array_equal(f.alignment[:, -1], 1.0)
    assert f.ratio(f.grad_without) > 5.0


@pytest.mark.parametrize("task", ["sort", "copy"])
def test_other_tasks_mark_their_pattern(task):
    s = Session(RunSpec(task=task, **SMALL))
    f = s.frame()
    src = s.run.example.src
    np.testing.assert_array_equal(f.expected, Task(task, 8, 6).expected_alignment(src)[0])


def test_session_trains_deterministically_and_keeps_the_history():
    a, b = Session(RunSpec(**SMALL)), Session(RunSpec(**SMALL))
    for _ in range(5):
        a.step()
        b.step()
    fa = a.frame(planned=20)
    for _ in range(3):
        a.step()
    fa2 = a.frame(done=True)
    assert fa.update == 5 and fa.planned == 20 and fa2.update == 8 and fa2.done
    np.testing.assert_array_equal(fa2.frame_updates, [5, 8])
    assert len(fa2.losses) == 8 and fa2.loss == fa2.losses[-1]
    np.testing.assert_array_equal(b.frame().alignment, fa.alignment)  # same seed, same run
    assert fa2.seconds > 0
