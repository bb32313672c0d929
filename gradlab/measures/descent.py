"""Gradient descent on the Pascanu cliff from the config's start, without and with clipping.

Both runs start at (cliff_w0, cliff_b0) and take ``updates`` steps theta <- theta - lr g:
``plain`` with the raw gradient, ``clipped`` with the gradient clipped at ``clip`` by
``clip_mode`` ('norm': rescaled to the threshold, direction kept; 'value': each component
clipped). With clip = 0 (off) both runs are the same plain descent. Near the ridge the
gradient is huge (it grows like lambda^T), so one raw step can throw the parameters far
out of the plotted region; ``Exit`` says where a path first left it, where it crossed the
edge and where it landed, so the view can point there. ``clip_segments`` cuts a path to the
region for drawing (a point at w = 1e11 is not something to hand a plot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..cliff import B_RANGE, W_RANGE, DescentPath, descend
from ..config import CLIFF_FIELDS, FIELDS
from . import Measure
from .context import Context

BOX = (W_RANGE[0], W_RANGE[1], B_RANGE[0], B_RANGE[1])  # (w_lo, w_hi, b_lo, b_hi)


@dataclass(frozen=True)
class Exit:
    """A path leaving the plotted region. update: the update k (1-based) whose step went
    from points[k-1] (inside) to points[k] (outside); edge (2,): where that step crosses
    the region's border; landed (2,): points[k]; step: ||points[k] - points[k-1]||;
    side: 'left' | 'right' | 'bottom' | 'top', the border crossed; returns: whether a later
    point is inside the region again."""

    update: int
    edge: tuple[float, float]
    landed: tuple[float, float]
    step: float
    side: str
    returns: bool


@dataclass(frozen=True)
class Descent:
    """start (w0, b0); lr; updates k; mode ('norm' | 'value'); threshold (0: clipping off);
    plain, clipped: DescentPath each (points (k+1, 2), losses (k+1,), grads (k, 2),
    norm_before, norm_after, clipped, skipped (k,)); plain_exit, clipped_exit: Exit or None
    (stayed inside); w_range, b_range: the plotted region."""

    start: tuple[float, float]
    lr: float
    updates: int
    mode: str
    threshold: float
    plain: DescentPath
    clipped: DescentPath
    plain_exit: Exit | None
    clipped_exit: Exit | None
    w_range: tuple[float, float] = W_RANGE
    b_range: tuple[float, float] = B_RANGE

    @property
    def clipping(self) -> bool:
        return self.threshold > 0


def _inside(p, box=BOX) -> bool:
    return bool(np.all(np.isfinite(p)) and box[0] <= p[0] <= box[1] and box[2] <= p[1] <= box[3])


def clip_segment(p0, p1, box=BOX) -> tuple[float, float] | None:
    """Liang-Barsky: the part (s0, s1) of the segment p0 + s (p1 - p0), 0 <= s <= 1, inside
    the closed box (w_lo, w_hi, b_lo, b_hi); None if it misses the box."""
    if not (np.all(np.isfinite(p0)) and np.all(np.isfinite(p1))):
        return None
    s0, s1 = 0.0, 1.0
    d = (p1[0] - p0[0], p1[1] - p0[1])
    for axis, lo, hi in ((0, box[0], box[1]), (1, box[2], box[3])):
        if d[axis] == 0.0:
            if not lo <= p0[axis] <= hi:
                return None
            continue
        a, b = (lo - p0[axis]) / d[axis], (hi - p0[axis]) / d[axis]
        s0, s1 = max(s0, min(a, b)), min(s1, max(a, b))
        if s0 > s1:
            return None
    return s0, s1


def clip_segments(points: np.ndarray, box=BOX) -> np.ndarray:
    """The path ``points`` (k+1, 2) cut to the box, as segment end pairs (2k, 2): rows 2i,
    2i+1 are update i+1's step inside the box (nan rows where it lies wholly outside), for
    a plot with connect='pairs'."""
    k = max(len(points) - 1, 0)
    out = np.full((2 * k, 2), np.nan)  # (2k, 2)
    for i in range(k):
        p0, p1 = points[i], points[i + 1]
        part = clip_segment(p0, p1, box)
        if part is None:
            continue
        s0, s1 = part
        out[2 * i] = p0 + s0 * (p1 - p0)
        out[2 * i + 1] = p0 + s1 * (p1 - p0)
    return out


def first_exit(points: np.ndarray, box=BOX) -> Exit | None:
    """Where the path ``points`` (k+1, 2) first leaves the box (None if it never does)."""
    inside = np.array([_inside(p, box) for p in points])  # (k+1,)
    if inside.all() or not inside[0]:
        return None
    k = int(np.argmin(inside))
    p0, p1 = points[k - 1], points[k]
    s1 = clip_segment(p0, p1, box)[1] if np.all(np.isfinite(p1)) else 0.0
    edge = p0 + s1 * (p1 - p0) if np.all(np.isfinite(p1)) else p0
    lo_hi = ((edge[0] - box[0], "left"), (box[1] - edge[0], "right"),
             (edge[1] - box[2], "bottom"), (box[3] - edge[1], "top"))
    side = min(lo_hi)[1]
    with np.errstate(over="ignore", invalid="ignore"):
        step = float(math.hypot(*(p1 - p0)))
    return Exit(k, (float(edge[0]), float(edge[1])), (float(p1[0]), float(p1[1])), step,
                side, bool(inside[k:].any()))


def compute(ctx: Context) -> Descent:
    c = ctx.config
    start = (float(c.cliff_w0), float(c.cliff_b0))
    with np.errstate(all="ignore"):
        plain = descend(*start, lr=c.lr, updates=c.updates)
        clipped = plain if c.clip <= 0 else descend(
            *start, lr=c.lr, updates=c.updates, clip=(c.clip_mode, c.clip))
    return Descent(start, float(c.lr), int(c.updates), c.clip_mode, float(c.clip), plain,
                   clipped, first_exit(plain.points), first_exit(clipped.points))


MEASURE = Measure("descent", "cheap", compute,
                  frozenset(FIELDS) - frozenset(CLIFF_FIELDS) - {"clip"},
                  "gradient descent on the cliff from the start, without and with clipping")
