"""Trainer: minibatch gradient descent on any model with ``params`` and ``loss_and_grads``.

A model provides
    params: Mapping[str, ndarray]                          the starting weights
    loss_and_grads(params, batch) -> (loss, {name: dL/dparam})
and optionally
    evaluate(params, batch) -> object with .loss, .accuracy and .alignment (or None)
which the snapshots use on a fixed evaluation batch (``gradlab.seq2seq.Seq2Seq`` has all
three). Each update:

    batch  = next minibatch (from the seeded Generator)
    L, g   = model.loss_and_grads(params, batch)
    g      = clip(g)           by global norm (g * X / ||g|| if ||g|| > X) or by value
    params = optimiser(params, g)        skipped when g has inf or nan entries

Deterministic: the same model, data, optimiser settings and seed give the same weights.
``iterate``/``run`` hand out a frozen TrainSnapshot every ``every`` updates; ``stop()``,
from any thread, ends a run after the current update (the lab trains off the GUI thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ..clip import clip_by_global_norm, clip_by_value, global_norm
from .optim import Adam

CLIP_MODES = ("norm", "value")


def _frozen(a) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class TrainSnapshot:
    """The state of training after ``update`` updates (0 = before the first).

    loss: minibatch loss of the last update (nan at update 0); mean_loss: mean minibatch
    loss since the previous snapshot; grad_norm: global norm of the last gradient before
    clipping; clipped: whether the last update was clipped; clipped_share: share of the
    updates since the previous snapshot that were clipped; skipped: updates skipped so far
    for non-finite gradients; eval_loss, accuracy: on the evaluation batch (nan without
    one); alignment (Q, T): the attention weights on the fixed evaluation example, or None;
    evaluation: the model's full evaluation object, or None; params: read-only copy of the
    weights; seconds: training time so far; done: the last snapshot of a run.
    """

    update: int
    loss: float
    mean_loss: float
    grad_norm: float
    clipped: bool
    clipped_share: float
    skipped: int
    eval_loss: float
    accuracy: float
    alignment: np.ndarray | None
    evaluation: Any
    params: Mapping[str, np.ndarray]
    seconds: float
    done: bool = False


@dataclass(frozen=True, eq=False)
class TrainResult:
    """A finished (or stopped) run: params (read-only), updates done in total, per-update
    histories losses, grad_norms (before clipping) and clipped (N,) over all runs of the
    trainer so far, the run's snapshots, stopped (ended by stop()) and seconds."""

    params: Mapping[str, np.ndarray]
    updates: int
    losses: np.ndarray  # (N,)
    grad_norms: np.ndarray  # (N,)
    clipped: np.ndarray  # (N,)
    snapshots: tuple[TrainSnapshot, ...]
    stopped: bool
    seconds: float

    @property
    def final(self) -> TrainSnapshot:
        return self.snapshots[-1]


class Trainer:
    """Trains ``model`` on ``data``.

    data: a callable ``data(rng, size) -> batch`` (e.g. ``Task.sample``), or a dataset with
    ``len()`` and ``take(indices)`` (e.g. a ``Batch``), read in reshuffled epochs.
    optimizer: ``Adam`` (default, lr 1e-2) or ``SGD``; clip: threshold X or None;
    clip_mode 'norm' (global norm) or 'value' (each entry to [-X, X]); batch_size: B;
    seed: for the minibatch Generator; eval_batch: what snapshots evaluate on (with
    ``model.evaluate``); example: the fixed example whose alignment snapshots carry
    (default: the first sequence of eval_batch).
    """

    def __init__(self, model, data, *, optimizer=None, batch_size: int = 32,
                 clip: float | None = None, clip_mode: str = "norm", seed: int = 0,
                 eval_batch=None, example=None):
        if not hasattr(model, "params") or not hasattr(model, "loss_and_grads"):
            raise ValueError("model must have params and loss_and_grads(params, batch)")
        if not (callable(data) or (hasattr(data, "take") and hasattr(data, "__len__"))):
            raise ValueError("data must be a callable data(rng, size) or a dataset with "
                             "len() and take(indices)")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
        if clip_mode not in CLIP_MODES:
            raise ValueError(f"clip_mode={clip_mode!r} is not one of {CLIP_MODES}")
        if clip is not None and not float(clip) > 0:
            raise ValueError(f"clip={clip!r} must be a positive threshold or None")
        self.model = model
        self.data = data
        self.optimizer = Adam() if optimizer is None else optimizer
        self.batch_size = int(batch_size)
        self.clip = None if clip is None else float(clip)
        self.clip_mode = clip_mode
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.eval_batch = eval_batch
        self.example = example
        if example is None and eval_batch is not None and hasattr(eval_batch, "take"):
            self.example = eval_batch.take(0)
        self.params = {k: np.array(v, copy=True) for k, v in model.params.items()}
        self.update = 0
        self.skipped = 0
        self.seconds = 0.0
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.clipped: list[bool] = []
        self._order = np.empty(0, np.int64)
        self._stop = threading.Event()

    # -- control ------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask a running ``iterate``/``run`` (in any thread) to end after the current
        update. A stop that arrives between runs ends the next run before its first
        update; the flag clears when a run ends."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- one update ---------------------------------------------------------------------

    def _next_batch(self):
        if callable(self.data):
            return self.data(self.rng, self.batch_size)
        N = len(self.data)
        if len(self._order) < self.batch_size:
            self._order = np.concatenate([self._order, self.rng.permutation(N)])
        idx, self._order = self._order[:self.batch_size], self._order[self.batch_size:]
        return self.data.take(idx)

    def _clip(self, grads):
        """(clipped grads, norm before, clipped?, finite?)."""
        if self.clip is None:
            norm = global_norm(grads)
            return grads, norm, False, bool(np.isfinite(norm))
        if self.clip_mode == "norm":
            out, rep = clip_by_global_norm(grads, self.clip)
        else:
            out, rep = clip_by_value(grads, self.clip)
        finite = rep.finite and bool(np.isfinite(rep.norm_before))
        return out, rep.norm_before, rep.clipped, finite

    def step(self) -> float:
        """One update; returns its minibatch loss."""
        batch = self._next_batch()
        loss, grads = self.model.loss_and_grads(self.params, batch)
        grads, norm, clipped, finite = self._clip(grads)
        if finite and np.isfinite(loss):
            self.optimizer.step(self.params, grads)
        else:
            self.skipped += 1
        self.update += 1
        self.losses.append(float(loss))
        self.grad_norms.append(float(norm))
        self.clipped.append(bool(clipped))
        return float(loss)

    # -- snapshots and runs -------------------------------------------------------------

    def frozen_params(self) -> Mapping[str, np.ndarray]:
        """A read-only copy of the current weights."""
        return MappingProxyType({k: _frozen(v) for k, v in self.params.items()})

    def snapshot(self, since: int = 0, done: bool = False) -> TrainSnapshot:
        """The current state (``since``: update of the previous snapshot, for the means)."""
        params = self.frozen_params()
        ev, alignment = None, None
        evaluate = getattr(self.model, "evaluate", None)
        if evaluate is not None and self.eval_batch is not None:
            ev = evaluate(params, self.eval_batch)
            if self.example is not None:
                ex = evaluate(params, self.example)
                alignment = getattr(ex, "alignment", None)
            else:
                alignment = getattr(ev, "alignment", None)
        window = slice(since, self.update) if self.update > since else slice(0, 0)
        losses = np.asarray(self.losses[window])
        clipped = np.asarray(self.clipped[window], dtype=bool)
        last = self.update > 0
        return TrainSnapshot(
            update=self.update,
            loss=self.losses[-1] if last else float("nan"),
            mean_loss=float(losses.mean()) if losses.size else float("nan"),
            grad_norm=self.grad_norms[-1] if last else float("nan"),
            clipped=self.clipped[-1] if last else False,
            clipped_share=float(clipped.mean()) if clipped.size else 0.0,
            skipped=self.skipped,
            eval_loss=float(getattr(ev, "loss", np.nan)) if ev is not None else float("nan"),
            accuracy=float(getattr(ev, "accuracy", np.nan)) if ev is not None else float("nan"),
            alignment=None if alignment is None else _frozen(alignment),
            evaluation=ev,
            params=params,
            seconds=self.seconds,
            done=done,
        )

    def iterate(self, updates: int, every: int = 100) -> Iterator[TrainSnapshot]:
        """Run ``updates`` more updates, yielding a snapshot every ``every`` updates and
        after the last one (``done`` True); a fresh trainer first yields update 0. Ends
        early after ``stop()``."""
        if not isinstance(updates, (int, np.integer)) or updates < 0:
            raise ValueError(f"updates={updates!r} must be a non-negative integer")
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every={every!r} must be a positive integer")
        try:
            start = since = self.update
            if self.update == 0:
                yield self.snapshot(0, done=updates == 0)
                if updates == 0:
                    return
            while self.update - start < updates and not self._stop.is_set():
                t0 = time.perf_counter()
                self.step()
                self.seconds += time.perf_counter() - t0
                done = self.update - start
                if done % every == 0 and done < updates and not self._stop.is_set():
                    yield self.snapshot(since)
                    since = self.update
            yield self.snapshot(since, done=True)
        finally:
            self._stop.clear()

    def run(self, updates: int, every: int = 100,
            callback: Callable[[TrainSnapshot], Any] | None = None) -> TrainResult:
        """Train ``updates`` updates; ``callback(snapshot)`` every ``every`` updates (return
        False from it to stop). Returns the TrainResult."""
        snaps = []
        stopped = False
        for snap in self.iterate(updates, every):
            snaps.append(snap)
            if self._stop.is_set():
                stopped = True
            if callback is not None and callback(snap) is False:
                stopped = True
                self.stop()
        if snaps and not snaps[-1].done:
            stopped = True
        return self.result(tuple(snaps), stopped)

    def result(self, snapshots: tuple[TrainSnapshot, ...] = (), stopped: bool = False
               ) -> TrainResult:
        """The histories so far with the current weights."""
        return TrainResult(self.frozen_params(), self.update,
                           _frozen(np.asarray(self.losses, dtype=np.float64)),
                           _frozen(np.asarray(self.grad_norms, dtype=np.float64)),
                           _frozen(np.asarray(self.clipped, dtype=bool)),
                           tuple(snapshots), stopped, self.seconds)
