"""Benchmarks: gradlab's kernels against the plain-NumPy twins, PyTorch eager and jitted JAX.

``gradlab bench`` (or ``python -m gradlab.bench``) prints one row per workload, size and
implementation: the median wall time over repeated runs after a warm-up, GFLOP/s by the
model below, how many times faster gradlab is than that row, and how closely the row's
result agrees with gradlab's. ``--markdown`` adds a table for the README; ``--quick`` is a
smoke run (smallest size, few repeats, no compile timing).

Workloads (float64, one sequence, CPU; the same inputs for every implementation):

- ``rnn``: tanh RNN forward pass plus full BPTT -- dL/dh_t for every t, dL/dh_0, dL/dx and
  every parameter gradient -- for a loss on the last step only, L = c . h_T (fixed random
  c). n in (32, 128, 512), T in (100, 1000), m = 4 inputs per step (the lab's default;
  ``--inputs`` changes it). Orthogonal W at spectral radius 1, x ~ N(0, 1).
- ``lstm``, ``gru``: the same for the LSTM (also dL/dc_t) and the GRU (PyTorch's variant).
- ``spectrum``: ``gradlab.jacobian_spectrum(params, trace)`` -- log singular values of
  dh_T/dh_{T-l} for every lag l -- for the tanh RNN at n in (32, 64, 128), T = 200, from a
  trace computed beforehand (not timed).

Implementations:

- ``gradlab``: ``gradlab.forward`` + ``gradlab.backward`` (public API, shape checks included).
- ``numpy``: the slow, obvious twins in the repository's ``tests/kernels/ref_*.py``, loaded
  by path. They are the project's reference, kept in step with the kernels by the test
  suite; copying them into the package would make a second reference that could drift.
  Without a source checkout (no ``tests/``) these rows are skipped with a note.
- ``torch``: PyTorch eager, float64, autograd; dL/dh_t as the gradient with respect to a
  zero added to each h_t (as JAX). Spectrum: ``torch.func.jacrev`` of the step map,
  vmapped over t, a loop of products, ``torch.linalg.svdvals``.
- ``jax``: ``jax.jit(jax.grad(...))`` of a ``lax.scan`` with x64 enabled, timed with
  ``block_until_ready``; U x_t for all steps is one product before the scan, as in the
  kernels. Spectrum: ``jax.jacrev`` of the step map vmapped over t, the per-lag products
  by a scan, ``jnp.linalg.svd(compute_uv=False)`` of all of them, all in one jit.

FLOP model (matrix products only; activations, elementwise work and overheads are free):

- rnn / lstm / gru, with G = 1, 4, 3 gate blocks, per step: forward W h (2 G n^2) and U x
  (2 G n m); backward W^T delta (2 G n^2), dW (2 G n^2), dU (2 G n m), dx (2 G n m).
  Total T (6 G n^2 + 6 G n m).
- spectrum: the direct method's work, for every implementation alike: per lag one n x n
  product (2 n^3) and one SVD without vectors (8/3 n^3, the bidiagonalisation count of
  Golub and Van Loan). Total T * 14/3 n^3. (gradlab's log-domain QR method does different
  work; the column is a rate on a common scale, i.e. the inverse time.)

Timing: each implementation is run once to warm up (JAX compiles there; the result is
kept for the agreement column), then samples are taken round-robin over the
implementations, in several rounds, until each has used its time budget (at least five
samples; a single one when a call takes more than two seconds, which for NumPy and PyTorch
is the warm-up itself); the median is reported. Ratios are within one run. Before each
case's samples the bench pauses 0.1 s, so that thread pools the previous case left
spinning do not compete with it.

Threads and memory: BLAS and JAX thread counts are left at their defaults (``make bench``
sets OPENBLAS_NUM_THREADS=1). PyTorch runs with one intra-op thread (``--torch-threads``): on
single-sequence work its pool only adds synchronisation, and on a busy 2-core machine two
threads made it 4 to 10 times slower. gradlab runs large sweeps on a pair of threads of its
own (``gradlab.pair``: from n = 91 for the RNN, 46 for the LSTM, 53 for the GRU at B = 1, for
passes of at least 4 million multiply-adds); GRADLAB_THREADS=1 keeps it on one.
``--malloc tuned`` (the default) raises glibc's malloc thresholds for the whole process, all
implementations alike (see ``tune_malloc``).

Compile time: ``import gradlab`` and the first call of each workload run in a subprocess
whose ``NUMBA_CACHE_DIR`` is a fresh temporary directory (empty cache: everything
compiles), then again with the same directory (warm cache: the compiled code is loaded).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

IMPLS = ("gradlab", "numpy", "torch", "jax")
WORKLOADS = ("rnn", "lstm", "gru", "spectrum")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SIZES = {
    "rnn": [(n, T) for n in (32, 128, 512) for T in (100, 1000)],
    "lstm": [(n, T) for n in (32, 128, 512) for T in (100, 1000)],
    "gru": [(n, T) for n in (32, 128, 512) for T in (100, 1000)],
    "spectrum": [(n, 200) for n in (32, 64, 128)],
}
QUICK_SIZES = {"rnn": [(32, 100)], "lstm": [(32, 100)], "gru": [(32, 100)],
               "spectrum": [(32, 50)]}
ROOT = pathlib.Path(__file__).resolve().parents[1]
SLOW = 2.0  # seconds per call above which a case is timed once after its warm-up
# pause before each case's samples, so that thread pools another case left spinning (OpenBLAS
# keeps its threads busy-waiting for a while after a threaded call) have gone to sleep
SETTLE = 0.1


# --- results -------------------------------------------------------------------------------


@dataclass
class Row:
    """One timed implementation of one workload at one size."""

    workload: str
    n: int
    T: int
    impl: str
    ms: float = math.nan
    gflops: float = math.nan
    speedup: float = math.nan  # this row's time / gradlab's time
    agree: str = ""
    note: str = ""


@dataclass
class Case:
    """A callable to time, plus a function turning its result into arrays to compare."""

    impl: str
    run: object
    outputs: object
    samples: list = field(default_factory=list)
    result: object = None


def flops(workload: str, n: int, T: int, m: int) -> float:
    """The FLOP model of the module docstring."""
    if workload == "spectrum":
        return T * 14.0 / 3.0 * n**3
    G = GATES[workload]
    return T * (6.0 * G * n * n + 6.0 * G * n * m)


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
    """Params, inputs and upstream gradient for one workload and size (float64, B = 1)."""

    workload: str
    n: int
    T: int
    m: int
    params: object
    x: np.ndarray  # (T, m)
    h0: np.ndarray  # (n,)
    cvec: np.ndarray  # (n,): L = c . h_T
    dh: np.ndarray  # (1, T, n): zeros but the last step


def make_problem(gradlab, workload: str, n: int, T: int, m: int) -> Problem:
    cell = "rnn" if workload == "spectrum" else workload
    p = gradlab.init_params(cell, n, m, scheme="orthogonal", spectral_radius=1.0, seed=0)
    rng = np.random.default_rng(1)
    w = {k: 0.1 * rng.standard_normal(v.shape) for k, v in p.weights.items() if k[0] == "b"}
    p = p.replace(weights=w)
    x = rng.standard_normal((T, m))
    h0 = 0.1 * rng.standard_normal(n)
    cvec = rng.standard_normal(n)
    dh = np.zeros((1, T, n))
    dh[0, -1] = cvec
    return Problem(workload, n, T, m, p, x, h0, cvec, dh)


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


# --- timing ----------------------------------------------------------------------------------


def _agreement(ref: dict, got: dict) -> str:
    """Largest relative difference over the compared arrays, or where one is not finite."""
    worst = 0.0
    for k, a in ref.items():
        a, g = np.asarray(a, dtype=float), np.asarray(got[k], dtype=float)
        fa, fg = np.isfinite(a), np.isfinite(g)
        if not np.array_equal(fa, fg):
            return "nonfinite"
        if not fa.any():
            continue
        scale = max(float(np.max(np.abs(a[fa]))), 1e-300)
        worst = max(worst, float(np.max(np.abs(a[fa] - g[fa]))) / scale)
    return f"{worst:.0e}"


def time_cases(cases: list[Case], budget: float, rounds: int, min_reps: int) -> None:
    """Warm up every case, then sample them round-robin until each used its budget.

    The warm-up call's result is kept (``case.result``) for the agreement check. A case
    slower than its whole budget per call is sampled ``min_reps`` times, and once when a
    call takes longer than ``SLOW`` seconds (the slowest NumPy twins); for those, a warm-up
    of a case that compiles nothing (NumPy, PyTorch) is that one sample.
    """
    for c in cases:
        t0 = time.perf_counter()
        c.result = c.run()  # first call: compiles (JAX, a cold numba cache), fills caches
        first = time.perf_counter() - t0
        if first > SLOW and c.impl in ("numpy", "torch"):
            c.samples.append(first)
            continue
        t0 = time.perf_counter()
        c.run()
        c.samples.append(time.perf_counter() - t0)
    for _ in range(rounds):
        for c in cases:
            time.sleep(SETTLE)
            est = max(c.samples[0], 1e-7)
            want = 1 if est > SLOW else max(min_reps, int(budget / est))
            reps = min(2000, -(-(want - 1) // rounds))
            for _ in range(reps):
                t0 = time.perf_counter()
                c.run()
                c.samples.append(time.perf_counter() - t0)


def bench_workload(workload, sizes, impls, m, budget, rounds, min_reps, mods, out) -> list[Row]:
    gradlab = mods["gradlab"]
    rows = []
    for n, T in sizes:
        try:
            pb = make_problem(gradlab, workload, n, T, m)
            ours = gradlab_case(gradlab, pb)
            ours.run()
        except Exception as e:  # a cell or function still being written
            rows.append(Row(workload, n, T, "gradlab", note=f"skipped: {type(e).__name__}: {e}"))
            out(format_row(rows[-1]))
            continue
        cases, notes = [ours], {}
        makers = {"numpy": (numpy_case, "twins"), "torch": (torch_case, "torch"),
                  "jax": (jax_case, "jax")}
        for impl in impls:
            if impl == "gradlab":
                continue
            maker, mod = makers[impl]
            if mods.get(mod) is None:
                notes[impl] = mods.get(f"{mod}_note", f"{impl} not importable")
                continue
            try:
                case = maker(mods[mod], pb)
            except Exception as e:
                case = f"setup failed: {type(e).__name__}: {e}"
            if isinstance(case, str):
                notes[impl] = case
            else:
                cases.append(case)
        time_cases(cases, budget, rounds, min_reps)
        ref = ours.outputs(ours.result)
        base = float(np.median(ours.samples))
        fl = flops(workload, n, T, m)
        for impl in impls:
            case = next((c for c in cases if c.impl == impl), None)
            if case is None:
                row = Row(workload, n, T, impl, note=notes.get(impl, ""))
            else:
                med = float(np.median(case.samples))
                agree = "" if impl == "gradlab" else _agreement(ref, case.outputs(case.result))
                row = Row(workload, n, T, impl, med * 1e3, fl / med / 1e9, med / base, agree,
                          f"{len(case.samples)} runs")
            rows.append(row)
            out(format_row(row))
    return rows


# --- compile time ----------------------------------------------------------------------------

_COMPILE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import gradlab
res = {"import gradlab": time.perf_counter() - t0}
def first(name, fn):
    t = time.perf_counter()
    try:
        fn()
        res[name] = time.perf_counter() - t
    except Exception as e:
        res[name] = repr(e)[:80]
def fwd_bwd(cell):
    p = gradlab.init_params(cell, 8, 3, seed=0)
    tr = gradlab.forward(p, np.ones((5, 3)))
    gradlab.backward(p, tr, np.ones((1, 5, 8)))
def spectrum():
    p = gradlab.init_params("rnn", 8, 3, seed=0)
    f = getattr(gradlab, "jacobian_spectrum", None)
    if f is None:
        from gradlab.spectra import jacobian_spectrum as f
    f(p, gradlab.forward(p, np.ones((40, 3))))
for w in sys.argv[1:]:
    first(w, spectrum if w == "spectrum" else (lambda w=w: fwd_bwd(w)))
print(json.dumps(res))
"""


def compile_times(workloads, out) -> dict:
    """First-call times in fresh processes: empty numba cache, then warm cache."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="gradlab-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty cache", "warm cache"):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT, *workloads],
                                  capture_output=True, text=True, env=env, timeout=900,
                                  cwd=str(ROOT))
            try:
                results[label] = json.loads(proc.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                results[label] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    keys = ["import gradlab", *workloads]
    out("")
    out("First call in a fresh process (float64), seconds; each workload after the previous:")
    out(f"  {'':<16}{'empty numba cache':>20}{'warm cache':>14}")
    for k in keys:
        cells = []
        for label in ("empty cache", "warm cache"):
            v = results[label].get(k, results[label].get("error", "?"))
            cells.append(f"{v:.2f}" if isinstance(v, float) else str(v)[:40])
        label = k if k == "import gradlab" else f"{k} first call"
        out(f"  {label:<16}{cells[0]:>20}{cells[1]:>14}")
    return results


# --- output ----------------------------------------------------------------------------------

HEADER = (f"{'workload':<9}{'n':>5}{'T':>6}  {'impl':<8}{'median ms':>11}{'GFLOP/s':>9}"
          f"{'gradlab x':>11}{'agrees':>9}  note")


def _num(v, fmt):
    """v formatted, or a dash of the same width when there is no number."""
    if math.isfinite(v):
        return format(v, fmt)
    width = fmt.split(".")[0]
    return format("-", f">{width}") if width else "-"


def format_row(r: Row) -> str:
    return (f"{r.workload:<9}{r.n:>5}{r.T:>6}  {r.impl:<8}{_num(r.ms, '11.3f')}"
            f"{_num(r.gflops, '9.2f')}{_num(r.speedup, '11.2f')}{r.agree or '-':>9}  {r.note}")


def markdown(rows: list[Row], impls) -> str:
    others = [i for i in impls if i != "gradlab"]
    names = {"numpy": "NumPy twin", "torch": "PyTorch eager", "jax": "JAX jit"}
    head = ["workload", "n", "T", "gradlab ms", "GFLOP/s"]
    head += [f"{names[i]} ms" for i in others] + [f"x vs {names[i]}" for i in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = []
    for r in rows:
        if (r.workload, r.n, r.T) not in keys:
            keys.append((r.workload, r.n, r.T))
    by = {(r.workload, r.n, r.T, r.impl): r for r in rows}
    for w, n, T in keys:
        g = by.get((w, n, T, "gradlab"))
        if g is None or not math.isfinite(g.ms):
            continue
        cells = [w, str(n), str(T), f"{g.ms:.3f}", f"{g.gflops:.2f}"]
        cells += [_num(by[(w, n, T, i)].ms, ".3f") if (w, n, T, i) in by else "-" for i in others]
        cells += [_num(by[(w, n, T, i)].speedup, ".1f") if (w, n, T, i) in by else "-"
                  for i in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _versions(mods) -> str:
    import numba

    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}",
             f"numba {numba.__version__}"]
    if mods.get("torch") is not None:
        parts.append(f"torch {mods['torch'].__version__} ({mods['torch'].get_num_threads()} "
                     "threads)")
    if mods.get("jax") is not None:
        parts.append(f"jax {mods['jax'].__version__}")
    return ", ".join(parts)


# --- process setup ---------------------------------------------------------------------------

MALLOC_MMAP_THRESHOLD = 32 << 20  # bytes
MALLOC_TRIM_THRESHOLD = 256 << 20


def tune_malloc() -> bool:
    """Ask glibc to keep freed memory for reuse instead of returning it to the OS.

    Each forward + backward call returns new arrays (about 4 MB at n = 128, T = 1000). With
    glibc's defaults those pages go back to the OS when freed and are faulted in again, zeroed,
    on the next call: about 1000 page faults, which on this VM (2-3 us each) cost more than
    the arithmetic. Raising the mmap and trim thresholds keeps them in the heap. The setting
    is per process and affects every implementation in it alike. Returns False when the C
    library is not glibc (then nothing changes).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from malloc.h
        ok = libc.mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
        ok &= libc.mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
    except (OSError, AttributeError):
        return False
    return bool(ok)


def _load_note() -> str:
    """A warning when other processes keep the cores busy (timings then mean little)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return ""
    cores = os.cpu_count() or 1
    if load < 0.5 * cores:
        return ""
    return (f"warning: load average {load:.1f} on {cores} cores before starting: other processes "
            "are running, so times are slower and noisier than on an idle machine (and "
            "multithreaded BLAS can stall; OPENBLAS_NUM_THREADS=1 avoids that)")


# --- command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gradlab bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: smallest size of each workload, few repeats, no compile "
                         "timing")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma-separated subset of {','.join(WORKLOADS)}")
    ap.add_argument("--impls", default=",".join(IMPLS),
                    help=f"comma-separated subset of {','.join(IMPLS)} (gradlab always runs)")
    ap.add_argument("--inputs", type=int, default=4, help="inputs per step m (default 4)")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds of sampling per implementation and size (default 0.6; "
                         "quick 0.05)")
    ap.add_argument("--no-compile", action="store_true",
                    help="skip the compile-time measurement")
    ap.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                    help="glibc malloc thresholds: 'tuned' keeps freed memory for reuse (see "
                         "tune_malloc), 'default' leaves them")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch.set_num_threads for the PyTorch rows (default 1, see the "
                         "module docstring)")
    return ap


def _split(value, allowed, what):
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise ValueError(f"{what}={value!r}: choose from {','.join(allowed)}")
    return items


def main(argv=None) -> int:
    """Run the benchmarks; returns 0 (2 on a bad command line)."""
    ap = _parser()
    try:
        args = ap.parse_args(argv)
        workloads = _split(args.workloads, WORKLOADS, "--workloads")
        impls = ["gradlab", *[i for i in _split(args.impls, IMPLS, "--impls") if i != "gradlab"]]
        if args.inputs < 1:
            raise ValueError(f"--inputs={args.inputs} must be at least 1")
    except ValueError as e:
        print(f"gradlab bench: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # argparse's own --help / usage errors
        return int(e.code or 0)

    def out(line=""):
        print(line, flush=True)

    malloc = "glibc defaults"
    if args.malloc == "tuned":
        malloc = ("glibc mmap/trim thresholds raised (freed memory is reused)" if tune_malloc()
                  else "defaults (not glibc)")

    import gradlab

    mods = {"gradlab": gradlab}
    if "numpy" in impls:
        mods["twins"] = _twins()
        mods["twins_note"] = "no tests/kernels twins next to this gradlab (not a source checkout)"
    if "torch" in impls:
        mods["torch"] = _import_torch()
        mods["torch_note"] = "torch not installed"
        if mods["torch"] is not None and args.torch_threads > 0:
            mods["torch"].set_num_threads(args.torch_threads)
    if "jax" in impls:
        mods["jax"] = _import_jax()
        mods["jax_note"] = "jax not installed (pip install jax jaxlib)"
    budget = args.budget if args.budget is not None else (0.05 if args.quick else 0.6)
    rounds, min_reps = (1, 3) if args.quick else (3, 5)
    sizes = QUICK_SIZES if args.quick else SIZES

    out(f"gradlab bench: float64, B = 1, m = {args.inputs} inputs, CPU, "
        f"{os.cpu_count()} cores; {_versions(mods)}")
    busy = _load_note()
    if busy:
        out(busy)
    out("median of repeated runs after warm-up; 'gradlab x' = this row's time / gradlab's "
        "(above 1: gradlab is faster); 'agrees' = largest relative difference from gradlab's "
        "result")
    out(f"malloc: {malloc}")
    out("")
    out(HEADER)
    rows = []
    for w in workloads:
        rows += bench_workload(w, sizes[w], impls, args.inputs, budget, rounds, min_reps,
                               mods, out)
    if not (args.quick or args.no_compile):
        compile_times(workloads, out)
    if args.markdown:
        out("")
        out(markdown(rows, impls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
