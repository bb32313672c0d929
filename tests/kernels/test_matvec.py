"""kernels.fast.matvec: the blocked recurrent product against the obvious loop, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.fast.matvec import block_width, blocked, blocked_pieces, blocked_product


def obvious(A, h, out, accumulate, j0, j1):
    """out[c] (+)= sum_j h[j] A[j, c], one term at a time in plain order (the twin)."""
    out = out.copy()
    for c in range(A.shape[1]):
        acc = out[c] if accumulate else out.dtype.type(0)
        for j in range(j0, j1):
            acc = acc + h[j] * A[j, c]
        out[c] = acc
    return out


@settings(max_examples=40, deadline=None)
@given(p=st.integers(1, 70), q=st.integers(1, 150), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from([np.float64, np.float32]), accumulate=st.booleans(),
       data=st.data())
def test_blocked_product_is_the_plain_sum_bit_for_bit(p, q, seed, dtype, accumulate, data):
    rng = np.random.default_rng(seed)
    j0 = data.draw(st.integers(0, p))
    j1 = data.draw(st.integers(j0, p))
    A = rng.standard_normal((p, q)).astype(dtype)
    h = rng.standard_normal(p).astype(dtype)
    start = rng.standard_normal(q).astype(dtype)
    Ab = blocked(A, range(q))
    width = block_width(dtype)
    assert Ab.shape == (-(-q // width), p, width)
    out = np.zeros(Ab.shape[0] * width + 3, dtype)  # (a padded buffer, as the sweeps use)
    out[:q] = start
    blocked_product(Ab, h, out, accumulate, j0, j1)
    want = obvious(A, h, start, accumulate, j0, j1)
    np.testing.assert_array_equal(out[:q], want)


def test_blocked_product_passes_inf_and_nan_through():
    A = np.ones((3, 40))
    A[1, 5] = np.inf
    A[2, 7] = np.nan
    out = np.zeros(64)
    blocked_product(blocked(A, range(40)), np.array([1.0, 1.0, 1.0]), out, False, 0, 3)
    assert out[5] == np.inf and np.isnan(out[7]) and out[0] == 3.0


def test_blocked_pieces_selects_each_pieces_columns():
    M = np.arange(5 * 70, dtype=np.float64).reshape(5, 70)
    cols = [range(0, 35), [36, 40, 69]]
    Mb = blocked_pieces(M, cols)
    assert Mb.shape == (2, 2, 5, 32)
    flat = Mb.transpose(0, 2, 1, 3).reshape(2, 5, 64)  # (piece, row, padded column)
    np.testing.assert_array_equal(flat[0, :, :35], M[:, :35])
    np.testing.assert_array_equal(flat[1, :, :3], M[:, [36, 40, 69]])
    assert not flat[0, :, 35:].any() and not flat[1, :, 3:].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_width_is_one_register_block(dtype):
    assert block_width(dtype) * np.dtype(dtype).itemsize == 256


def test_blocked_product_refuses_a_wrong_block_width_or_range():
    Ab = blocked(np.ones((4, 40)), range(40))  # float64 blocks of 32
    out = np.zeros(64)
    with pytest.raises(IndexError):
        blocked_product(Ab.astype(np.float32), np.ones(4, np.float32), np.zeros(128, np.float32),
                        False, 0, 4)
    with pytest.raises(IndexError):
        blocked_product(Ab, np.ones(4), out, False, 0, 5)
    with pytest.raises(IndexError):
        blocked_product(Ab, np.ones(4), np.zeros(40), False, 0, 4)
