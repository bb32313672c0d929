"""The benchmark command: gradlab against jitted JAX (and optionally PyTorch and the twins).

``make bench`` (``python -m benchmarks``) runs in one plain process, as a user's script or the
lab runs gradlab: no malloc or thread tuning that the library does not apply itself (BLAS,
JAX and PyTorch keep their defaults, except ``--torch-threads``). It prints:

1. **Regimes**: forward pass + full BPTT for RNN, LSTM and GRU at n = 128, T = 1000 (m = 4,
   B = 1, float64), in the healthy, vanishing and exploding regimes (``benchmarks.cases``),
   and ``jacobian_spectrum`` of a tanh RNN at n = 64, T = 200: the median time of each
   implementation and how many times faster gradlab is (``x``: above 1, gradlab is faster),
   with the largest relative difference of its result from gradlab's.
2. **Busy cores**: gradlab's default against one thread (``GRADLAB_THREADS=1``), and with
   ``--pair`` against the opt-in pair (``GRADLAB_THREADS=2``), for the three cells at
   n = 128, T = 1000: on the machine as it is, with one CPU-bound process running beside it,
   and with four caller threads at once. ``one/default`` below 1 would mean the default lost
   to one thread (the default *is* one thread, so the column shows the run's noise).

Timing: each implementation is run once to warm up (JAX compiles there; the result is kept
for the agreement column), then samples are taken round-robin over the implementations, in
several rounds, until each has used its time budget; the median is reported. Ratios are
within one run: on a shared machine, compare ratios, not milliseconds across runs.
``--quick`` is a smoke run (small sizes, few repeats); ``--markdown`` adds the tables for
the README; ``--compile`` adds first-call times in fresh processes (empty and warm cache).

FLOP model (``flops``; matrix products only): rnn / lstm / gru with G = 1, 4, 3 gate
blocks, T (6 G n^2 + 6 G n m); spectrum, the direct method's T * 14/3 n^3.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import numpy as np

from .cases import (
    REGIMES,
    ROOT,
    Case,
    _import_jax,
    _import_torch,
    _twins,
    gradlab_case,
    jax_case,
    make_problem,
    numpy_case,
    torch_case,
)

IMPLS = ("gradlab", "numpy", "torch", "jax")
CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SIZE, SPECTRUM_SIZE = (128, 1000), (64, 200)
QUICK_SIZE, QUICK_SPECTRUM_SIZE = (32, 100), (32, 50)
SLOW = 2.0  # seconds per call above which a case is timed once after its warm-up
SETTLE = 0.1  # pause before each case's samples (other pools go quiet)
SETTINGS = {"default": None, "one": "1", "pair": "2"}  # GRADLAB_THREADS for the busy table
ENV = "GRADLAB_THREADS"


@dataclass
class Row:
    """One timed implementation of one workload, regime and size."""

    workload: str
    regime: str
    n: int
    T: int
    impl: str
    ms: float = math.nan
    gflops: float = math.nan
    speedup: float = math.nan  # this row's time / gradlab's time
    agree: str = ""
    note: str = ""


def flops(workload: str, n: int, T: int, m: int) -> float:
    """The FLOP model of the module docstring."""
    if workload == "spectrum":
        return T * 14.0 / 3.0 * n**3
    G = GATES[workload]
    return T * (6.0 * G * n * n + 6.0 * G * n * m)


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


def bench_case(workload, regime, n, T, impls, m, budget, rounds, min_reps, mods, out):
    """Rows for one workload, regime and size: gradlab and every other implementation."""
    gradlab = mods["gradlab"]
    try:
        pb = make_problem(gradlab, workload, n, T, m, regime)
        ours = gradlab_case(gradlab, pb)
        ours.run()
    except Exception as e:  # a cell or function still being written
        row = Row(workload, regime, n, T, "gradlab", note=f"skipped: {type(e).__name__}: {e}")
        out(format_row(row))
        return [row]
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
    with np.errstate(all="ignore"):  # (exploding runs overflow in some implementations)
        time_cases(cases, budget, rounds, min_reps)
    ref = ours.outputs(ours.result)
    base = float(np.median(ours.samples))
    fl = flops(workload, n, T, m)
    rows = []
    for impl in impls:
        case = next((c for c in cases if c.impl == impl), None)
        if case is None:
            row = Row(workload, regime, n, T, impl, note=notes.get(impl, ""))
        else:
            med = float(np.median(case.samples))
            agree = "" if impl == "gradlab" else _agreement(ref, case.outputs(case.result))
            row = Row(workload, regime, n, T, impl, med * 1e3, fl / med / 1e9, med / base,
                      agree, f"{len(case.samples)} runs")
        rows.append(row)
        out(format_row(row))
    return rows


# --- busy cores ------------------------------------------------------------------------------


@contextlib.contextmanager
def threads_setting(value):
    """GRADLAB_THREADS set to ``value`` (None: unset, gradlab's default) for the block; the
    variable is gradlab's documented per-call choice, read on every pass."""
    old = os.environ.get(ENV)
    if value is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old


@contextlib.contextmanager
def cpu_hog():
    """One CPU-bound process running beside the benchmark for the block."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let it get going
        yield
    finally:
        hog.kill()
        hog.wait()


def _per_call(fn, callers: int, calls: int) -> float:
    """Seconds per call: ``callers`` threads each make ``calls`` calls, wall time / total."""
    if callers == 1:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t0) / calls
    errors = []

    def caller():
        try:
            for _ in range(calls):
                fn()
        except Exception as e:  # reported after the threads have joined
            errors.append(e)

    workers = [threading.Thread(target=caller) for _ in range(callers)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return (time.perf_counter() - t0) / (callers * calls)


def _round_ratio(samples: dict, a: str, b: str) -> float:
    """Median over rounds of samples[a] / samples[b] within each round (drift cancels)."""
    if b not in samples:
        return math.nan
    return float(np.median(np.array(samples[a]) / np.array(samples[b])))


def busy_ratios(gradlab, cells, n, T, m, rounds, calls, out, pair=False) -> list[dict]:
    """For each cell and condition (as is, one CPU-bound process, 4 callers), the median time
    per call of each GRADLAB_THREADS setting (default and one thread; with ``pair`` also the
    opt-in pair, which can be very slow on a busy machine), interleaved round by round, and
    the ratios as the median over rounds of each round's ratio."""
    results = []
    settings = {k: v for k, v in SETTINGS.items() if pair or k != "pair"}
    conditions = (("as is", contextlib.nullcontext, 1), ("1 busy process", cpu_hog, 1),
                  ("4 callers", contextlib.nullcontext, 4))
    for cell in cells:
        pb = make_problem(gradlab, cell, n, T, m)
        fn = gradlab_case(gradlab, pb).run
        for setting in settings.values():
            with threads_setting(setting):
                fn()  # compiled, blocks built
        for label, context, callers in conditions:
            samples = {k: [] for k in settings}
            with context():
                for _ in range(rounds):
                    for name, setting in settings.items():
                        with threads_setting(setting):
                            samples[name].append(_per_call(fn, callers, calls))
            ms = {k: 1e3 * float(np.median(v)) for k, v in samples.items()}
            ms.setdefault("pair", math.nan)
            res = {"cell": cell, "condition": label, **ms,
                   "one/default": _round_ratio(samples, "one", "default"),
                   "one/pair": _round_ratio(samples, "one", "pair")}
            results.append(res)
            out(f"{cell:<6}{label:<16}{ms['default']:>10.2f}{ms['one']:>10.2f}"
                f"{_num(ms['pair'], '10.2f')}{res['one/default']:>13.2f}"
                f"{_num(res['one/pair'], '10.2f')}")
    return results


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

HEADER = (f"{'workload':<9}{'regime':<10}{'n':>5}{'T':>6}  {'impl':<8}{'median ms':>11}"
          f"{'GFLOP/s':>9}{'gradlab x':>11}{'agrees':>9}  note")
BUSY_HEADER = (f"{'cell':<6}{'condition':<16}{'default ms':>10}{'one ms':>10}{'pair ms':>10}"
               f"{'one/default':>13}{'one/pair':>10}")


def format_row(r: Row) -> str:
    return (f"{r.workload:<9}{r.regime:<10}{r.n:>5}{r.T:>6}  {r.impl:<8}{_num(r.ms, '11.3f')}"
            f"{_num(r.gflops, '9.2f')}{_num(r.speedup, '11.2f')}{r.agree or '-':>9}  {r.note}")


def markdown(rows: list[Row], impls) -> str:
    """The regime table for the README: gradlab's time and its ratio to each other row."""
    others = [i for i in impls if i != "gradlab"]
    names = {"numpy": "NumPy twin", "torch": "PyTorch eager", "jax": "JAX jit"}
    head = ["workload", "regime", "n", "T", "gradlab ms"]
    head += [f"{names[i]} ms" for i in others] + [f"x vs {names[i]}" for i in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = []
    for r in rows:
        if (r.workload, r.regime, r.n, r.T) not in keys:
            keys.append((r.workload, r.regime, r.n, r.T))
    by = {(r.workload, r.regime, r.n, r.T, r.impl): r for r in rows}
    for key in keys:
        g = by.get((*key, "gradlab"))
        if g is None or not math.isfinite(g.ms):
            continue
        w, regime, n, T = key
        cells = [w, regime, str(n), str(T), f"{g.ms:.2f}"]
        cells += [_num(by[(*key, i)].ms, ".2f") if (*key, i) in by else "-" for i in others]
        cells += [_num(by[(*key, i)].speedup, ".2f") if (*key, i) in by else "-"
                  for i in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def busy_markdown(results: list[dict]) -> str:
    lines = ["| cell | condition | default ms | one thread ms | pair ms | one / default "
             "| one / pair |", "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['cell']} | {r['condition']} | {r['default']:.2f} | {r['one']:.2f} "
                     f"| {_num(r['pair'], '.2f')} | {r['one/default']:.2f} "
                     f"| {_num(r['one/pair'], '.2f')} |")
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


def _num(v, fmt):
    """v formatted, or a dash of the same width when there is no number."""
    if math.isfinite(v):
        return format(v, fmt)
    width = fmt.split(".")[0]
    return format("-", f">{width}") if width else "-"


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
    ap = argparse.ArgumentParser(prog="python -m benchmarks",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: small sizes, few repeats")
    ap.add_argument("--markdown", action="store_true", help="also print markdown tables")
    ap.add_argument("--workloads", default=",".join((*CELLS, "spectrum")),
                    help="comma-separated subset of rnn,lstm,gru,spectrum")
    ap.add_argument("--regimes", default=",".join(REGIMES),
                    help=f"comma-separated subset of {','.join(REGIMES)}")
    ap.add_argument("--impls", default="gradlab,jax",
                    help=f"comma-separated subset of {','.join(IMPLS)} (gradlab always runs; "
                         "default gradlab,jax)")
    ap.add_argument("--inputs", type=int, default=4, help="inputs per step m (default 4)")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds of sampling per implementation and case (default 0.6; "
                         "quick 0.05)")
    ap.add_argument("--no-busy", action="store_true", help="skip the busy-core table")
    ap.add_argument("--pair", action="store_true",
                    help="also time the opt-in pair (GRADLAB_THREADS=2) in the busy-core table "
                         "(slow on a busy machine: it waits for the other core every step)")
    ap.add_argument("--compile", action="store_true",
                    help="also time first calls in fresh processes")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch.set_num_threads for the PyTorch rows (default 1)")
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
        workloads = _split(args.workloads, (*CELLS, "spectrum"), "--workloads")
        regimes = _split(args.regimes, REGIMES, "--regimes")
        impls = ["gradlab", *[i for i in _split(args.impls, IMPLS, "--impls") if i != "gradlab"]]
        if args.inputs < 1:
            raise ValueError(f"--inputs={args.inputs} must be at least 1")
    except ValueError as e:
        print(f"benchmarks: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # argparse's own --help / usage errors
        return int(e.code or 0)

    def out(line=""):
        print(line, flush=True)

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
        mods["jax_note"] = "jax not installed (pip install jax)"
    budget = args.budget if args.budget is not None else (0.05 if args.quick else 0.6)
    rounds, min_reps = (1, 3) if args.quick else (3, 5)
    n, T = QUICK_SIZE if args.quick else SIZE
    sn, sT = QUICK_SPECTRUM_SIZE if args.quick else SPECTRUM_SIZE

    out(f"gradlab benchmarks: float64, B = 1, m = {args.inputs} inputs, CPU, "
        f"{os.cpu_count()} cores; {_versions(mods)}; one plain process, no tuning")
    busy = _load_note()
    if busy:
        out(busy)
    out("median of repeated runs after warm-up; 'gradlab x' = this row's time / gradlab's "
        "(above 1: gradlab is faster); 'agrees' = largest relative difference from gradlab's")
    out("")
    out(HEADER)
    rows = []
    for w in workloads:
        for regime in (["healthy"] if w == "spectrum" else regimes):
            size = (sn, sT) if w == "spectrum" else (n, T)
            rows += bench_case(w, regime, *size, impls, args.inputs, budget, rounds, min_reps,
                               mods, out)
    busy_rows = []
    cells = [w for w in workloads if w in CELLS]
    if cells and not args.no_busy:
        out("")
        out("Busy cores: ms per forward + backward call by GRADLAB_THREADS setting (default: "
            "unset); one/default < 1 would mean the default lost to one thread")
        out(BUSY_HEADER)
        busy_rows = busy_ratios(gradlab, cells, n, T, args.inputs, 2 if args.quick else 7,
                                2 if args.quick else 3, out, pair=args.pair)
    if args.compile:
        compile_times(workloads, out)
    if args.markdown:
        out("")
        out(markdown(rows, impls))
        if busy_rows:
            out("")
            out(busy_markdown(busy_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
