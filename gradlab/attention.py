"""Attention over encoder states: attend (scores, weights, context) and its backward pass.

A decoder state s looks at the encoder states h_1..h_T: each gets a score e_t, the softmax
of the scores gives weights a_t (they sum to one), and the context sum_t a_t h_t is what
the decoder reads. Every encoder state is one step away from the context, whatever its
distance in time: the gradient reaches h_t through a_t instead of through t products of
recurrent Jacobians. Score functions are listed in ``kernels.attention`` and ``SCORES``.

Shapes: H (T, d_h) with s (d_s,) or S (Q, d_s) for Q decoder steps; or batched H (B, T, d_h)
with S (B, d_s) or (B, Q, d_s). Results have the matching shapes (the axes the inputs did
not have are dropped again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from kernels import attention as ka

SCORES = ("dot", "scaled_dot", "general", "additive", "cosine", "location")
PARAMS = {"dot": (), "scaled_dot": (), "general": ("W_a",), "additive": ("W1", "W2", "v"),
          "cosine": ("beta",), "location": ("W_a",)}


def attention_params(score: str, d_h: int, d_s: int, *, d_a: int | None = None,
                     steps: int | None = None, beta: float = 1.0, seed: int = 0,
                     dtype=np.float64) -> dict[str, np.ndarray]:
    """Fresh parameters for ``score``: {} for dot products; W_a (d_h, d_s) for 'general';
    W1 (d_a, d_h), W2 (d_a, d_s), v (d_a,) for 'additive' (d_a defaults to d_h);
    beta () for 'cosine'; W_a (steps, d_s) for 'location' (one row per encoder step).

    Gaussian entries with variance 1/fan-in, from ``seed``.
    """
    _check_score(score)
    rng = np.random.default_rng(seed)
    if score == "general":
        out = {"W_a": rng.standard_normal((d_h, d_s)) / np.sqrt(d_s)}
    elif score == "additive":
        d_a = d_h if d_a is None else int(d_a)
        out = {"W1": rng.standard_normal((d_a, d_h)) / np.sqrt(d_h),
               "W2": rng.standard_normal((d_a, d_s)) / np.sqrt(d_s),
               "v": rng.standard_normal(d_a) / np.sqrt(d_a)}
    elif score == "cosine":
        out = {"beta": np.array(float(beta))}
    elif score == "location":
        if steps is None or steps < 1:
            raise ValueError("location-based attention needs steps=T (one score row per step)")
        out = {"W_a": rng.standard_normal((steps, d_s)) / np.sqrt(d_s)}
    else:
        out = {}
    return {k: np.asarray(v, dtype=dtype) for k, v in out.items()}


def _check_score(score: str) -> None:
    if score not in SCORES:
        raise ValueError(f"score={score!r} is not one of {SCORES}")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, order="C", copy=True)  # never freeze the caller's array
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Attention:
    """One attention computation: scores e, weights a (sum to 1 over T), context.

    Public arrays have the caller's shapes; ``H``, ``S`` and ``cache`` keep the batched
    (B, T, d_h), (B, Q, d_s) forms for ``attend_backward``.
    """

    score: str
    scores: np.ndarray
    weights: np.ndarray
    context: np.ndarray
    params: Mapping[str, np.ndarray]
    H: np.ndarray  # (B, T, d_h)
    S: np.ndarray  # (B, Q, d_s)
    squeeze: tuple[int, ...] = ()
    cache: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class AttentionGrads:
    """dL/dH (shaped like H), dL/ds (shaped like s) and {name: dL/dparam}."""

    H: np.ndarray
    s: np.ndarray
    params: Mapping[str, np.ndarray]


def _inputs(H, s, dtype):
    H = np.asarray(H)
    dtype = np.result_type(H.dtype, np.float32) if dtype is None else dtype
    H = np.asarray(H, dtype=dtype)
    s = np.asarray(s, dtype=dtype)
    if H.ndim == 2:
        if s.ndim not in (1, 2):
            raise ValueError(f"with H (T, d_h), s must be (d_s,) or (Q, d_s); got {s.shape}")
        squeeze = (0, 1) if s.ndim == 1 else (0,)
        Hb, Sb = H[None], s.reshape(1, -1, s.shape[-1])
    elif H.ndim == 3:
        if s.ndim not in (2, 3) or s.shape[0] != H.shape[0]:
            raise ValueError(f"with H (B, T, d_h) = {H.shape}, s must be (B, d_s) or "
                             f"(B, Q, d_s) with the same B; got {s.shape}")
        squeeze = (1,) if s.ndim == 2 else ()
        Hb, Sb = H, s.reshape(s.shape[0], -1, s.shape[-1])
    else:
        raise ValueError(f"H must be (T, d_h) or (B, T, d_h); got shape {H.shape}")
    if Hb.shape[1] < 1:
        raise ValueError("H needs at least one encoder state")
    return np.ascontiguousarray(Hb), np.ascontiguousarray(Sb), squeeze


def _out(a: np.ndarray, squeeze: tuple[int, ...]) -> np.ndarray:
    return np.squeeze(a, axis=squeeze) if squeeze else a


def _param(params: Mapping, name: str, shape: tuple, score: str, dtype) -> np.ndarray:
    if name not in params:
        raise ValueError(f"{score!r} attention needs parameter {name!r} {shape}")
    a = np.array(params[name], dtype=dtype, order="C")
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}; {score!r} attention needs {shape}")
    return a


def attend(score: str, H, s, params: Mapping[str, np.ndarray] | None = None, *,
           dtype=None) -> Attention:
    """Scores, softmax weights and context of decoder state(s) s over encoder states H.

    ``params`` as from ``attention_params`` (none for the dot products; cosine's beta
    defaults to 1). Computed in H's float dtype unless ``dtype`` is given.
    """
    _check_score(score)
    Hb, Sb, squeeze = _inputs(H, s, dtype)
    dt = Hb.dtype
    B, T, dh = Hb.shape
    ds = Sb.shape[2]
    params = dict(params or {})
    unknown = set(params) - set(PARAMS[score])
    if unknown:
        raise ValueError(f"{score!r} attention takes {PARAMS[score] or 'no parameters'}; "
                         f"got {sorted(unknown)}")
    cache: dict[str, np.ndarray] = {}
    p: dict[str, np.ndarray] = {}
    if score in ("dot", "scaled_dot"):
        if dh != ds:
            raise ValueError(f"{score!r} needs d_h = d_s; got {dh} and {ds}")
        E = ka.dot_scores(Hb, Sb, 1.0 if score == "dot" else 1.0 / np.sqrt(dh))
    elif score == "general":
        p = {"W_a": _param(params, "W_a", (dh, ds), score, dt)}
        E = ka.general_scores(Hb, Sb, p["W_a"])
    elif score == "additive":
        W1 = np.asarray(params.get("W1", np.empty((0, 0))))
        da = W1.shape[0]
        p = {"W1": _param(params, "W1", (da, dh), score, dt),
             "W2": _param(params, "W2", (da, ds), score, dt),
             "v": _param(params, "v", (da,), score, dt)}
        E, cache["U"] = ka.additive_scores(Hb, Sb, p["W1"], p["W2"], p["v"])
    elif score == "cosine":
        p = {"beta": _param(params, "beta", (), score, dt)} if "beta" in params else {
            "beta": np.asarray(1.0, dtype=dt)}
        E, cache["K"], cache["nh"], cache["ns"] = ka.cosine_scores(Hb, Sb, float(p["beta"]))
    else:  # location
        p = {"W_a": _param(params, "W_a", (T, ds), score, dt)}
        E = ka.location_scores(Sb, p["W_a"])
    A, C = ka.softmax_context(E, Hb)
    return Attention(score, _frozen(_out(E, squeeze)), _frozen(_out(A, squeeze)),
                     _frozen(_out(C, squeeze)),
                     MappingProxyType({k: _frozen(v) for k, v in p.items()}),
                     _frozen(Hb), _frozen(Sb), squeeze,
                     MappingProxyType({k: _frozen(v) for k, v in cache.items()}))


def attend_backward(att: Attention, dcontext=None, dweights=None) -> AttentionGrads:
    """Gradients of a loss L given dL/dcontext and/or dL/dweights (shaped like att's
    context and weights; a missing one counts as zero)."""
    Hb, Sb = att.H, att.S
    B, T, dh = Hb.shape
    Q = Sb.shape[1]
    if dcontext is not None and np.shape(dcontext) != att.context.shape:
        raise ValueError(f"dcontext has shape {np.shape(dcontext)}; expected {att.context.shape}")
    if dweights is not None and np.shape(dweights) != att.weights.shape:
        raise ValueError(f"dweights has shape {np.shape(dweights)}; expected {att.weights.shape}")
    dC = np.zeros((B, Q, dh), Hb.dtype) if dcontext is None else np.asarray(dcontext, Hb.dtype)
    dA = np.zeros((B, Q, T), Hb.dtype) if dweights is None else np.asarray(dweights, Hb.dtype)
    dC = np.ascontiguousarray(dC.reshape(B, Q, dh))
    dA = np.ascontiguousarray(dA.reshape(B, Q, T))
    A = np.ascontiguousarray(att.weights).reshape(B, Q, T)
    dE, dH = ka.softmax_context_backward(A, Hb, dC, dA)
    p, c = att.params, att.cache
    if att.score in ("dot", "scaled_dot"):
        scale = 1.0 if att.score == "dot" else 1.0 / np.sqrt(dh)
        gH, dS = ka.dot_scores_backward(Hb, Sb, scale, dE)
        grads = {}
    elif att.score == "general":
        gH, dS, dWa = ka.general_scores_backward(Hb, Sb, p["W_a"], dE)
        grads = {"W_a": dWa}
    elif att.score == "additive":
        gH, dS, dW1, dW2, dv = ka.additive_scores_backward(Hb, Sb, p["W1"], p["W2"], p["v"],
                                                           c["U"], dE)
        grads = {"W1": dW1, "W2": dW2, "v": dv}
    elif att.score == "cosine":
        gH, dS, dbeta = ka.cosine_scores_backward(Hb, Sb, float(p["beta"]), c["K"], c["nh"],
                                                  c["ns"], dE)
        grads = {"beta": np.asarray(dbeta, dtype=Hb.dtype)}
    else:  # location: the scores do not read H
        gH = np.zeros_like(Hb)
        dS, dWa = ka.location_scores_backward(Sb, p["W_a"], dE)
        grads = {"W_a": dWa}
    dH = dH + gH
    sq = att.squeeze
    dH = dH[0] if 0 in sq else dH
    dS = dS.reshape(att.S.shape)
    if sq == (0, 1):
        dS = dS[0, 0]
    elif sq == (0,):
        dS = dS[0]
    elif sq == (1,):
        dS = dS[:, 0]
    return AttentionGrads(dH, dS, MappingProxyType(grads))
