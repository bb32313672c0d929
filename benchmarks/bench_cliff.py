"""Benchmark of the Pascanu cliff surface: the whole (w, b) grid, E and its exact gradient.

Run from a source checkout, either way:

    python -m benchmarks.bench_cliff [--repeats N] [--shape NW NB]
    python benchmarks/bench_cliff.py [--repeats N] [--shape NW NB]

Rows (float64, one thread, the default grid 601 x 401 over [-2, 10] x [-6, 2], T = 50):

- ``first call``: the first ``gradlab.cliff.cliff_surface`` of the process (numba compiles
  the kernel here, or loads it from its cache), one sample;
- ``cliff_surface``: the public call (argument checks, grid, kernel, log10 of the gradient
  norm, read-only result): median over repeats after that warm-up;
- ``kernel``: ``kernels.cliff.cliff_points`` alone on the flattened grid;
- ``numpy twin``: ``tests/kernels/ref_cliff.py`` (the slow, obvious reference), fewer
  repeats; skipped without a ``tests/`` folder;
- ``descend``: ``gradlab.cliff.descend`` with 200 updates clipped by norm (one kernel call
  per update), the cost of one animated path.

Median wall time in milliseconds (time.perf_counter). The goal in issue 11 is the whole
grid in under 0.5 s on the 2-core machine. Nothing here tunes the process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file: import this checkout's gradlab and kernels
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from gradlab.cliff import cliff_surface, descend, ridge  # noqa: E402
from kernels.cliff import cliff_points  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    """Median wall time of fn() over ``repeats`` calls, in milliseconds."""
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return 1e3 * float(np.median(samples))


def load_twin():
    """tests/kernels/ref_cliff.py by path, or None without a source checkout."""
    path = ROOT / "tests" / "kernels" / "ref_cliff.py"
    if not path.exists():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("ref_cliff", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=21, help="samples per row (default 21)")
    ap.add_argument("--shape", type=int, nargs=2, default=(601, 401), metavar=("NW", "NB"),
                    help="grid points along w and b (default 601 401)")
    args = ap.parse_args(argv)
    nw, nb = args.shape
    reps = max(1, args.repeats)
    rows = []

    t = time.perf_counter()
    surface = cliff_surface(shape=(nw, nb))
    rows.append(("first call", 1e3 * (time.perf_counter() - t), 1))
    rows.append(("cliff_surface", median_ms(lambda: cliff_surface(shape=(nw, nb)), reps), reps))

    W, B = np.meshgrid(surface.w, surface.b)  # (nb, nw)
    w, b = W.ravel(), B.ravel()  # (P,)
    E, gw, gb = (np.empty(w.size) for _ in range(3))
    rows.append(("kernel", median_ms(lambda: cliff_points(w, b, 50, 0.5, 0.7, E, gw, gb), reps),
                 reps))

    twin = load_twin()
    if twin is not None:
        n = max(1, reps // 5)
        rows.append(("numpy twin", median_ms(lambda: twin.cliff(w, b), n), n))

    w0 = 5.0
    b0 = ridge(w0)
    descend(w0, b0, lr=0.05, updates=2, clip=("norm", 1.0))  # warm-up
    rows.append(("descend 200 updates",
                 median_ms(lambda: descend(w0, b0, lr=0.05, updates=200, clip=("norm", 1.0)),
                           reps), reps))

    print(f"cliff surface {nw} x {nb} = {nw * nb} points, T = 50, float64, one thread")
    for name, ms, n in rows:
        print(f"  {name:<22s} {ms:10.2f} ms   (median of {n})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
