"""Every cell's kernels run with numba's bounds checking on: no index leaves its array.

numba does not check indices by default, so a kernel that writes one element past a scratch
array corrupts the heap and crashes the process later, somewhere else. This runs forward,
backward and the step Jacobians of every cell, with one piece and with two, on one thread
and on two, in a subprocess compiled with NUMBA_BOUNDSCHECK=1 (an out-of-range index then
raises IndexError).
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os
    import numpy as np
    import gradlab

    cases = [("rnn", {}), ("rnn", {"skip_delay": 3}), ("lstm", {}),
             ("lstm", {"peepholes": True, "coupled": True}), ("gru", {}),
             ("gru", {"gru_variant": "cho"})]
    for threads in ("1", "2"):
        os.environ["GRADLAB_THREADS"] = threads
        for cell, opts in cases:
            for n, B, T in ((5, 2, 9), (67, 2, 460)):  # one piece; two pieces (odd n)
                p = gradlab.init_params(cell, n, 3, seed=1, **opts)
                rng = np.random.default_rng(0)
                x = rng.standard_normal((B, T, 3))
                tr = gradlab.forward(p, x, 0.1 * rng.standard_normal((B, n)))
                dh = rng.standard_normal(tr.h.shape)
                for truncate in (None, 4):
                    g = gradlab.backward(p, tr, dh, truncate=truncate)
                    assert all(np.isfinite(v).all() for v in g.params.values())
                gradlab.step_jacobians(p, gradlab.forward(p, x[:, :9]))
    print("ok")
""")


def test_kernels_stay_in_bounds(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
