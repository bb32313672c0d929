"""One call from settings to a ready trainer: task, encoder-decoder and Trainer together,
with the defaults that train reversal in seconds (what ``gradlab train`` and the lab use).

Defaults: GRU, additive scores, 48 units, sequences of 8 over 10 tokens, Adam with lr 0.01
(SGD: lr 0.1, momentum 0.9), minibatches of 32, no clipping, 500 held-out sequences for
the snapshots and the first held-out sequence as the example whose alignment they carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..seq2seq import Batch, Seq2Seq
from ..tasks import Task
from .optim import make_optimizer
from .trainer import Trainer

DEFAULT_LR = {"adam": 0.01, "sgd": 0.1}


@dataclass(frozen=True, eq=False)
class TaskRun:
    """What ``task_trainer`` built: the task, the model (its starting weights), the trainer
    (which holds the current weights), the held-out evaluation batch and the example."""

    task: Task
    model: Seq2Seq
    trainer: Trainer
    eval_batch: Batch
    example: Batch


def task_trainer(task: str = "reverse", *, cell: str = "gru", score: str | None = "additive",
                 hidden: int = 48, length: int = 8, vocab: int = 10,
                 optimizer: str = "adam", lr: float | None = None, batch_size: int = 32,
                 clip: float | None = None, clip_mode: str = "norm", seed: int = 0,
                 eval_size: int = 500) -> TaskRun:
    """A Trainer for ``task`` ('reverse', 'sort', 'copy') on a fresh ``Seq2Seq`` (``score``
    None: no attention). The model's weights and the minibatches both come from ``seed``."""
    t = Task(task, vocab, length)
    model = Seq2Seq.create(cell, score, vocab=vocab, hidden=hidden, length=length, seed=seed)
    if optimizer not in DEFAULT_LR:
        raise ValueError(f"optimizer={optimizer!r} is not one of {sorted(DEFAULT_LR)}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    eval_batch = t.held_out(eval_size)
    example = t.example()
    trainer = Trainer(model, t.sample, optimizer=make_optimizer(optimizer, lr),
                      batch_size=batch_size, clip=clip, clip_mode=clip_mode, seed=seed,
                      eval_batch=eval_batch, example=example)
    return TaskRun(t, model, trainer, eval_batch, example)
