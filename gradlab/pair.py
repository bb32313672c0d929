"""Run a kernel on one thread, or on two in lock step (``kernels.sync``), and choose which.

The sweeps of every cell can split each step's units between two threads that exchange
their halves of h_t (or of the gradients) once or twice per step (``kernels.sync``; about
60 ns a round trip on the 2-core machine). That pays when a step's recurrent product is
large: each core then streams only its half of W from its own cache.
Short or small passes are never cut (``kernels.sync.pieces_for``). A cut pass gives the same
bits on one thread as on two (``plan``), so the choice of threads is only about speed.

``GRADLAB_THREADS=1`` in the environment keeps every sweep on one thread, e.g. on a machine
whose second core is busy with something else (a pair then waits for a core it cannot get).

The second thread of a pair is kept between runs (``Helper``): starting a thread and joining
it costs about 85 us, handing work to a waiting one about 17 us, and a forward + backward
pass at n = 128, T = 1000 runs two pairs in about 3.4 ms. It is the process's one helper, like
a BLAS library's thread pool: it holds no state between runs, and a caller that finds it
busy (another thread running a pair) starts a thread of its own instead.
"""

from __future__ import annotations

import os
import queue
import threading

import numpy as np

from kernels.sync import ABORT, new_flags, pieces_for

from .blas import cores, one_blas_thread, single_blas_thread


def plan(step_work: int, steps: int) -> tuple[int, int]:
    """(pieces, parts) for a sweep with ``step_work`` multiply-adds per step over ``steps``:
    how many pieces its units are cut into (a function of the size alone, see
    ``kernels.sync.pieces_for``) and how many threads share them out (1 or 2)."""
    pieces = pieces_for(step_work, steps)
    if pieces == 1:
        return 1, 1
    forced = os.environ.get("GRADLAB_THREADS", "").strip()
    if forced in ("1", "2"):
        return pieces, min(pieces, int(forced))
    return pieces, min(pieces, 2 if cores() >= 2 else 1)


def _own(args: tuple) -> tuple:
    """The arguments with every array replaced by a fresh view of the same memory.

    numba keeps a reference count per array it is given, and an array that a kernel
    allocated comes back with that count attached; the two threads would then update one
    count (with atomic instructions) every time they take a slice, and the cache line holding
    it would bounce between the cores -- measured, this made a step of the pair slower than
    on one thread. A view is a new Python object, so each thread gets counts of its own.
    """
    return tuple(a.view() if isinstance(a, np.ndarray) else a for a in args)


class Helper:
    """A daemon thread that runs part 1 of pairs, one run at a time, kept between runs.

    ``take`` reserves it (False when another run holds it, e.g. the app's worker thread);
    ``start(fn)`` hands it fn and returns that run's reply queue, which receives what fn
    raised (or None); ``release`` frees the helper, only once the reply has arrived (``run``
    sees to that, also when interrupted). A forked child starts a helper of its own: the
    parent's thread does not exist there.
    """

    def __init__(self):
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def take(self) -> bool:
        if self._pid != os.getpid():  # a forked child
            self._reset()
        return self._lock.acquire(blocking=False)

    def start(self, fn) -> queue.SimpleQueue:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="gradlab-pair", daemon=True)
            self._thread.start()
        reply: queue.SimpleQueue = queue.SimpleQueue()
        self._work.put((fn, reply))
        return reply

    def release(self) -> None:
        self._lock.release()

    def _loop(self) -> None:
        single_blas_thread()  # the kernels' BLAS on this thread (see run)
        while True:
            fn, reply = self._work.get()
            try:
                fn()
            except BaseException as e:  # handed back to the caller, which re-raises it
                reply.put(e)
            else:
                reply.put(None)
            fn = reply = None  # (the run's arrays are not kept until the next run)


_HELPER = Helper()


def _await(done, flags):
    """done() -- part 1's error, or None -- waited for to the end. An interrupt (Ctrl-C) while
    waiting aborts part 1 and is raised once part 1 has stopped, so no thread is left
    running a run its caller has given up, and the helper never gets a new run before it
    has finished the old one."""
    interrupted = None
    while True:
        try:
            error = done()
            break
        except BaseException as e:  # KeyboardInterrupt and the like
            flags[ABORT] = 1
            interrupted = e
    if interrupted is not None:
        raise interrupted
    return error


def run(kernel, args: tuple, plan: tuple[int, int]):
    """kernel(*args, pieces, flags, part, parts) on ``parts`` threads, with (pieces, parts) =
    ``plan``; returns part 0's result.

    If either thread raises, the other is released (the abort flag) and the error is raised
    here, so a failure never leaves a thread waiting.
    """
    pieces, parts = plan
    flags = new_flags()
    # The kernels' matrix products run with BLAS on the calling thread, on one thread as on
    # two (gradlab.ops sets that for the caller's thread; the second thread sets its own): a
    # threaded OpenBLAS called from two threads at once is 10 to 20 times slower than one
    # call on each core (measured: two dgemms of 512 x 500 x 128 took 16 ms instead of 1.8),
    # a threaded product need not give the same bits as a serial one, and on a busy machine
    # its waiting threads stall. The limit is per thread (gradlab.blas), so concurrent
    # callers do not undo each other's.
    if parts == 1:
        return kernel(*args, pieces, flags, 0, 1)
    second_args = _own(args)

    def second():
        try:
            kernel(*second_args, pieces, flags, 1, 2)
        except BaseException:
            flags[ABORT] = 1  # release part 0 if it waits for us
            raise

    helper = _HELPER if _HELPER.take() else None
    try:
        if helper is not None:
            done = helper.start(second).get
        else:  # another thread's pair holds the helper: a thread of our own
            errors: list[BaseException] = []

            def own_thread():
                try:
                    with one_blas_thread():
                        second()
                except BaseException as e:  # re-raised on the calling thread below
                    errors.append(e)

            thread = threading.Thread(target=own_thread, name="gradlab-pair-extra", daemon=True)
            thread.start()

            def done():
                thread.join()
                return errors[0] if errors else None

        try:
            out = kernel(*_own(args), pieces, flags, 0, 2)
        except BaseException:
            flags[ABORT] = 1  # release part 1, let it stop, then raise part 0's error
            _await(done, flags)
            raise
        error = _await(done, flags)
    except BaseException:
        flags[ABORT] = 1  # (also when interrupted before part 0 started)
        raise
    finally:
        if helper is not None:
            helper.release()
    if error is not None:
        raise error
    return out
