"""Central finite differences and a scale-aware closeness check, shared by the tests."""

import numpy as np


def central_differences(f, a, eps=1e-6):
    """d f / d a by central differences: f takes an array shaped like ``a``, returns a scalar."""
    a = np.array(a, dtype=float)
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += eps
        am[idx] -= eps
        out[idx] = (f(ap) - f(am)) / (2 * eps)
    return out


def close(actual, expected, rtol):
    """|actual - expected| <= rtol * max|expected| elementwise (nan where the other has nan)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * max(scale, 1e-300))
