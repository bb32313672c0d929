"""Bad input refused by name, for every registered cell (issue 9, items 1-4).

Each test failed on the code before the cell registry: mismatched Params read out of
bounds or gave other gradients, integer and complex dtypes were cast silently, unknown
options and odd truncations were accepted.
"""

import numpy as np
import pytest

import gradlab
from gradlab.cells import CELLS, get_cell

ALL_CELLS = list(CELLS)
USES_TRACE = {
    "backward": lambda p, tr: gradlab.backward(p, tr, np.ones(tr.h.shape)),
    "step_jacobians": gradlab.step_jacobians,
    "jacobian_spectrum": gradlab.jacobian_spectrum,
    "lyapunov_spectrum": gradlab.lyapunov_spectrum,
}


def trace_of(p, T=5, B=1):
    return gradlab.forward(p, np.ones((B, T, p.m), dtype=p.dtype))


# --- item 1 and 2: a Trace knows what made it -----------------------------------------------------


@pytest.mark.parametrize("fn", USES_TRACE)
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_params_of_another_size_are_refused(cell, fn):
    """The repro of item 1 (a small Params against a large Trace read out of bounds)."""
    tr = trace_of(gradlab.init_params(cell, 40, 4, scheme="identity"))
    with pytest.raises(ValueError, match=f"{fn}: params do not match the trace.*n=40 vs 2"):
        USES_TRACE[fn](gradlab.init_params(cell, 2, 4), tr)
    with pytest.raises(ValueError, match="m=4 vs 3"):
        USES_TRACE[fn](gradlab.init_params(cell, 40, 3), tr)
    with pytest.raises(ValueError, match="dtype='float64' vs 'float32'"):
        USES_TRACE[fn](gradlab.init_params(cell, 40, 4, dtype=np.float32), tr)


@pytest.mark.parametrize("fn", USES_TRACE)
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_params_of_another_cell_are_refused(cell, fn):
    other = next(c for c in CELLS if c != cell)
    tr = trace_of(gradlab.init_params(other, 3, 2))
    with pytest.raises(ValueError, match=f"cell='{other}' vs '{cell}'"):
        USES_TRACE[fn](gradlab.init_params(cell, 3, 2), tr)


def _option_changes():
    for cell, spec in CELLS.items():
        for opt, allowed in spec.choices.items():
            for v in allowed:
                if v != spec.options[opt]:
                    yield pytest.param(cell, opt, v, id=f"{cell}-{opt}={v}")


@pytest.mark.parametrize("fn", USES_TRACE)
@pytest.mark.parametrize("cell, opt, value", list(_option_changes()))
def test_params_with_other_options_are_refused(cell, opt, value, fn):
    """Item 2: backward (and the spectra) with other options gave other numbers silently."""
    p = gradlab.init_params(cell, 3, 2, seed=1)
    tr = trace_of(p)
    with pytest.raises(ValueError, match=f"option {opt}"):
        USES_TRACE[fn](p.replace(**{opt: value}), tr)
    USES_TRACE[fn](p.replace(weights={k: np.asarray(v) * 0.5 for k, v in p.weights.items()}),
                   tr)  # other weights of the same kind: fine (a trace is not tied to values)


# --- item 3: float32 and float64 only ------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex128, np.float16, bool, "U3"])
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_init_params_refuses_other_dtypes(cell, dtype):
    with pytest.raises(ValueError, match="dtype="):
        gradlab.init_params(cell, 3, 2, dtype=dtype)
    with pytest.raises(ValueError, match="dtype="):
        gradlab.init_params(cell, 3, 2).astype(dtype)


@pytest.mark.parametrize("kind", [np.int64, np.complex128, bool])
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_params_refuse_integer_and_complex_weights(cell, kind):
    p = gradlab.init_params(cell, 3, 2)
    for name, v in p.weights.items():
        bad = dict(p.weights)
        bad[name] = np.asarray(v).astype(kind)
        with pytest.raises(ValueError, match=f"weight '{name}' has dtype"):
            gradlab.Params(cell, bad, p.options)


# --- item 4: options, radius, truncate --------------------------------------------------------------


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_unknown_options_are_refused(cell):
    p = gradlab.init_params(cell, 3, 2)
    with pytest.raises(ValueError, match="option 'leek' is not a"):
        gradlab.init_params(cell, 3, 2, leek=0.5)
    with pytest.raises(ValueError, match="option 'leek' is not a"):
        gradlab.Params(cell, p.weights, {"leek": 0.5})
    with pytest.raises(ValueError, match="option 'leek' is not a"):
        p.replace(leek=0.5)
    with pytest.raises(ValueError, match="weight 'Q' is not a"):
        gradlab.Params(cell, {**p.weights, "Q": np.zeros(3)}, {})


@pytest.mark.parametrize("radius", [np.nan, -0.5, np.inf, "1", None, True])
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_bad_spectral_radius_is_refused(cell, radius):
    with pytest.raises(ValueError, match="spectral_radius="):
        gradlab.init_params(cell, 3, 2, spectral_radius=radius)


@pytest.mark.parametrize("truncate", [2.7, "3", True, False, 2**70, 0, -1, 3.0, np.float64(3)])
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_bad_truncate_is_refused(cell, truncate):
    p = gradlab.init_params(cell, 3, 2)
    tr = trace_of(p)
    with pytest.raises(ValueError, match="truncate="):
        gradlab.backward(p, tr, np.ones(tr.h.shape), truncate=truncate)


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_integer_truncate_of_any_integer_type_is_accepted(cell):
    p = gradlab.init_params(cell, 3, 2, seed=3)
    tr = trace_of(p, T=9)
    dh = np.ones(tr.h.shape)
    a = gradlab.backward(p, tr, dh, truncate=3)
    b = gradlab.backward(p, tr, dh, truncate=np.int64(3))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    full = gradlab.backward(p, tr, dh)
    huge = gradlab.backward(p, tr, dh, truncate=2**40)  # longer than the sequence: full BPTT
    for k in full.params:
        np.testing.assert_array_equal(full.params[k], huge.params[k])


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_bad_sizes_are_refused(cell):
    for hidden, inputs in ((0, 2), (3, 0), (2.5, 2), (3, True)):
        with pytest.raises(ValueError, match="hidden=|inputs="):
            gradlab.init_params(cell, hidden, inputs)
    assert get_cell(cell).name == cell


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_complex_inputs_are_refused(cell):
    """Complex x (or h0, dh) lost its imaginary part with only a warning."""
    p = gradlab.init_params(cell, 3, 2)
    with pytest.raises(ValueError, match="x has dtype complex128"):
        gradlab.forward(p, np.ones((4, 2), complex))
    with pytest.raises(ValueError, match="h0 has dtype complex128"):
        gradlab.forward(p, np.ones((4, 2)), h0=np.ones(3, complex))
    tr = gradlab.forward(p, np.ones((4, 2), int))  # integers are exact: fine
    with pytest.raises(ValueError, match="dh has dtype complex128"):
        gradlab.backward(p, tr, np.ones(tr.h.shape, complex))
