"""The NumPy twin of each registered cell, behind one interface for the contract suite.

    forward(p, x, h0, c0) -> {'h', 'c' (cells with a cell state), 'gates'}
    backward(p, x, h0, c0, dh, truncate) -> {'h', 'c'?, 'h0', 'c0'?, 'x', 'params'}
    step_jacobians(p, x, h0, c0) -> (B, T, d, d), or None where the twin has none

A cell's twin module ``tests/kernels/ref_<name>.py`` that defines ``contract_forward`` and
``contract_backward`` (and optionally ``contract_step_jacobians``) is found by name: a new
cell needs no entry here. The adapters below wrap the older twins, whose functions take
arrays rather than Params.
"""

from importlib import import_module

import numpy as np

from ..kernels import ref_gru, ref_lstm, ref_rnn


def _w(p):
    return {k: np.asarray(v, dtype=np.float64) for k, v in p.weights.items()}


# --- RNN ------------------------------------------------------------------------------------


def _rnn_coefficients(p):
    a = np.broadcast_to(np.asarray(p.options["leak"], dtype=np.float64), (p.n,))
    carry = np.ones(p.n) if p.options["residual"] else 1.0 - a
    return carry, a


def _rnn_run(p, x, h0):
    w = _w(p)
    carry, a = _rnn_coefficients(p)
    d = p.options["skip_delay"]
    s, z = ref_rnn.forward(w["W"], w["U"], w["b"] + w["b_h"], x, h0, carry, a,
                           p.options["activation"], w.get("Ws"), d)
    return w, carry, a, d, s, z


def rnn_forward(p, x, h0, c0=None):
    *_, s, z = _rnn_run(p, x, h0)
    return {"h": s[:, 1:], "gates": {"phi": ref_rnn.PHI[p.options["activation"]][0](z)}}


def rnn_backward(p, x, h0, dh, c0=None, truncate=0):
    w, carry, a, d, s, z = _rnn_run(p, x, h0)
    gs, dW, dU, db, dWs, dx = ref_rnn.backward(w["W"], w["U"], x, s, z, carry, a,
                                               p.options["activation"], dh, w.get("Ws"), d,
                                               truncate)
    params = {"W": dW, "U": dU, "b": db, "b_h": db.copy()}
    if dWs is not None:
        params["Ws"] = dWs
    return {"h": gs[:, 1:], "h0": gs[:, 0], "x": dx, "params": params}


def rnn_step_jacobians(p, x, h0, c0=None):
    w, carry, a, _, _, z = _rnn_run(p, x, h0)
    return ref_rnn.step_jacobians(w["W"], z, carry, a, p.options["activation"])


# --- LSTM and GRU ---------------------------------------------------------------------------


def lstm_forward(p, x, h0, c0):
    w = _w(p)
    h, c, gates = ref_lstm.lstm_forward(w["W"], w["U"], w["b"], w["b_h"], x, h0, c0, w.get("P"),
                                        p.options["coupled"])
    return {"h": h, "c": c, "gates": gates}


def lstm_backward(p, x, h0, dh, c0, truncate=0):
    w = _w(p)
    return ref_lstm.lstm_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, c0, dh, None,
                                  w.get("P"), p.options["coupled"], truncate)


def gru_forward(p, x, h0, c0=None):
    w = _w(p)
    h, gates = ref_gru.gru_forward(w["W"], w["U"], w["b"], w["b_h"], x, h0,
                                   p.options["gru_variant"])
    return {"h": h, "gates": gates}


def gru_backward(p, x, h0, dh, c0=None, truncate=0):
    w = _w(p)
    return ref_gru.gru_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, dh,
                                p.options["gru_variant"], truncate)


ADAPTERS = {
    "rnn": (rnn_forward, rnn_backward, rnn_step_jacobians),
    "lstm": (lstm_forward, lstm_backward, None),
    "gru": (gru_forward, gru_backward, None),
}


def twin(cell: str):
    """(forward, backward, step_jacobians or None) of ``cell``'s NumPy twin."""
    if cell in ADAPTERS:
        return ADAPTERS[cell]
    mod = import_module(f"..kernels.ref_{cell}", __package__)
    return (mod.contract_forward, mod.contract_backward,
            getattr(mod, "contract_step_jacobians", None))
