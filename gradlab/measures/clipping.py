"""Clipping in the main lab: what clipping by global norm does to this experiment's gradient.

The update is the gradient of the loss with respect to every weight; clipping by global
norm rescales it to norm c when its norm exceeds c: g <- g * min(1, c / ||g||). It caps
the step and keeps its direction, and it scales every lag's share alike, so the shape of
the gradient-against-lag curve (vanishing included) does not change. The share of updates
that would be clipped is taken over a batch of input sequences drawn like the lab's own
(``gradlab.clip.clip_summary`` of their gradient norms). Clipping here is always by global
norm (``clip_mode`` only concerns the cliff).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..clip import ClipSummary, clip_by_global_norm, clip_summary, global_norm
from ..ops import backward, forward
from . import Measure
from .context import Context

BATCH = 16  # input sequences for the share of clipped updates


@dataclass(frozen=True)
class Clipping:
    """threshold (0: off); norm_before, norm_after: global norm of the parameter gradient
    of the lab's own sequence; scale = norm_after / norm_before; batch_norms (BATCH,)
    global norms over a batch of sequences; share_clipped: fraction of those above the
    threshold (0 when off); batch: clip_summary of batch_norms at the threshold (norms
    before / after, factors, clipped flags; None when off)."""

    threshold: float
    norm_before: float
    norm_after: float
    scale: float
    batch_norms: np.ndarray
    share_clipped: float
    batch: ClipSummary | None = None


def compute(ctx: Context) -> Clipping:
    c = ctx.config
    with np.errstate(all="ignore"):
        before = global_norm(ctx.grads.params)
        rng = np.random.default_rng([c.seed, 2])
        per_seq = np.empty(BATCH)  # (BATCH,)
        for k in range(BATCH):  # one sequence per update: its own gradient norm
            xb = c.input_scale * rng.standard_normal((c.steps, c.inputs))  # (T, m)
            per_seq[k] = global_norm(backward(ctx.params, forward(ctx.params, xb),
                                              ctx.dh).params)
    batch = clip_summary(per_seq, c.clip) if c.clip > 0 else None
    if c.clip > 0 and np.isfinite(before):
        _, report = clip_by_global_norm(ctx.grads.params, c.clip)
        after = float(report.norm_after)
        share = batch.share
    else:
        after, share = before, 0.0
    scale = after / before if before > 0 and np.isfinite(before) else 1.0
    return Clipping(float(c.clip), float(before), float(after), float(scale), per_seq, share,
                    batch)


MEASURE = Measure("clipping", "expensive", compute, frozenset({"cursor"}),
                  "gradient norm before and after clipping, share of clipped updates")
