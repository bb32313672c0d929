"""Initial weights: recurrent matrices scaled to a chosen spectral radius, and init_params.

Every draw comes from ``numpy.random.Generator``s spawned from one seed, one stream per
weight, so the same seed gives the same matrices whatever the other sizes are.
"""

from __future__ import annotations

import numpy as np

from .cells import get_cell
from .params import GATES, Params

SCHEMES = ("gaussian", "orthogonal", "identity")


def recurrent_matrix(n: int, scheme: str, spectral_radius: float,
                     rng: np.random.Generator) -> np.ndarray:
    """An (n, n) matrix of the given scheme whose largest |eigenvalue| is ``spectral_radius``.

    gaussian: N(0, 1/n) entries, rescaled; orthogonal: rho * Q (every |eigenvalue| = rho);
    identity: rho * I (the IRNN of Le et al. 2015).
    """
    if scheme == "gaussian":
        A = rng.standard_normal((n, n)) / np.sqrt(n)
        return A * (spectral_radius / np.max(np.abs(np.linalg.eigvals(A))))
    if scheme == "orthogonal":
        Q, R = np.linalg.qr(rng.standard_normal((n, n)))
        return spectral_radius * Q * np.sign(np.diag(R))
    if scheme == "identity":
        return spectral_radius * np.eye(n)
    raise ValueError(f"scheme={scheme!r} is not one of {SCHEMES}")


def init_params(cell: str, hidden: int, inputs: int, *, scheme: str = "gaussian",
                spectral_radius: float = 1.0, seed: int = 0, dtype=np.float64,
                **options) -> Params:
    """Fresh Params for ``cell`` with ``hidden`` units and ``inputs`` features.

    Each recurrent block (one per gate) is drawn by ``scheme`` and scaled to
    ``spectral_radius``. Remaining keyword options go to the cell (activation, leak, ...).
    """
    if cell not in GATES:
        raise ValueError(f"cell={cell!r} is not one of {sorted(GATES)}")
    if hidden < 1 or inputs < 1:
        raise ValueError(f"hidden={hidden} and inputs={inputs} must both be at least 1")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    W = np.concatenate([recurrent_matrix(hidden, scheme, spectral_radius, rngs[0])
                        for _ in range(GATES[cell])])
    mod = get_cell(cell)
    weights = mod.init_weights(hidden, inputs, rngs, W)
    if options.get("skip_delay") and "Ws" not in weights:
        weights["Ws"] = recurrent_matrix(hidden, "gaussian", 0.5, rngs[2])
    p = mod.make_params(weights, options)
    return p.astype(dtype) if np.dtype(dtype) != p.dtype else p
