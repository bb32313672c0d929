"""Toy sequence tasks whose solution needs attention, with the alignment each one implies.

    reverse   y_q = x_{T+1-q}                  alignment: the anti-diagonal
    sort      y = x sorted ascending           alignment: the sorting permutation
              (tokens drawn without repetition, so the permutation is unique)
    copy      y_q = x_q                        alignment: the diagonal

Sequences have a fixed length T over ``vocab`` tokens. Held-out sequences are a fixed 10%
of all sequences (those whose hash h(x) = sum_t c_t x_t mod 1009 ends in 0, with fixed
coefficients c_t); training batches never contain one, so accuracy on held-out sequences
measures generalisation, not memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .seq2seq import Batch

TASKS = ("reverse", "sort", "copy")
_HASH_MOD = 1009
_HELD_OUT = 10  # one sequence in _HELD_OUT is held out


def _hash_coefficients(length: int) -> np.ndarray:
    return np.random.default_rng(20261201).integers(1, _HASH_MOD, length)


@dataclass(frozen=True)
class Task:
    """A sequence-to-sequence task: ``name`` in TASKS, ``vocab`` tokens, length T."""

    name: str = "reverse"
    vocab: int = 10
    length: int = 8

    def __post_init__(self):
        if self.name not in TASKS:
            raise ValueError(f"task={self.name!r} is not one of {TASKS}")
        for field_name in ("vocab", "length"):
            v = getattr(self, field_name)
            if not isinstance(v, (int, np.integer)) or v < 2:
                raise ValueError(f"{field_name}={v!r} must be an integer of at least 2")
        if self.name == "sort" and self.vocab < self.length:
            raise ValueError(f"sort draws distinct tokens: vocab={self.vocab} must be at "
                             f"least length={self.length}")

    def target(self, src) -> np.ndarray:
        """The correct output (B, T) for sources (B, T)."""
        src = np.atleast_2d(np.asarray(src))
        if self.name == "reverse":
            return src[:, ::-1].copy()
        if self.name == "sort":
            return np.sort(src, axis=1)
        return src.copy()

    def expected_alignment(self, src) -> np.ndarray:
        """The 0/1 alignment the task implies, (B, Q, T): entry [b, q, t] = 1 where target
        step q should read source step t."""
        src = np.atleast_2d(np.asarray(src))
        B, T = src.shape
        E = np.zeros((B, T, T))
        q = np.arange(T)
        if self.name == "reverse":
            E[:, q, T - 1 - q] = 1.0
        elif self.name == "copy":
            E[:, q, q] = 1.0
        else:
            order = np.argsort(src, axis=1, kind="stable")  # (B, T): source index of y_q
            E[np.arange(B)[:, None], q[None], order] = 1.0
        return E

    def held_out_mask(self, src) -> np.ndarray:
        """(B,) bools: which sources belong to the held-out 10%."""
        src = np.atleast_2d(np.asarray(src, dtype=np.int64))
        h = (src @ _hash_coefficients(src.shape[1])) % _HASH_MOD
        return h % _HELD_OUT == 0

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.name == "sort":
            keys = rng.random((size, self.vocab))
            return np.argsort(keys, axis=1)[:, :self.length].astype(np.int64)
        return rng.integers(0, self.vocab, (size, self.length), dtype=np.int64)

    def sample(self, rng: np.random.Generator, size: int, *, held_out: bool = False) -> Batch:
        """``size`` random sequences from the training part (or the held-out part)."""
        if size < 1:
            raise ValueError(f"size={size!r} must be at least 1")
        parts, have = [], 0
        while have < size:
            src = self._draw(rng, 2 * size if not held_out else 12 * size + 16)
            src = src[self.held_out_mask(src) == held_out]
            parts.append(src)
            have += len(src)
        src = np.concatenate(parts)[:size]
        return Batch(src, self.target(src))

    def held_out(self, size: int = 1000, *, seed: int = 12345) -> Batch:
        """A fixed held-out evaluation set of ``size`` sequences (the same for a seed)."""
        return self.sample(np.random.default_rng(seed), size, held_out=True)

    def example(self) -> Batch:
        """A fixed evaluation example, the first held-out sequence: the one whose
        alignment the lab and ``gradlab train`` show."""
        return self.held_out(1)


def alignment_share(alignment, expected) -> float:
    """Share of the attention mass on the expected pattern: sum(A * E) / sum(A), with
    alignment A and expected E both (Q, T) or (B, Q, T) (a mean over b and q of the mass
    each decoder step puts where the task says it should look)."""
    A = np.asarray(alignment, dtype=np.float64)
    E = np.asarray(expected, dtype=np.float64)
    if A.shape != E.shape:
        raise ValueError(f"alignment {A.shape} and expected {E.shape} must have one shape")
    return float((A * E).sum() / A.sum())


def alignment_hits(alignment, expected) -> float:
    """Share of decoder steps whose most-attended source step lies on the expected pattern
    (alignment and expected both (Q, T) or (B, Q, T))."""
    A = np.asarray(alignment, dtype=np.float64)
    E = np.asarray(expected, dtype=np.float64)
    if A.shape != E.shape:
        raise ValueError(f"alignment {A.shape} and expected {E.shape} must have one shape")
    top = A.argmax(axis=-1)[..., None]
    return float(np.take_along_axis(E, top, axis=-1).mean())
