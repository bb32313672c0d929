"""conjugate_pairs on real matrices' spectra: every complex eigenvalue is paired with its exact
conjugate, pairing is an involution, real ones stay unpaired (up to n = 512, the lab's largest)."""

import numpy as np
import pytest

from gradlab.measures.context import BaseDraws
from gradlab.measures.eigen import conjugate_pairs


@pytest.mark.parametrize("cell, init, n", [("rnn", "gaussian", 512), ("lstm", "orthogonal", 64),
                                           ("gru", "sparse", 33), ("rnn", "identity", 8)])
def test_pairs_of_a_drawn_spectrum(cell, init, n):
    _, lam, _ = BaseDraws().get(cell, n, 4, init, 0)
    pair = conjugate_pairs(lam)
    real = lam.imag == 0
    assert np.all(pair[real] == -1)
    i = np.flatnonzero(~real)
    assert np.all(pair[i] >= 0) and np.all(pair[pair[i]] == i)
    np.testing.assert_allclose(lam[pair[i]], np.conj(lam[i]), atol=1e-12)


def test_a_preset_from_the_pairing_alone_is_the_preset_of_the_spectrum():
    # one preset function serves the eigen panel and the window: given the drawn pairing,
    # conjugate partners get equal values even once an earlier preset made every value real
    from gradlab.measures.eigen import PRESET_VALUES, preset_eigs

    lam = np.linalg.eigvals(np.random.default_rng(1).standard_normal((9, 9)))
    pair = conjugate_pairs(lam)
    for name in PRESET_VALUES:
        eigs = preset_eigs(name, lam)
        assert preset_eigs(name, pair=pair) == eigs
        i = np.flatnonzero(pair >= 0)
        assert all(eigs[k] == eigs[pair[k]] for k in i)
        edited = np.array([complex(*e) for e in eigs])  # all real now: pairing lost ...
        assert preset_eigs(name, edited, pair=pair) == eigs  # ... but not with ``pair``
    with pytest.raises(ValueError, match="preset 'nope' is not one of"):
        preset_eigs("nope", lam)
