"""Initial weights: recurrent matrices scaled to a chosen spectral radius, matrices with
chosen eigenvalues, and init_params.

Every draw comes from ``numpy.random.Generator``s spawned from one seed, one stream per
weight, so the same seed gives the same matrices whatever the other sizes are.
"""

from __future__ import annotations

import numpy as np

from .cells import get_cell
from .params import Params, float_dtype

SCHEMES = ("gaussian", "orthogonal", "identity", "sparse")
SPARSE_INCOMING = 15  # non-zero incoming weights per unit in the sparse init
SPARSE_RADIUS = 0.95  # the spectral radius Pascanu, Mikolov and Bengio (2013) used with it
BASES = ("orthogonal", "ill-conditioned")


def recurrent_matrix(n: int, scheme: str, spectral_radius: float,
                     rng: np.random.Generator) -> np.ndarray:
    """An (n, n) matrix of the given scheme whose largest |eigenvalue| is ``spectral_radius``.

    gaussian: N(0, 1/n) entries, rescaled; orthogonal: rho * Q (every |eigenvalue| = rho);
    identity: rho * I (the IRNN of Le et al. 2015); sparse: each row (the incoming weights
    of one unit) has min(15, n) non-zero N(0, 1) entries in random columns, rescaled (the
    init of Pascanu, Mikolov and Bengio 2013, who used radius ``SPARSE_RADIUS`` = 0.95).
    """
    if scheme == "gaussian":
        A = rng.standard_normal((n, n)) / np.sqrt(n)
        return A * (spectral_radius / np.max(np.abs(np.linalg.eigvals(A))))
    if scheme == "orthogonal":
        Q, R = np.linalg.qr(rng.standard_normal((n, n)))
        return spectral_radius * Q * np.sign(np.diag(R))
    if scheme == "identity":
        return spectral_radius * np.eye(n)
    if scheme == "sparse":
        k = min(SPARSE_INCOMING, n)
        A = np.zeros((n, n))
        for i in range(n):
            A[i, rng.choice(n, size=k, replace=False)] = rng.standard_normal(k)
        radius = np.max(np.abs(np.linalg.eigvals(A)))
        return A * (spectral_radius / radius) if radius > 0 else A
    raise ValueError(f"scheme={scheme!r} is not one of {SCHEMES}")


def _basis_factors(n: int, basis: str, condition: float, rng: np.random.Generator):
    """V = Q1 diag(sigma) Q2^T: (Q1, sigma, Q2); for the orthogonal basis sigma = 1, Q2 = I."""
    if basis not in BASES:
        raise ValueError(f"basis={basis!r} is not one of {BASES}")
    Q1 = _haar(n, rng)
    if basis == "orthogonal":
        return Q1, np.ones(n), np.eye(n)
    if not (np.isfinite(condition) and condition >= 1):
        raise ValueError(f"condition={condition!r} must be a finite number >= 1")
    sigma = np.logspace(0.0, -np.log10(condition), n) if n > 1 else np.ones(1)
    return Q1, sigma, _haar(n, rng)


def _haar(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal (n, n) matrix."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def eigenbasis(n: int, *, basis: str = "orthogonal", condition: float = 1e3,
               rng: np.random.Generator | int | None = None) -> np.ndarray:
    """A random real (n, n) basis V: orthogonal, or ill-conditioned with 2-norm condition
    number ``condition`` (V = Q1 diag(sigma) Q2^T with Q1, Q2 random orthogonal and sigma
    log-spaced from 1 down to 1/condition). ``condition`` is ignored for 'orthogonal'."""
    Q1, sigma, Q2 = _basis_factors(n, basis, condition, np.random.default_rng(rng))
    return (Q1 * sigma) @ Q2.T


def eigen_blocks(eigvals) -> np.ndarray:
    """The real block-diagonal matrix with the given eigenvalues: 1x1 blocks for real ones,
    2x2 rotation-scaling blocks [[a, b], [-b, a]] for each pair a +- ib.

    Non-real values must come in conjugate pairs (same count of a + ib and a - ib).
    """
    lam = np.atleast_1d(np.asarray(eigvals))
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigvals must be a non-empty 1-D sequence, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigvals must be finite")
    real = [float(z.real) for z in lam if np.imag(z) == 0]
    upper = sorted((complex(z) for z in lam if np.imag(z) > 0), key=lambda z: (z.real, z.imag))
    lower = sorted((complex(z).conjugate() for z in lam if np.imag(z) < 0),
                   key=lambda z: (z.real, z.imag))
    if upper != lower:
        raise ValueError("complex eigenvalues of a real matrix come in conjugate pairs: "
                         "give a - ib for every a + ib")
    n = lam.size
    L = np.zeros((n, n))
    i = 0
    for r in real:
        L[i, i] = r
        i += 1
    for z in upper:
        L[i:i + 2, i:i + 2] = [[z.real, z.imag], [-z.imag, z.real]]
        i += 2
    return L


def matrix_from_eigenvalues(eigvals, *, basis: str = "orthogonal", condition: float = 1e3,
                            rng: np.random.Generator | int | None = None,
                            return_basis: bool = False):
    """A real (n, n) matrix W = V L V^-1 with exactly the given eigenvalues.

    L is ``eigen_blocks(eigvals)`` (real values and conjugate pairs); V is
    ``eigenbasis(n, basis=..., condition=...)``: orthogonal (W is then normal: its singular
    values are the |eigenvalues|) or deliberately ill-conditioned with cond(V) =
    ``condition`` (W is then far from normal: ||W^k|| can grow for a while even when every
    |eigenvalue| < 1). ``rng`` is a Generator or a seed. With ``return_basis`` the result is
    (W, V).
    """
    L = eigen_blocks(eigvals)
    Q1, sigma, Q2 = _basis_factors(L.shape[0], basis, condition, np.random.default_rng(rng))
    V = (Q1 * sigma) @ Q2.T
    W = (Q1 * sigma) @ (Q2.T @ L @ Q2) @ (Q1 / sigma).T  # V^-1 = Q2 diag(1/sigma) Q1^T
    return (W, V) if return_basis else W


def init_params(cell: str, hidden: int, inputs: int, *, scheme: str = "gaussian",
                spectral_radius: float = 1.0, seed: int = 0, dtype=np.float64,
                **options) -> Params:
    """Fresh Params for ``cell`` with ``hidden`` units and ``inputs`` features.

    The recurrent weight (``CellSpec.recurrent``) is drawn by ``scheme`` and scaled to
    ``spectral_radius``: for W, each block (one per gate) by ``recurrent_matrix``; for a
    cell with its own draw (IndRNN's vector w), by ``CellSpec.init_recurrent``. Remaining
    keyword options go to the cell (activation, leak, ...). ``dtype`` is float64 or float32.
    """
    spec = get_cell(cell)
    for name, v in (("hidden", hidden), ("inputs", inputs)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}={v!r} must be an integer of at least 1")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme={scheme!r} is not one of {SCHEMES}")
    if (isinstance(spectral_radius, (bool, np.bool_))
            or not isinstance(spectral_radius, (int, float, np.integer, np.floating))
            or not np.isfinite(spectral_radius) or spectral_radius < 0):
        raise ValueError(f"spectral_radius={spectral_radius!r} must be a finite number >= 0")
    dtype = float_dtype(dtype)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    if spec.init_recurrent is not None:
        R = spec.init_recurrent(hidden, scheme, spectral_radius, rngs[0])
    else:
        R = np.concatenate([recurrent_matrix(hidden, scheme, spectral_radius, rngs[0])
                            for _ in range(spec.blocks)])
    weights = spec.init_weights(hidden, inputs, rngs, R, options)
    p = Params(cell, weights, options)
    return p.astype(dtype) if dtype != p.dtype else p
