"""gradlab.init: recurrent matrices by scheme, and matrices with chosen eigenvalues."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
from gradlab.config import CHOICES, LabConfig
from gradlab.init import (
    BASES,
    SCHEMES,
    SPARSE_INCOMING,
    eigen_blocks,
    eigenbasis,
    matrix_from_eigenvalues,
    recurrent_matrix,
)


def radius(W):
    return np.max(np.abs(np.linalg.eigvals(W)))


def by_value(z):
    z = np.asarray(z, dtype=complex)
    return z[np.lexsort((z.imag, np.round(z.real, 8)))]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("n", [1, 2, 7, 15, 40])
def test_every_scheme_has_the_requested_spectral_radius(scheme, n):
    W = recurrent_matrix(n, scheme, 0.8, np.random.default_rng(n))
    assert W.shape == (n, n) and np.isrealobj(W)
    assert radius(W) == pytest.approx(0.8, rel=1e-10)


def test_schemes_keep_their_meaning():
    rng = np.random.default_rng(0)
    Q = recurrent_matrix(6, "orthogonal", 1.3, rng)
    np.testing.assert_allclose(Q.T @ Q, 1.3**2 * np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(recurrent_matrix(4, "identity", 0.5, rng), 0.5 * np.eye(4))
    # the gaussian draw is the one it always was: N(0, 1/n) rescaled
    A = np.random.default_rng(7).standard_normal((5, 5)) / np.sqrt(5)
    np.testing.assert_allclose(recurrent_matrix(5, "gaussian", 1.0, np.random.default_rng(7)),
                               A / radius(A), rtol=1e-13)


@pytest.mark.parametrize("n", [1, 3, 15, 16, 64])
def test_sparse_init_has_fifteen_incoming_weights_per_unit(n):
    W = recurrent_matrix(n, "sparse", 0.95, np.random.default_rng(3))
    assert np.all(np.count_nonzero(W, axis=1) == min(SPARSE_INCOMING, n))
    if n > SPARSE_INCOMING:
        assert np.count_nonzero(W) == SPARSE_INCOMING * n
    assert radius(W) == pytest.approx(0.95, rel=1e-10)
    np.testing.assert_array_equal(W, recurrent_matrix(n, "sparse", 0.95,
                                                      np.random.default_rng(3)))


def test_sparse_is_a_lab_choice_and_runs():
    assert "sparse" in CHOICES["init"]
    s = gradlab.Lab().compute(LabConfig(init="sparse", hidden=10, steps=20), ["gradient"])
    assert np.isfinite(s["gradient"].log10_norms).all()
    p = gradlab.init_params("lstm", 20, 2, scheme="sparse", spectral_radius=0.95, seed=1)
    for k in range(4):
        assert np.all(np.count_nonzero(p.weights["W"][20 * k:20 * (k + 1)], axis=1) == 15)


def test_eigen_blocks_are_real_rotation_scalings():
    L = eigen_blocks([0.3, 1 + 2j, 1 - 2j])
    np.testing.assert_array_equal(L, [[0.3, 0, 0], [0, 1, 2], [0, -2, 1]])


def test_complex_values_must_come_in_conjugate_pairs():
    with pytest.raises(ValueError, match="conjugate"):
        eigen_blocks([0.5 + 0.1j, 0.5 + 0.1j])
    with pytest.raises(ValueError, match="conjugate"):
        matrix_from_eigenvalues([1.0, 0.2j])
    with pytest.raises(ValueError, match="finite"):
        eigen_blocks([np.nan])
    with pytest.raises(ValueError, match="basis"):
        matrix_from_eigenvalues([1.0], basis="skewed")
    with pytest.raises(ValueError, match="condition"):
        matrix_from_eigenvalues([1.0, 2.0], basis="ill-conditioned", condition=0.5)


eigenvalue_sets = st.lists(
    st.one_of(
        st.tuples(st.just("real"), st.floats(-2, 2)),
        st.tuples(st.just("pair"), st.floats(-1.5, 1.5), st.floats(0.05, 1.5)),
    ),
    min_size=1, max_size=8,
).map(lambda items: np.array([z for it in items for z in (
    [it[1]] if it[0] == "real" else [complex(it[1], it[2]), complex(it[1], -it[2])])]))


def distinct(lam, gap=1e-3):
    z = by_value(lam)
    return np.all(np.abs(np.diff(z)) > gap)


@settings(max_examples=40, deadline=None)
@given(lam=eigenvalue_sets, seed=st.integers(0, 2**20))
def test_orthogonal_basis_gives_exactly_the_requested_eigenvalues(lam, seed):
    if not distinct(lam):
        return
    W, V = matrix_from_eigenvalues(lam, basis="orthogonal", rng=seed, return_basis=True)
    assert np.isrealobj(W) and W.shape == (lam.size, lam.size)
    np.testing.assert_allclose(V.T @ V, np.eye(lam.size), atol=1e-13)
    np.testing.assert_allclose(by_value(np.linalg.eigvals(W)), by_value(lam), rtol=0,
                               atol=1e-10)


@pytest.mark.parametrize("condition", [1.0, 10.0, 1e4, 1e6])
def test_ill_conditioned_basis_has_the_requested_condition_number(condition):
    lam = np.array([0.9, -0.7, 0.5 + 0.5j, 0.5 - 0.5j, 0.2, 1.1j, -1.1j, -0.3])
    W, V = matrix_from_eigenvalues(lam, basis="ill-conditioned", condition=condition, rng=4,
                                   return_basis=True)
    assert np.linalg.cond(V) == pytest.approx(condition, rel=1e-9)
    assert np.isrealobj(W)
    # eigenvalues of a non-normal matrix move by about eps * cond(V) under rounding
    np.testing.assert_allclose(by_value(np.linalg.eigvals(W)), by_value(lam), rtol=0,
                               atol=1e-12 * condition)
    np.testing.assert_allclose(np.linalg.cond(eigenbasis(8, basis="ill-conditioned",
                                                         condition=condition, rng=1)),
                               condition, rtol=1e-9)


def test_ill_conditioned_basis_shows_transient_growth():
    # all |eigenvalues| 0.9 < 1, yet ||W^k|| first grows when the eigenbasis is skewed
    lam = np.array([0.9, -0.9, 0.9j, -0.9j])
    W = matrix_from_eigenvalues(lam, basis="ill-conditioned", condition=1e3, rng=0)
    norms = [np.linalg.norm(np.linalg.matrix_power(W, k), 2) for k in range(1, 30)]
    assert max(norms) > 10 and norms[-1] < max(norms)
    Wo = matrix_from_eigenvalues(lam, basis="orthogonal", rng=0)
    assert np.linalg.norm(Wo, 2) == pytest.approx(0.9, rel=1e-12)


def test_bases_and_seeds():
    assert BASES == ("orthogonal", "ill-conditioned")
    a = matrix_from_eigenvalues([0.5, 0.6], rng=np.random.default_rng(2))
    b = matrix_from_eigenvalues([0.5, 0.6], rng=2)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("n", [1, 7, 40])
def test_indrnn_recurrent_vector_has_max_abs_equal_to_the_radius(scheme, n):
    p = gradlab.init_params("indrnn", n, 3, scheme=scheme, spectral_radius=0.8, seed=n)
    w = p.weights["w"]
    assert w.shape == (n,) and "W" not in p.weights
    assert np.max(np.abs(w)) == pytest.approx(0.8, rel=1e-12)
    again = gradlab.init_params("indrnn", n, 3, scheme=scheme, spectral_radius=0.8, seed=n)
    np.testing.assert_array_equal(again.weights["w"], w)


def test_indrnn_schemes_keep_their_meaning():
    kw = dict(spectral_radius=0.9, seed=5)
    np.testing.assert_array_equal(gradlab.init_params("indrnn", 30, 2, scheme="identity",
                                                      **kw).weights["w"], np.full(30, 0.9))
    w = gradlab.init_params("indrnn", 30, 2, scheme="orthogonal", **kw).weights["w"]
    np.testing.assert_allclose(np.abs(w), 0.9, rtol=1e-15)
    assert np.any(w < 0) and np.any(w > 0)
    w = gradlab.init_params("indrnn", 30, 2, scheme="gaussian", **kw).weights["w"]
    assert np.any(w < 0) and np.any(w > 0) and np.min(np.abs(w)) < 0.5  # spread, not all 0.9
    w = gradlab.init_params("indrnn", 40, 2, scheme="sparse", **kw).weights["w"]
    assert np.count_nonzero(w) == SPARSE_INCOMING
    assert gradlab.init_params("indrnn", 30, 2, spectral_radius=0.0).weights["w"].max() == 0.0
