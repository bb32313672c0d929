"""Gradient clipping with a report: by the global L2 norm, or entry by entry.

clip_by_global_norm is Mikolov's trick as written in Pascanu, Mikolov and Bengio (2013),
Algorithm 1: if the norm of the whole gradient (every parameter array as one vector) is
above a threshold, rescale it to the threshold. The direction is kept; only the step length
is capped. clip_by_value clips each entry to [-limit, limit], which also changes the
direction.

Non-finite gradients. If an entry is inf or nan there is no meaningful rescaling: every
finite entry would be multiplied by 0 (or nan). PyTorch's clip_grad_norm_ then returns nan
gradients (unless error_if_nonfinite). Here the gradients come back unchanged with
``report.finite`` False and ``clipped`` False, so the caller can see the explosion and skip
the update, as mixed-precision trainers do; ``error_if_nonfinite=True`` raises instead.
Finite gradients whose norm alone overflows float64 are still rescaled correctly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kernels import clip as kc


@dataclass(frozen=True)
class ClipReport:
    """What a clipping call did.

    norm_before, norm_after: global L2 norms (inf when the norm exceeds float64's range, nan
    when an entry is nan); clipped: whether anything changed; factor: the rescaling applied
    by clip_by_global_norm (1.0 otherwise); changed: entries changed by clip_by_value
    (every non-zero entry when a global-norm clip happened); finite: every entry was finite.
    """

    norm_before: float
    norm_after: float
    clipped: bool
    factor: float = 1.0
    changed: int = 0
    finite: bool = True


def _arrays(grads) -> dict[str, np.ndarray]:
    params = getattr(grads, "params", grads)  # a Grads object, or a mapping
    if not isinstance(params, Mapping):
        raise TypeError(f"grads must be a mapping name -> array or a Grads, not {type(grads)}")
    out = {}
    for k, v in params.items():
        a = np.asarray(v)
        if a.dtype not in (np.float64, np.float32):
            a = a.astype(np.float64)
        out[k] = a
    return out


def _parts(arrays: Mapping[str, np.ndarray]) -> tuple[float, float]:
    scales, ssqs = [], []
    for a in arrays.values():
        s, q = kc.sum_squares(np.ascontiguousarray(a, dtype=np.float64).ravel())
        scales.append(s)
        ssqs.append(q)
    if not scales:
        return 0.0, 0.0
    return kc.combine(np.array(scales), np.array(ssqs))


def _norm(scale: float, ssq: float) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(scale * np.sqrt(ssq))


def global_norm(grads) -> float:
    """The L2 norm of all arrays together (overflow-safe until the norm itself overflows)."""
    return _norm(*_parts(_arrays(grads)))


def _check_positive(name: str, value) -> float:
    v = float(value)
    if not v > 0:  # also rejects nan
        raise ValueError(f"{name}={value!r} must be positive")
    return v


def clip_by_global_norm(grads, threshold: float, *, error_if_nonfinite: bool = False
                        ) -> tuple[dict[str, np.ndarray], ClipReport]:
    """Rescale all gradients together so their global L2 norm is at most ``threshold``.

    grads: a mapping name -> array, or a Grads (its .params). Returns (new dict, ClipReport);
    the inputs are not modified.
    """
    threshold = _check_positive("threshold", threshold)
    arrays = _arrays(grads)
    scale, ssq = _parts(arrays)
    norm = _norm(scale, ssq)
    if not np.isfinite(scale):
        if error_if_nonfinite:
            raise FloatingPointError(f"the gradient has non-finite entries (norm {norm})")
        out = {k: a.copy() for k, a in arrays.items()}
        return out, ClipReport(norm, norm, False, finite=False)
    if not norm > threshold:
        out = {k: a.copy() for k, a in arrays.items()}
        return out, ClipReport(norm, norm, False)
    # g * threshold / norm, as (g / scale) * (threshold / sqrt(ssq)): no overflow, no subnormal
    inner = threshold / np.sqrt(ssq)
    out = {k: ((a / scale) * inner).astype(a.dtype, copy=False) for k, a in arrays.items()}
    factor = inner / scale
    changed = int(sum(np.count_nonzero(a) for a in arrays.values()))
    return out, ClipReport(norm, global_norm(out), True, float(factor), changed)


def clip_by_value(grads, limit: float) -> tuple[dict[str, np.ndarray], ClipReport]:
    """Clip every gradient entry to [-limit, limit] (nan entries stay nan, inf become +-limit).

    Returns (new dict, ClipReport); the inputs are not modified.
    """
    limit = _check_positive("limit", limit)
    arrays = _arrays(grads)
    finite = all(bool(np.all(np.isfinite(a))) for a in arrays.values())
    out, changed = {}, 0
    for k, a in arrays.items():
        flat = np.ascontiguousarray(a).ravel()
        res = np.empty_like(flat)
        changed += kc.clip_values(flat, flat.dtype.type(limit), res)
        out[k] = res.reshape(a.shape)
    return out, ClipReport(global_norm(arrays), global_norm(out), changed > 0, 1.0, changed,
                           finite)


@dataclass(frozen=True)
class ClipSummary:
    """What global-norm clipping at ``threshold`` would do to a run of U updates (or lags).

    norm_before (U,): each update's gradient norm ||g||.
    norm_after (U,): min(||g||, threshold) for finite gradients (to rounding, when vectors
    were given), ||g|| otherwise.
    factor (U,): threshold / ||g|| where clipped, 1.0 elsewhere; the clipped gradient is
    factor * g, in the same direction.
    clipped (U,) bool: ||g|| > threshold and g finite.
    finite (U,) bool: g (its norm, when only norms were given) is finite.
    share: the fraction of all U updates that are clipped (0.0 for U = 0; non-finite updates
    count as not clipped, as in clip_by_global_norm).
    Small norms pass unchanged: clipping caps exploding gradients and leaves vanishing ones.
    """

    threshold: float
    norm_before: np.ndarray  # (U,)
    norm_after: np.ndarray  # (U,)
    factor: np.ndarray  # (U,)
    clipped: np.ndarray  # (U,) bool
    finite: np.ndarray  # (U,) bool
    share: float


def clip_summary(grads, threshold: float) -> ClipSummary:
    """Norms before and after clipping by global norm, for a sequence of U updates.

    grads is one of: an array (U,) of gradient norms (e.g. the per-lag ||dL/dh_{T-l}|| of
    BPTT; nan / inf count as non-finite); an array (U, d) with one gradient vector per row;
    or a sequence of U gradients, each a mapping name -> array or a Grads (one update's
    gradients, clipped together as in clip_by_global_norm). Rows and mappings go through
    clip_by_global_norm, so a finite gradient whose norm alone overflows is still clipped
    (norm_before inf, factor from the rescaling actually applied).
    """
    threshold = _check_positive("threshold", threshold)
    if isinstance(grads, np.ndarray) or not (
            len(grads) and (isinstance(grads[0], Mapping) or hasattr(grads[0], "params"))):
        a = np.asarray(grads, dtype=np.float64)
        if a.ndim == 1:
            return _summary_of_norms(a, threshold)
        if a.ndim != 2:
            raise ValueError(f"grads has shape {a.shape}; give norms (U,), vectors (U, d) or a "
                             "sequence of gradient mappings")
        items = [{"g": row} for row in a]
    else:
        items = list(grads)
    U = len(items)
    before, after, factor = np.empty(U), np.empty(U), np.ones(U)  # (U,)
    clipped, finite = np.zeros(U, bool), np.zeros(U, bool)  # (U,)
    for i, g in enumerate(items):
        _, report = clip_by_global_norm(g, threshold)
        before[i], finite[i], clipped[i] = report.norm_before, report.finite, report.clipped
        after[i] = report.norm_after
        factor[i] = report.factor
    return _make_summary(threshold, before, after, factor, clipped, finite)


def _summary_of_norms(norms: np.ndarray, threshold: float) -> ClipSummary:
    if np.any(norms < 0):
        raise ValueError(f"grads given as norms must be >= 0, got minimum {np.nanmin(norms)}")
    finite = np.isfinite(norms)  # (U,)
    clipped = finite & (norms > threshold)  # (U,)
    after = np.where(clipped, threshold, norms)  # (U,)
    with np.errstate(divide="ignore"):
        factor = np.where(clipped, threshold / np.where(clipped, norms, 1.0), 1.0)  # (U,)
    return _make_summary(threshold, norms.copy(), after, factor, clipped, finite)


def _make_summary(threshold, before, after, factor, clipped, finite) -> ClipSummary:
    for a in (before, after, factor, clipped, finite):
        a.setflags(write=False)
    share = float(np.count_nonzero(clipped) / clipped.size) if clipped.size else 0.0
    return ClipSummary(threshold, before, after, factor, clipped, finite, share)
