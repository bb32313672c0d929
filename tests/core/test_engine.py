"""gradlab.engine: bits under concurrent callers, no process-wide setting changed, Ctrl-C.

Issue 9 item 10: concurrent callers get the bits of a single caller and no library call
leaves a global setting changed. Item 13: a Ctrl-C during a long forward or backward pass is
honoured within a fraction of a second, and the interruptible path gives the same bits.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import gradlab
from gradlab import engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _gru_case(seed=0):
    p = gradlab.init_params("gru", 64, 3, seed=seed, spectral_radius=1.1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 400, 3))  # (B, T, m)
    dh = rng.standard_normal((2, 400, 64))  # (B, T, n)
    return p, x, dh


def _all_arrays(tr, g):
    out = {"h": tr.h, "gh": g.h, "gh0": g.h0, "gx": g.x}
    out.update({f"d{k}": v for k, v in g.params.items()})
    return out


@pytest.mark.parametrize("threads", ["1", "2"])
def test_concurrent_callers_get_the_bits_of_one_caller(monkeypatch, threads):
    monkeypatch.setenv("GRADLAB_THREADS", threads)
    p, x, dh = _gru_case()
    tr = gradlab.forward(p, x)
    want = _all_arrays(tr, gradlab.backward(p, tr, dh))
    blas_before = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]
    mismatches, errors = [], []

    def caller():
        try:
            for _ in range(25):  # (on main, about 1 call in 300 differed)
                t = gradlab.forward(p, x)
                got = _all_arrays(t, gradlab.backward(p, t, dh))
                mismatches.extend(k for k in want if not np.array_equal(want[k], got[k]))
        except BaseException as e:  # reported below
            errors.append(e)

    workers = [threading.Thread(target=caller) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    assert not mismatches, sorted(set(mismatches))
    # no library call changed a process-wide setting: BLAS thread counts as before
    assert [(i["internal_api"], i["num_threads"]) for i in threadpool_info()] == blas_before


def test_the_interruptible_path_gives_the_same_bits(monkeypatch):
    p, x, dh = _gru_case(1)
    tr = gradlab.forward(p, x)
    want = _all_arrays(tr, gradlab.backward(p, tr, dh))
    monkeypatch.setattr(engine, "LONG_WORK", 1)  # every pass on a worker thread
    tr2 = gradlab.forward(p, x)
    dh_before = dh.copy()
    got = _all_arrays(tr2, gradlab.backward(p, tr2, dh))
    np.testing.assert_array_equal(dh, dh_before)  # dh is read, never written
    for k in want:
        np.testing.assert_array_equal(want[k], got[k], err_msg=k)


def test_one_thread_is_the_default_and_bad_settings_are_refused(monkeypatch):
    monkeypatch.delenv("GRADLAB_THREADS", raising=False)
    assert engine.threads() == 1
    assert engine.plan(10**6, 10**4).parts == 1
    monkeypatch.setenv("GRADLAB_THREADS", "3")
    with pytest.raises(ValueError, match="GRADLAB_THREADS='3'"):
        engine.plan(10**6, 10**4)


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import gradlab
    what = sys.argv[1]
    p = gradlab.init_params("rnn", 512, 4, seed=0, spectral_radius=0.9)
    x = np.random.default_rng(0).standard_normal((40000, 4))  # (T, m)
    dh = np.zeros((1, 40000, 512))
    dh[0, -1] = 1.0
    small = gradlab.forward(p, x[:300])  # compiled (or loaded) before the clock starts
    gradlab.backward(p, small, dh[:, :300])
    tr = gradlab.forward(p, x) if what == "backward" else None
    print("go", flush=True)
    t0 = time.perf_counter()
    try:
        gradlab.forward(p, x) if what == "forward" else gradlab.backward(p, tr, dh)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
        sys.exit(130)
    print("finished %.2f s" % (time.perf_counter() - t0), flush=True)
""")


@pytest.mark.parametrize("what", ["forward", "backward"])
def test_ctrl_c_stops_a_long_pass_promptly(what):
    """n = 512, T = 40000: a pass of seconds. SIGINT must raise KeyboardInterrupt in the
    caller within a fraction of a second (the bound is generous for a loaded CI machine;
    about 0.01 s is typical on an idle one), and the process exits with it."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, what], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == "go", child.stderr.read()
        time.sleep(0.5)  # well inside the pass
        sent = time.monotonic()  # (the same clock in both processes)
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
        exited = time.monotonic() - sent  # (freeing a GB of arrays takes a while under load)
    finally:
        child.kill()
    out = child.stdout.read().split()
    assert child.returncode == 130 and out[:1] == ["interrupted"], (out, child.stderr.read())
    took = float(out[1]) - sent
    assert took < 1.0, f"Ctrl-C took {took:.2f} s to stop the {what} pass"
    assert exited < 15.0, f"the process took {exited:.1f} s to exit after Ctrl-C"
