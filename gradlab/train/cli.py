"""``gradlab train TASK``: train an encoder-decoder headless, save the run, print metrics.

    gradlab train reverse [--cell gru] [--score additive|none] [--clip X] [--clip-mode norm]
                  [--updates N] [--seed S] [--optimizer adam] [--lr X] [--batch B]
                  [--hidden n] [--length T] [--vocab k] [--every K] --save run.npz [--json]

A progress bar goes to stderr. The .npz holds the weights (``param/<name>``), the
per-update histories (``loss``, ``grad_norm``, ``clipped``), the held-out accuracy curve
(``snapshot_update``, ``snapshot_accuracy``, ``snapshot_seconds`` = training time), the
evaluation example (``example_src``, ``example_tgt``), its alignment (Q, T) for attention
models (``alignment``), and the settings and final metrics as JSON text (``config``,
``metrics``). ``--json`` prints the final metrics as one JSON object on stdout: exact
match and token accuracy under greedy decoding on held-out sequences, the alignment's
share of mass and of row maxima on the pattern the task implies, the first snapshot
update (and training seconds) with exact match above 0.99, and more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from ..attention import SCORES
from .optim import OPTIMIZERS

CELL_NAMES = ("rnn", "lstm", "gru")


def _cells() -> tuple[str, ...]:
    try:
        from ..cells import CELLS  # the registry, where present
    except ImportError:
        return CELL_NAMES
    return tuple(CELLS)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative integer")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return v


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to an argparse subparsers object; returns its parser."""
    from ..tasks import TASKS

    p = subparsers.add_parser("train", help="train an encoder-decoder on a toy task, headless")
    p.add_argument("task", choices=TASKS, help="the task")
    p.add_argument("--cell", choices=_cells(), default="gru", help="encoder/decoder cell")
    p.add_argument("--score", choices=(*SCORES, "none"), default="additive",
                   help="attention score, or none (the decoder sees the last state only)")
    p.add_argument("--clip", type=_positive_float, default=None, metavar="X",
                   help="clip threshold (default: no clipping)")
    p.add_argument("--clip-mode", choices=("norm", "value"), default="norm")
    p.add_argument("--updates", type=_count, default=1000, metavar="N")
    p.add_argument("--seed", type=_count, default=0, metavar="S")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default 0.01 for adam, 0.1 for sgd)")
    p.add_argument("--batch", type=_positive_int, default=32, metavar="B")
    p.add_argument("--hidden", type=_positive_int, default=48, metavar="n")
    p.add_argument("--length", type=_positive_int, default=8, metavar="T")
    p.add_argument("--vocab", type=_positive_int, default=10, metavar="k")
    p.add_argument("--every", type=_positive_int, default=100, metavar="K",
                   help="evaluate on held-out sequences every K updates")
    p.add_argument("--eval-size", type=_positive_int, default=500, metavar="M")
    p.add_argument("--save", required=True, metavar="RUN.npz", help="where to save the run")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def _bar(done: int, total: int, text: str, width: int = 30) -> str:
    filled = width if total == 0 else int(width * done / total)
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {text}"


def run(args) -> int:
    """Carry out ``gradlab train`` for parsed ``args``; returns the exit code.
    Bad settings raise ValueError (the caller prints it as one line)."""
    from ..tasks import alignment_hits, alignment_share
    from .setup import task_trainer

    save = os.fspath(args.save)
    if not save.endswith(".npz"):
        raise ValueError(f"--save {save!r} must name an .npz file")
    folder = os.path.dirname(os.path.abspath(save))
    if not os.path.isdir(folder):
        raise ValueError(f"--save {save!r}: folder {folder!r} does not exist")
    score = None if args.score == "none" else args.score
    setup = task_trainer(args.task, cell=args.cell, score=score, hidden=args.hidden,
                         length=args.length, vocab=args.vocab, optimizer=args.optimizer,
                         lr=args.lr, batch_size=args.batch, clip=args.clip,
                         clip_mode=args.clip_mode, seed=args.seed, eval_size=args.eval_size)
    task, model, trainer = setup.task, setup.model, setup.trainer
    eval_batch, example = setup.eval_batch, setup.example
    lr = trainer.optimizer.lr
    snaps = []
    for snap in trainer.iterate(args.updates, every=args.every):
        snaps.append(snap)
        if args.progress:
            print(_bar(snap.update, args.updates,
                       f"loss {snap.mean_loss:.3f} acc {snap.accuracy:.3f} "
                       f"{snap.seconds:.1f}s"), end="", file=sys.stderr, flush=True)
    if args.progress:
        print(file=sys.stderr)
    result = trainer.result(tuple(snaps))
    final = result.final
    decoded = model.decode(eval_batch.src, result.params, targets=eval_batch.tgt)
    expected = task.expected_alignment(eval_batch.src)
    share = alignment_share(decoded.alignment, expected)
    hits = alignment_hits(decoded.alignment, expected)
    reached = [s for s in snaps if s.accuracy > 0.99]
    metrics = {
        "task": args.task, "cell": args.cell, "score": args.score, "updates": result.updates,
        "seed": args.seed, "loss": float(np.mean(result.losses[-args.every:]))
        if result.updates else None,
        "eval_loss": final.eval_loss, "exact_match": final.accuracy,
        "token_accuracy": final.evaluation.decoded_token_accuracy,
        "alignment_share": share if score is not None else None,
        "alignment_hits": hits if score is not None else None,
        "updates_to_99": reached[0].update if reached else None,
        "seconds_to_99": round(reached[0].seconds, 3) if reached else None,
        "clipped_share": float(result.clipped.mean()) if result.updates else 0.0,
        "skipped": final.skipped, "train_seconds": round(result.seconds, 3),
        "eval_size": args.eval_size,
    }
    config = {k: getattr(args, k) for k in ("task", "cell", "score", "clip", "clip_mode",
                                             "updates", "seed", "optimizer", "batch",
                                             "hidden", "length", "vocab", "every")}
    config["lr"] = lr
    arrays = {f"param/{k}": np.asarray(v) for k, v in result.params.items()}
    arrays.update(loss=result.losses, grad_norm=result.grad_norms, clipped=result.clipped,
                  snapshot_update=np.array([s.update for s in snaps]),
                  snapshot_accuracy=np.array([s.accuracy for s in snaps]),
                  snapshot_seconds=np.array([s.seconds for s in snaps]),
                  example_src=example.src[0], example_tgt=example.tgt[0],
                  config=np.array(json.dumps(config)), metrics=np.array(json.dumps(metrics)))
    if score is not None:
        arrays["alignment"] = final.alignment
    np.savez(save, **arrays)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"{args.task}: exact match {final.accuracy:.3f} on {args.eval_size} held-out "
              f"sequences after {result.updates} updates ({result.seconds:.1f} s); "
              f"saved {save}", file=sys.stderr)
    return 0
