"""The cases the benchmark times: the same problem for gradlab, the NumPy twins, PyTorch, JAX.

A ``Problem`` is one workload (``rnn``, ``lstm``, ``gru``: forward pass plus full BPTT for a
loss on the last step, L = c . h_T; ``spectrum``: ``jacobian_spectrum`` of a tanh RNN) at one
size and in one *regime*: ``healthy`` (orthogonal W at spectral radius 1), ``vanishing``
(radius 0.5 for the RNN; 0.3 with the memory gate closed, bias -4 on the LSTM's forget gate
and the GRU's update gate, so that the gradient underflows past 1e-308 within the sequence)
or ``exploding`` (radius 3; the LSTM's forget gate open, bias +3: the gradient grows by
tens to hundreds of orders of magnitude). Each ``*_case`` returns a ``Case``: a callable to
time and a function that turns its result into arrays to compare, or a string saying why
the implementation is skipped.

- ``gradlab``: ``gradlab.forward`` + ``gradlab.backward`` (public API, checks included).
- ``numpy``: the slow, obvious twins in ``tests/kernels/ref_*.py``, loaded by path.
- ``torch``: PyTorch eager, float64, autograd; dL/dh_t as the gradient with respect to a
  zero added to each h_t. Spectrum: ``torch.func.jacrev`` of the step map, vmapped over t,
  a loop of products, ``torch.linalg.svdvals``.
- ``jax``: ``jax.jit(jax.grad(...))`` of a ``lax.scan`` with x64 enabled, timed with
  ``block_until_ready``; U x_t for all steps is one product before the scan. Spectrum:
  ``jax.jacrev`` of the step map vmapped over t, the per-lag products by a scan,
  ``jnp.linalg.svd(compute_uv=False)``, all in one jit.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys
from dataclasses import dataclass, field

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
REGIMES = ("healthy", "vanishing", "exploding")
# (spectral radius, bias added to the memory gate's input bias: LSTM forget, GRU update)
REGIME_SETTINGS = {
    "rnn": {"healthy": (1.0, 0.0), "vanishing": (0.5, 0.0), "exploding": (3.0, 0.0)},
    "lstm": {"healthy": (1.0, 0.0), "vanishing": (0.3, -4.0), "exploding": (3.0, 3.0)},
    "gru": {"healthy": (1.0, 0.0), "vanishing": (0.3, -4.0), "exploding": (3.0, 0.0)},
}


@dataclass
class Case:
    """A callable to time, plus a function turning its result into arrays to compare."""

    impl: str
    run: object
    outputs: object
    samples: list = field(default_factory=list)
    result: object = None


# --- optional frameworks and the twins -------------------------------------------------------


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _import_jax():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def _twins():
    """The NumPy twins from tests/kernels, imported as a private package, or None."""
    folder = ROOT / "tests" / "kernels"
    if not (folder / "ref_rnn.py").exists():
        return None
    name = "_gradlab_bench_twins"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)

    def load(ref):
        try:
            return importlib.import_module(f"{name}.{ref}")
        except ImportError:  # a twin not written yet, or one that needs a missing package
            return None

    return load


# --- inputs shared by every implementation ---------------------------------------------------


@dataclass
class Problem:
    """Params, inputs and upstream gradient for one workload, size and regime (float64, B = 1)."""

    workload: str
    n: int
    T: int
    m: int
    params: object
    x: np.ndarray  # (T, m)
    h0: np.ndarray  # (n,)
    cvec: np.ndarray  # (n,): L = c . h_T
    dh: np.ndarray  # (1, T, n): zeros but the last step
    regime: str = "healthy"


def make_problem(gradlab, workload: str, n: int, T: int, m: int,
                 regime: str = "healthy") -> Problem:
    cell = "rnn" if workload == "spectrum" else workload
    rho, gate_bias = REGIME_SETTINGS[cell][regime]
    p = gradlab.init_params(cell, n, m, scheme="orthogonal", spectral_radius=rho, seed=0)
    rng = np.random.default_rng(1)
    w = {k: 0.1 * rng.standard_normal(v.shape) for k, v in p.weights.items() if k[0] == "b"}
    if gate_bias:
        w["b"][n:2 * n] += gate_bias  # the LSTM's forget gate, the GRU's update gate
    p = p.replace(weights=w)
    x = rng.standard_normal((T, m))
    h0 = 0.1 * rng.standard_normal(n)
    cvec = rng.standard_normal(n)
    dh = np.zeros((1, T, n))
    dh[0, -1] = cvec
    return Problem(workload, n, T, m, p, x, h0, cvec, dh, regime)


def _state_grads(d, lstm):
    out = {"W": np.asarray(d["W"]), "h": np.asarray(d["h"]).reshape(-1)}
    if lstm:
        out["c"] = np.asarray(d["c"]).reshape(-1)
    return out


# --- gradlab ---------------------------------------------------------------------------------


def gradlab_case(gradlab, pb: Problem) -> Case:
    p, x, h0 = pb.params, pb.x[None], pb.h0[None]
    if pb.workload == "spectrum":
        spectrum = getattr(gradlab, "jacobian_spectrum", None)
        if spectrum is None:
            spectrum = importlib.import_module("gradlab.spectra").jacobian_spectrum
        trace = gradlab.forward(p, x, h0)
        return Case("gradlab", lambda: spectrum(p, trace), lambda r: {"top": r[:, 0]})
    lstm = pb.workload == "lstm"

    def run():
        trace = gradlab.forward(p, x, h0)
        return gradlab.backward(p, trace, pb.dh)

    return Case("gradlab", run, lambda g: _state_grads(
        {"W": g.params["W"], "h": g.h, "c": g.c}, lstm))


# --- the NumPy twins -------------------------------------------------------------------------


def numpy_case(load, pb: Problem) -> Case | str:
    w = {k: np.asarray(v) for k, v in pb.params.weights.items()}
    x, h0 = pb.x[None], pb.h0[None]
    n = pb.n
    if pb.workload in ("rnn", "spectrum"):
        ref = load("ref_rnn")
        if ref is None:
            return "tests/kernels/ref_rnn.py not importable"
        ones, zeros = np.ones(n), np.zeros(n)
        b = w["b"] + w["b_h"]
        if pb.workload == "rnn":
            def run():
                s, z = ref.forward(w["W"], w["U"], b, x, h0, zeros, ones, "tanh")
                return ref.backward(w["W"], w["U"], x, s, z, zeros, ones, "tanh", pb.dh)

            return Case("numpy", run, lambda r: {"W": r[1], "h": r[0][0, 1:].reshape(-1)})
        jac = load("ref_jacobian")
        if jac is None:
            return "tests/kernels/ref_jacobian.py not importable"
        s, _ = ref.forward(w["W"], w["U"], b, x, h0, zeros, ones, "tanh")

        def run():
            z = s[:, :-1] @ w["W"].T + x @ w["U"].T + b  # (1, T, n) pre-activations
            J = ref.step_jacobians(w["W"], z, zeros, ones, "tanh")[0]
            return jac.log_singular_values_direct(J)

        return Case("numpy", run, lambda r: {"top": r[:, 0]})
    if pb.workload == "lstm":
        ref = load("ref_lstm")
        if ref is None:
            return "tests/kernels/ref_lstm.py not importable"
        c0 = np.zeros_like(h0)

        def run():  # lstm_backward runs the forward pass itself
            return ref.lstm_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, c0, pb.dh)

        return Case("numpy", run, lambda r: _state_grads(
            {"W": r["params"]["W"], "h": r["h"], "c": r["c"]}, True))
    ref = load("ref_gru")
    if ref is None:
        return "tests/kernels/ref_gru.py not importable"
    variant = pb.params.options.get("gru_variant", "torch")

    def run():  # gru_backward runs the forward pass itself
        return ref.gru_backward(w["W"], w["U"], w["b"], w["b_h"], x, h0, pb.dh, variant)

    return Case("numpy", run, lambda r: _state_grads(
        {"W": r["params"]["W"], "h": r["h"]}, False))


# --- PyTorch eager ---------------------------------------------------------------------------


def torch_case(torch, pb: Problem) -> Case | str:
    f64 = torch.float64
    n, T = pb.n, pb.T

    def leaf(a):
        return torch.tensor(np.asarray(a), dtype=f64, requires_grad=True)

    w = {k: leaf(v) for k, v in pb.params.weights.items() if k in ("W", "U", "b", "b_h")}
    W, U, b, b_h = w["W"], w["U"], w["b"], w["b_h"]
    X, h0 = leaf(pb.x), leaf(pb.h0)
    cvec = torch.tensor(pb.cvec, dtype=f64)
    if pb.workload == "gru" and pb.params.options.get("gru_variant", "torch") != "torch":
        return "only the 'torch' GRU variant is written for PyTorch"
    if pb.workload == "spectrum":
        from torch.func import jacrev, vmap

        with torch.no_grad():
            xu = X @ U.T + b + b_h  # (T, n)
            hs = [h0]
            for t in range(T):
                hs.append(torch.tanh(W @ hs[-1] + xu[t]))
            hprev = torch.stack(hs[:-1])  # (T, n): h_0 .. h_{T-1}
        Wd, xud = W.detach(), xu.detach()

        def step(h, u):
            return torch.tanh(Wd @ h + u)

        def run():
            with torch.no_grad():
                J = vmap(jacrev(step))(hprev, xud)  # (T, n, n)
                P = torch.eye(n, dtype=f64)
                prods = []
                for t in range(T - 1, -1, -1):
                    P = P @ J[t]
                    prods.append(P)
                return torch.linalg.svdvals(torch.stack(prods)).log()

        return Case("torch", run, lambda r: {"top": r[:, 0].numpy()})

    def run():
        eps = torch.zeros(T, n, dtype=f64, requires_grad=True)  # dL/deps_t = dL/dh_t
        e = eps.unbind(0)
        xu = (X @ U.T + b).unbind(0)  # U x_t + b for every step in one product
        h = h0
        extra = []
        if pb.workload == "rnn":
            for t in range(T):
                h = torch.tanh(xu[t] + (W @ h + b_h)) + e[t]
        elif pb.workload == "lstm":
            epc = torch.zeros(T, n, dtype=f64, requires_grad=True)
            ec = epc.unbind(0)
            extra = [epc]
            c = torch.zeros(n, dtype=f64)
            for t in range(T):
                a = xu[t] + (W @ h + b_h)
                i = torch.sigmoid(a[:n])
                f = torch.sigmoid(a[n:2 * n])
                g = torch.tanh(a[2 * n:3 * n])
                o = torch.sigmoid(a[3 * n:])
                c = f * c + i * g
                h = o * torch.tanh(c) + e[t]
                c = c + ec[t]
        else:  # gru, PyTorch's variant
            for t in range(T):
                a = W @ h + b_h
                r = torch.sigmoid(xu[t][:n] + a[:n])
                z = torch.sigmoid(xu[t][n:2 * n] + a[n:2 * n])
                cand = torch.tanh(xu[t][2 * n:] + r * a[2 * n:])
                h = (1 - z) * cand + z * h + e[t]
        loss = cvec @ h
        return torch.autograd.grad(loss, [W, U, b, b_h, X, h0, eps, *extra])

    lstm = pb.workload == "lstm"
    return Case("torch", run, lambda g: _state_grads(
        {"W": g[0].numpy(), "h": g[6].numpy(), "c": g[7].numpy() if lstm else None}, lstm))


# --- JAX -------------------------------------------------------------------------------------


def jax_case(jax, pb: Problem) -> Case | str:
    jnp = jax.numpy
    lax = jax.lax
    n, T = pb.n, pb.T
    wts = pb.params.weights
    W, U, b, b_h = (jnp.asarray(np.asarray(wts[k])) for k in ("W", "U", "b", "b_h"))
    X, h0, cvec = jnp.asarray(pb.x), jnp.asarray(pb.h0), jnp.asarray(pb.cvec)
    if pb.workload == "gru" and pb.params.options.get("gru_variant", "torch") != "torch":
        return "only the 'torch' GRU variant is written for JAX"
    if pb.workload == "spectrum":
        xu = X @ U.T + b + b_h

        def scan_h(h, u):
            h = jnp.tanh(W @ h + u)
            return h, h

        _, hs = lax.scan(scan_h, h0, xu)
        hprev = jnp.concatenate([h0[None], hs[:-1]])  # (T, n): h_0 .. h_{T-1}

        @jax.jit
        def spectrum(W, xu, hprev):
            J = jax.vmap(jax.jacrev(lambda h, u: jnp.tanh(W @ h + u)))(hprev, xu)  # (T, n, n)

            def mul(P, Jt):
                P = P @ Jt
                return P, P

            _, prods = lax.scan(mul, jnp.eye(n), J[::-1])  # P_l = J_T ... J_{T-l+1}
            return jnp.log(jnp.linalg.svd(prods, compute_uv=False))

        def run():
            return jax.block_until_ready(spectrum(W, xu, hprev))

        return Case("jax", run, lambda r: {"top": np.asarray(r[:, 0])})

    workload = pb.workload

    def loss(W, U, b, b_h, X, h0, eps, epc):
        xu = X @ U.T + b  # U x_t + b for every step in one product

        if workload == "rnn":
            def step(h, inp):
                u, e = inp
                return jnp.tanh(u + (W @ h + b_h)) + e, None

            h, _ = lax.scan(step, h0, (xu, eps))
        elif workload == "lstm":
            def step(hc, inp):
                h, c = hc
                u, e, ec = inp
                a = u + (W @ h + b_h)
                i = jax.nn.sigmoid(a[:n])
                f = jax.nn.sigmoid(a[n:2 * n])
                g = jnp.tanh(a[2 * n:3 * n])
                o = jax.nn.sigmoid(a[3 * n:])
                c = f * c + i * g
                return (o * jnp.tanh(c) + e, c + ec), None

            (h, _), _ = lax.scan(step, (h0, jnp.zeros(n)), (xu, eps, epc))
        else:
            def step(h, inp):
                u, e = inp
                a = W @ h + b_h
                r = jax.nn.sigmoid(u[:n] + a[:n])
                z = jax.nn.sigmoid(u[n:2 * n] + a[n:2 * n])
                cand = jnp.tanh(u[2 * n:] + r * a[2 * n:])
                return (1 - z) * cand + z * h + e, None

            h, _ = lax.scan(step, h0, (xu, eps))
        return cvec @ h

    grad = jax.jit(jax.grad(loss, argnums=tuple(range(8))))
    zeros = jnp.zeros((T, n))

    def run():
        return jax.block_until_ready(grad(W, U, b, b_h, X, h0, zeros, zeros))

    lstm = workload == "lstm"
    return Case("jax", run, lambda g: _state_grads(
        {"W": np.asarray(g[0]), "h": np.asarray(g[6]), "c": np.asarray(g[7])}, lstm))
