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
