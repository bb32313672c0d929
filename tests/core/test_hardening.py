"""Issue 9, items 2 and 4, for the RNN's own options (leak, skip, residual, skip_delay).

The registry-wide cases (sizes, cells, discrete options, dtypes, truncate, unknown names)
are in tests/contract/test_refusals.py; these are the RNN options no contract can vary.
"""

import numpy as np
import pytest

import gradlab


def trace_of(p, T=6):
    return gradlab.forward(p, np.ones((1, T, p.m)))


@pytest.mark.parametrize("change, name", [
    (dict(leak=0.5), "leak"),
    (dict(residual=True), "residual"),
    (dict(activation="relu"), "activation"),
])
def test_backward_refuses_an_rnn_with_other_options(change, name):
    p = gradlab.init_params("rnn", 3, 2, seed=1)
    tr = trace_of(p)
    with pytest.raises(ValueError, match=f"backward: params do not match the trace.*option {name}"):
        gradlab.backward(p.replace(**change), tr, np.ones(tr.h.shape))


def test_backward_refuses_a_trace_made_with_another_skip():
    p = gradlab.init_params("rnn", 3, 2, seed=1, skip_delay=2)
    tr = trace_of(p)
    q = gradlab.init_params("rnn", 3, 2, seed=1, skip_delay=3)
    with pytest.raises(ValueError, match="option skip_delay"):
        gradlab.backward(q, tr, np.ones(tr.h.shape))
    with pytest.raises(ValueError, match="option leak"):
        gradlab.backward(p.replace(leak=np.linspace(0.2, 1.0, 3)), tr, np.ones(tr.h.shape))
    gradlab.backward(p.replace(leak=np.ones(3)), tr, np.ones(tr.h.shape))  # the same leak


@pytest.mark.parametrize("delay", [2.7, "3", True, np.float64(2.0), None, -2, 1])
def test_skip_delay_must_be_an_integer_of_at_least_2(delay):
    with pytest.raises(ValueError, match="skip_delay="):
        gradlab.init_params("rnn", 3, 2, skip_delay=delay)


def test_integer_skip_delays_of_any_integer_type_work():
    a = gradlab.init_params("rnn", 3, 2, skip_delay=3)
    b = gradlab.init_params("rnn", 3, 2, skip_delay=np.int32(3))
    assert a.options["skip_delay"] == b.options["skip_delay"] == 3
    np.testing.assert_array_equal(trace_of(a).h, trace_of(b).h)


def test_leak_nan_or_out_of_range_is_refused():
    for leak in (np.nan, -0.1, 0.0, 1.5):
        with pytest.raises(ValueError, match="leak="):
            gradlab.init_params("rnn", 3, 2, leak=leak)
