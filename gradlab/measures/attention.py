"""Attention measure: the encoder-decoder of the attention layout, as it learns a toy task.

A config's ``task``, ``cell``, ``score`` and ``seed`` describe one training run (``RunSpec``:
``gradlab.train.task_trainer`` with the lab's model sizes). ``Session`` holds that run and
trains it one minibatch update at a time; ``Session.frame()`` evaluates the current weights
and returns a ``TrainingFrame``, everything the three attention panels draw:

- the alignment a_{q,t} (Q, T) of the fixed example under greedy decoding, the pattern the
  task implies (the anti-diagonal for reversal) and the share of the mass on it;
- the curves so far: minibatch loss per update, held-out loss and exact-match accuracy
  per frame;
- ||dL/dh_j|| per source position j, with attention and through the last encoder state
  only (``gradlab.seq2seq.encoder_gradients``, the same weights), on a few held-out
  sequences.

The registered measure ('attention') is the untrained model's frame (update 0), so the
layout has a picture before any training; ``gradlab.app.training`` runs a Session off the
GUI thread and hands the panels a new frame every few hundred milliseconds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..config import LabConfig
from ..seq2seq import encoder_gradients
from ..tasks import alignment_share
from ..train import task_trainer
from . import Measure
from .context import Context

# the lab's model: reversal of 8 tokens over 10 symbols learns in a few hundred updates
LENGTH, VOCAB, HIDDEN = 8, 10, 48
EVAL_SIZE = 200  # held-out sequences behind the accuracy curve
PROBE_SIZE = 32  # held-out sequences behind the encoder-gradient curves
READS = ("task", "cell", "score", "seed")  # the LabConfig fields a run depends on


def _frozen(a) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class RunSpec:
    """One training run: the task, the cell, the score (None: no attention), the seed, the
    model's sizes and the evaluation sizes. ``RunSpec.from_config(config)`` reads a
    LabConfig; tests pass smaller sizes."""

    task: str = "reverse"
    cell: str = "gru"
    score: str | None = "additive"
    seed: int = 0
    length: int = LENGTH
    vocab: int = VOCAB
    hidden: int = HIDDEN
    eval_size: int = EVAL_SIZE
    probe_size: int = PROBE_SIZE

    @classmethod
    def from_config(cls, config, **sizes) -> RunSpec:
        score = None if config.score == "none" else config.score
        return cls(config.task, config.cell, score, config.seed, **sizes)

    def build(self):
        """A fresh ``gradlab.train.TaskRun`` (model, trainer, held-out batch, example)."""
        return task_trainer(self.task, cell=self.cell, score=self.score, hidden=self.hidden,
                            length=self.length, vocab=self.vocab, seed=self.seed,
                            eval_size=self.eval_size)


@dataclass(frozen=True, eq=False)
class TrainingFrame:
    """The state of one run after ``update`` updates (0: untrained). Arrays are read-only.

    spec: the RunSpec; seconds: training time so far; loss: minibatch loss of the last
    update (nan at 0); eval_loss, accuracy: teacher-forced loss and exact-match share on the
    held-out batch; source (T,), target (Q,), decoded (Q,): the example's tokens and the
    greedy decoding of it; alignment (Q, T): the attention weights of that decoding (one-hot
    on t = T without attention); expected (Q, T): 0/1, where the task says step q should
    look; share: the alignment's mass on the expected pattern (``tasks.alignment_share``);
    losses (N,): minibatch loss of every update so far; frame_updates, frame_accuracy,
    frame_eval_loss (K,): one entry per frame so far, this one included; positions (T,) =
    1..T; grad_with (T,) or None (no attention), grad_without (T,): mean ||dL/dh_j|| per
    source position with attention and through the last state only; done: the run reached
    its number of updates; planned: the run's number of updates (0: not known).
    """

    spec: RunSpec
    update: int
    seconds: float
    loss: float
    eval_loss: float
    accuracy: float
    source: np.ndarray  # (T,)
    target: np.ndarray  # (Q,)
    decoded: np.ndarray  # (Q,)
    alignment: np.ndarray  # (Q, T)
    expected: np.ndarray  # (Q, T)
    share: float
    losses: np.ndarray  # (N,)
    frame_updates: np.ndarray  # (K,)
    frame_accuracy: np.ndarray  # (K,)
    frame_eval_loss: np.ndarray  # (K,)
    positions: np.ndarray  # (T,)
    grad_with: np.ndarray | None  # (T,)
    grad_without: np.ndarray  # (T,)
    done: bool = False
    planned: int = 0

    @property
    def correct(self) -> np.ndarray:
        """(Q,) bools: decoded token q is the target's."""
        return self.decoded == self.target

    def ratio(self, curve: np.ndarray | None) -> float:
        """max/min of a gradient curve (1: level; large: it decays)."""
        if curve is None:
            return float("nan")
        return float(curve.max() / curve.min())


def _position_norms(model, batch) -> np.ndarray:
    """Mean over sequences of ||dL_b/dh_j|| (L_b one sequence's loss), (T,)."""
    g = model.backward(model.forward(batch))
    return len(batch) * np.linalg.norm(g.H, axis=2).mean(axis=0)  # (T,)


class Session:
    """One run of ``spec``: ``step()`` makes one update, ``frame()`` evaluates the weights.
    Not thread-safe: one thread drives a Session (the app's training thread)."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.run = spec.build()
        self.trainer = self.run.trainer
        self.probe = self.run.eval_batch.take(slice(0, spec.probe_size))
        ex = self.run.example
        self.expected = _frozen(self.run.task.expected_alignment(ex.src)[0])  # (Q, T)
        self._updates: list[int] = []
        self._accuracy: list[float] = []
        self._eval_loss: list[float] = []

    @property
    def update(self) -> int:
        return self.trainer.update

    def step(self) -> float:
        """One minibatch update; returns its loss."""
        t0 = time.perf_counter()
        loss = self.trainer.step()
        self.trainer.seconds += time.perf_counter() - t0
        return loss

    def frame(self, done: bool = False, planned: int = 0) -> TrainingFrame:
        """Evaluate the current weights (held-out accuracy, the example's decoding and
        alignment, the encoder-gradient curves) and add a point to the curves."""
        tr, run = self.trainer, self.run
        params = tr.frozen_params()
        model = run.model.with_params(params)
        ev = model.evaluate(params, run.eval_batch)
        ex = run.example
        dec = model.decode(ex.src, params, targets=ex.tgt)
        alignment = dec.alignment[0]  # (Q, T)
        if model.attention:
            curves = encoder_gradients(model, self.probe)
            grad_with, grad_without = curves.with_attention, curves.without_attention
        else:
            grad_with, grad_without = None, _position_norms(model, self.probe)
        if not self._updates or self._updates[-1] != tr.update:
            self._updates.append(tr.update)
            self._accuracy.append(float(ev.exact_match))
            self._eval_loss.append(float(ev.loss))
        return TrainingFrame(
            spec=self.spec,
            update=tr.update,
            seconds=tr.seconds,
            loss=tr.losses[-1] if tr.losses else float("nan"),
            eval_loss=float(ev.loss),
            accuracy=float(ev.exact_match),
            source=_frozen(ex.src[0]),
            target=_frozen(ex.tgt[0]),
            decoded=_frozen(dec.tokens[0]),
            alignment=_frozen(alignment),
            expected=self.expected,
            share=alignment_share(alignment, self.expected),
            losses=_frozen(np.asarray(tr.losses, dtype=np.float64)),
            frame_updates=_frozen(np.asarray(self._updates, dtype=np.int64)),
            frame_accuracy=_frozen(np.asarray(self._accuracy)),
            frame_eval_loss=_frozen(np.asarray(self._eval_loss)),
            positions=_frozen(np.arange(1, self.spec.length + 1)),
            grad_with=None if grad_with is None else _frozen(grad_with),
            grad_without=_frozen(grad_without),
            done=done,
            planned=int(planned),
        )


def untrained(config) -> TrainingFrame:
    """The frame of ``config``'s run before any update."""
    return Session(RunSpec.from_config(config)).frame()


def compute(ctx: Context) -> TrainingFrame:
    return untrained(ctx.config)


MEASURE = Measure("attention", "expensive", compute,
                  frozenset(f.name for f in dataclasses.fields(LabConfig)) - frozenset(READS),
                  "the attention layout's encoder-decoder before training")
