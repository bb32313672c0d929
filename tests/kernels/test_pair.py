"""Sweeps cut in two pieces and shared by a pair of threads (kernels.fast.sync, gradlab.engine).

Big enough problems cut their units in two pieces; one thread or two must then give the same
bits, and both must match the NumPy twins. The runner must never leave a thread waiting.
"""

import threading

import numpy as np
import pytest

import gradlab
from gradlab import engine
from kernels._flags import kernel
from kernels.fast.sync import ABORT, new_flags, pieces_for, publish, split, wait

from ..fd import close
from . import test_gru, test_lstm


def run_both(monkeypatch, p, x, h0, dh, c0=None, dc=None, truncate=None):
    """(trace, grads) with GRADLAB_THREADS=2, then =1."""
    out = []
    for threads in ("2", "1"):
        monkeypatch.setenv("GRADLAB_THREADS", threads)
        tr = gradlab.forward(p, x, h0, c0) if c0 is not None else gradlab.forward(p, x, h0)
        kw = {"dc": dc} if dc is not None else {}
        out.append((tr, gradlab.backward(p, tr, dh, truncate=truncate, **kw)))
    return out


def assert_identical(a, b):
    (tr2, g2), (tr1, g1) = a, b
    np.testing.assert_array_equal(tr1.h, tr2.h)
    for k in tr1.gates:
        np.testing.assert_array_equal(tr1.gates[k], tr2.gates[k])
    for k in g1.params:
        np.testing.assert_array_equal(g1.params[k], g2.params[k])
    for k in ("h", "h0", "x", "c", "c0"):
        if getattr(g1, k, None) is not None:
            np.testing.assert_array_equal(getattr(g1, k), getattr(g2, k))


def test_pieces_depend_on_size_only(monkeypatch):
    assert pieces_for(8191, 1000) == 1 and pieces_for(8192, 1000) == 2
    assert pieces_for(20_000, 100) == 1  # too short a pass to share
    assert split(7, 0, 2) == (0, 4) and split(7, 1, 2) == (4, 7) and split(7, 0, 1) == (0, 7)
    monkeypatch.setenv("GRADLAB_THREADS", "1")
    assert engine.plan(20_000, 1000)[:2] == (2, 1)
    monkeypatch.setenv("GRADLAB_THREADS", "2")
    assert engine.plan(20_000, 1000)[:2] == (2, 2)
    assert engine.plan(1_000, 1000)[:2] == (1, 1)  # a small problem is never cut
    assert engine.plan(20_000, 10)[:2] == (1, 1)


@pytest.mark.parametrize("opts", test_lstm.OPTIONS, ids=test_lstm.IDS)
@pytest.mark.parametrize("truncate", [None, 5])
def test_lstm_pair_is_bit_identical_and_matches_twin(monkeypatch, opts, truncate):
    p = test_lstm.make(n=33, m=3, rho=0.95, **opts)  # B 4 n^2 = 8712: two pieces, odd n
    x, h0, c0, dh, dc = test_lstm.data(p, B=2, T=480, seed=3)
    assert engine.plan(2 * 4 * 33 * 33, 480)[0] == 2
    runs = run_both(monkeypatch, p, x, h0, dh, c0=c0, dc=dc, truncate=truncate)
    assert_identical(*runs)
    tr, g = runs[0]
    h, c, gates = test_lstm.twin_forward(p, x, h0, c0)
    close(tr.h, h, 1e-12)
    close(tr.c, c, 1e-12)
    r = test_lstm.twin_backward(p, x, h0, c0, dh, dc, truncate or 0)
    ours, theirs = test_lstm.all_grads(g), test_lstm.all_twin_grads(r)
    for k in theirs:
        close(ours[k], theirs[k], 1e-11)


@pytest.mark.parametrize("v", test_gru.VARIANTS)
@pytest.mark.parametrize("truncate", [None, 5])
def test_gru_pair_is_bit_identical_and_matches_twin(monkeypatch, v, truncate):
    p = test_gru.make(n=37, m=3, variant=v, rho=0.95)  # B 3 n^2 = 8214: two pieces, odd n
    x, h0, dh = test_gru.data(p, B=2, T=500, seed=3)
    assert engine.plan(2 * 3 * 37 * 37, 500)[0] == 2
    runs = run_both(monkeypatch, p, x, h0, dh, truncate=truncate)
    assert_identical(*runs)
    tr, g = runs[0]
    h, gates = test_gru.twin_forward(p, x, h0)
    close(tr.h, h, 1e-12)
    r = test_gru.twin_backward(p, x, h0, dh, truncate or 0)
    ours, theirs = test_gru.all_grads(g), test_gru.all_twin_grads(r)
    for k in theirs:
        close(ours[k], theirs[k], 1e-11)


def test_wait_waits_for_the_partner_and_returns_on_abort():
    flags = new_flags()
    done = []
    t = threading.Thread(target=lambda: done.append(wait(flags, 0, 2, 1)))
    t.start()
    t.join(0.2)
    assert t.is_alive()  # the partner has not published point 1
    publish(flags, 1, 2, 1)  # partner 1 passes point 1
    t.join(5)
    assert done == [True]
    assert wait(flags, 0, 2, 1) and wait(flags, 0, 1, 99)  # passed already; alone: no wait
    t = threading.Thread(target=lambda: done.append(wait(flags, 0, 2, 2)))
    t.start()
    flags[ABORT] = 1
    t.join(5)
    assert not t.is_alive() and done == [True, False]


def test_publish_writes_only_with_a_partner():
    flags = new_flags()
    publish(flags, 0, 1, 5)
    assert not flags.any()
    publish(flags, 1, 2, 5)
    assert flags[16] == 5 and flags[0] == 0


def test_concurrent_pairs_each_get_their_threads():
    """Two callers running pairs at once (the app's worker and the main thread): one gets the
    kept helper thread, the other a thread of its own; both get the one-thread bits."""
    p = test_gru.make(n=37, m=3, variant="torch", rho=0.95)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 400, 3))
    assert engine.plan(3 * 3 * 37 * 37, 400)[0] == 2  # (a pair when two cores exist)
    want = gradlab.forward(p, x).h
    results, errors = [], []

    def caller():
        try:
            for _ in range(5):
                results.append(gradlab.forward(p, x).h)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 10
    for h in results:
        np.testing.assert_array_equal(h, want)


@pytest.mark.parametrize("fail", [False, True])
def test_the_kept_helper_holds_no_arrays_between_runs(fail):
    import gc
    import weakref

    big = np.zeros(10)
    ref = weakref.ref(big)
    if fail:
        with pytest.raises(RuntimeError):
            engine.run(_fail_in_part_1, (big,), engine.Plan(2, 2))
    else:
        engine.run(_touch, (big,), engine.Plan(2, 2))
    del big
    gc.collect()
    assert ref() is None


@kernel
def _touch(a, pieces, flags, part, parts):
    a[part] = 1.0
    return True


def _fail_in_part_1(a, pieces, flags, part, parts):
    if part == 1:
        raise RuntimeError("part 1 fails")
    return True


def test_an_interrupted_caller_leaves_the_helper_in_step():
    """Ctrl-C while the caller waits for part 1: part 1 is aborted and finishes before the
    interrupt is raised, so the next run gets its own part 1's result, not a stale one."""
    import signal
    import time

    main = threading.get_ident()

    def slow(out, pieces, flags, part, parts):
        if part == 1:
            time.sleep(0.5)
            out[1] = 1.0
        return True

    out = np.zeros(2)
    threading.Timer(0.1, lambda: signal.pthread_kill(main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        engine.run(slow, (out,), engine.Plan(2, 2))
        time.sleep(5)  # (the interrupt lands here if run returned before it)
    assert out[1] == 1.0  # part 1 had finished when the interrupt was raised
    out2 = np.zeros(2)
    engine.run(_touch, (out2,), engine.Plan(2, 2))
    assert out2.tolist() == [1.0, 1.0]


def test_a_forked_child_runs_pairs():
    import multiprocessing

    engine.run(_touch, (np.zeros(2),), engine.Plan(2, 2))  # the parent's helper exists
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_pair_in_child)
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0


def _pair_in_child():
    out = np.zeros(2)
    engine.run(_touch, (out,), engine.Plan(2, 2))
    raise SystemExit(0 if out.tolist() == [1.0, 1.0] else 1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_pairs_in_float32_and_at_extreme_truncations(monkeypatch, cell):
    """float32, and truncate = 1 (no gradient crosses any step) and = T, at a size that splits."""
    n, T = 37, 500
    gates, B = {"rnn": (1, 6), "lstm": (4, 2), "gru": (3, 3)}[cell]
    p = gradlab.init_params(cell, n, 3, seed=2, spectral_radius=0.95).astype(np.float32)
    assert engine.plan(B * gates * n * n, T)[0] == 2
    rng = np.random.default_rng(5)
    x = rng.standard_normal((B, T, 3)).astype(np.float32)
    dh = rng.standard_normal((B, T, n)).astype(np.float32)
    for truncate in (1, T):
        runs = run_both(monkeypatch, p, x, None, dh, truncate=truncate)
        assert runs[0][0].h.dtype == np.float32
        assert_identical(*runs)
    g1 = gradlab.backward(p, gradlab.forward(p, x), dh, truncate=1)
    g64 = gradlab.backward(p.astype(np.float64), gradlab.forward(p.astype(np.float64), x), dh,
                           truncate=1)
    close(g1.params["W"], g64.params["W"], 2e-3)


def test_a_failing_thread_releases_its_partner():
    """If one thread of a pair raises, the other stops waiting and the error reaches the
    caller (here the second thread fails before part 0 stops waiting for it)."""

    def kernel(pieces, flags, part, parts):
        if part == 1:
            raise RuntimeError("boom in part 1")
        return wait(flags, part, parts, 1)

    result = []
    t = threading.Thread(target=lambda: result.append(_raises(kernel)))
    t.start()
    t.join(10)
    assert not t.is_alive(), "the pair hung"
    assert result == ["boom in part 1"]


def _raises(kernel):
    try:
        engine.run(kernel, (), engine.Plan(2, 2))
    except RuntimeError as e:
        return str(e)
    return None
