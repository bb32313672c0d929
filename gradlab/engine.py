"""The engine: how every cell's sweeps are run, and the one place that decides threads.

Each cell's forward and backward pass is one kernel call, ``run(kernel, args, plan(...))``.
The kernel is written once, as ``part`` of ``parts`` threads over ``pieces`` pieces of the
units (``kernels.fast.sync``); one thread running every piece is the plain sweep, and the
reference.

- **One thread, the caller's, by default.** It never loses to anything else on a busy
  machine: a pair of threads in lock step waits for the slower of two cores every step, so
  with one CPU-bound process beside it, or with several callers at once, a pair is several
  times slower than one thread (docs/performance.md has the figures).
- **A pair, on request**: ``GRADLAB_THREADS=2`` runs large sweeps on the caller's thread
  and a helper in lock step. It can win on an idle machine with two free cores, and is
  tested to give the same bits.
- **No BLAS, no process-wide setting.** The kernels call no BLAS (the parameter gradients
  are ``kernels.fast.grads``' fixed-order loops), so results do not depend on a BLAS thread
  count, concurrent callers get the same bits as one caller, and nothing here changes a
  setting of the process.
- **Interruptible.** A long pass called from the main thread (``call``) runs on a worker
  thread while the main thread waits for it; a Ctrl-C there sets the running kernel's abort
  flag, which the kernel reads every step (and between chunks of the gradient products),
  and is raised on the main thread at once. Results are the same, bit for bit.

How the units are cut (``pieces``) depends on the problem's size only, never on the number
of threads, so the bits are the same whichever runs.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from typing import NamedTuple

import numpy as np

from kernels.fast.sync import ABORT, new_flags, pieces_for

from .blas import cores

ENV = "GRADLAB_THREADS"
# multiply-adds in a pass from which a pass called on the main thread runs on a worker
# thread, so that Ctrl-C reaches it (``call``; about 30 ms of work and more)
LONG_WORK = 100_000_000
STOP_WAIT = 0.1  # seconds an interrupted ``call`` waits for its worker to stop


class Plan(NamedTuple):
    """How one sweep runs: units cut in ``pieces``, shared by ``parts`` threads (1 or 2)."""

    pieces: int
    parts: int


def threads() -> int:
    """Threads a large sweep may use: 1 unless ``GRADLAB_THREADS=2`` (and two usable cores)."""
    forced = os.environ.get(ENV, "").strip()
    if forced in ("", "1"):
        return 1
    if forced == "2":
        return 2 if cores() >= 2 else 1
    raise ValueError(f"{ENV}={forced!r}: allowed are 1 (the default) and 2 (a pair of threads "
                     "in lock step for large sweeps)")


def plan(step_work: int, steps: int) -> Plan:
    """The Plan for a sweep with ``step_work`` multiply-adds per step over ``steps``."""
    pieces = pieces_for(step_work, steps)
    return Plan(pieces, min(pieces, threads()))


def run(kernel, args: tuple, plan: Plan):
    """kernel(*args, pieces, flags, part, parts) as ``plan`` says; returns part 0's result.

    A failure on either thread of a pair releases the other (the abort flag) and is raised
    here. Inside ``call``, a Ctrl-C on the main thread sets this run's abort flag.
    """
    flags = new_flags()
    stop = getattr(_LOCAL, "stop", None)
    if stop is not None:  # inside an interruptible ``call``: let the interrupt reach us
        stop["flags"] = flags
        if stop["stopped"]:
            raise KeyboardInterrupt
    if plan.parts == 1:
        out = kernel(*args, plan.pieces, flags, 0, 1)
    else:
        out = _pair(kernel, args, plan.pieces, flags)
    if stop is not None and stop["stopped"]:
        raise KeyboardInterrupt
    return out


_LOCAL = threading.local()  # the stop request of the ``call`` running on this thread


def call(fn, work: int):
    """fn(), a whole forward or backward pass of about ``work`` multiply-adds.

    A long pass (``LONG_WORK``) called from the main thread runs on a worker thread while the
    main thread waits, interruptibly: a Ctrl-C sets the running kernel's abort flag (read
    every step), waits for the worker to stop (at most ``STOP_WAIT`` seconds: NumPy's
    copies before a sweep cannot be interrupted; the worker then stops when its sweep
    starts) and is raised. Otherwise fn() runs here. The result is the same either way.
    """
    if work < LONG_WORK or threading.current_thread() is not threading.main_thread():
        return fn()
    stop = {"stopped": False, "flags": None}
    result: list = []
    done = threading.Event()
    context = contextvars.copy_context()  # the caller's np.errstate and the like

    def target():
        _LOCAL.stop = stop
        try:
            result.append(context.run(fn))
        except BaseException as e:  # re-raised on the caller's thread below
            result.append(e)
        finally:
            done.set()

    worker = threading.Thread(target=target, name="gradlab-pass", daemon=True)
    worker.start()
    try:
        while not done.wait(0.05):
            pass
    except BaseException:  # KeyboardInterrupt and the like
        stop["stopped"] = True
        if stop["flags"] is not None:
            stop["flags"][ABORT] = 1  # the kernel stops at its next check
        done.wait(STOP_WAIT)
        raise
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


# --- the opt-in pair ----------------------------------------------------------------------


def _own(args: tuple) -> tuple:
    """The arguments with every array replaced by a fresh view of the same memory.

    numba keeps a reference count per array it is given; two threads sharing one array
    object would update one count from both cores on every slice, and the cache line
    holding it would bounce between them. A view is a new object with a count of its own.
    """
    return tuple(a.view() if isinstance(a, np.ndarray) else a for a in args)


class Helper:
    """A daemon thread that runs part 1 of pairs, one run at a time, kept between runs.

    ``take`` reserves it (False when another run holds it); ``start(fn)`` hands it fn and
    returns that run's reply queue, which receives what fn raised (or None); ``release``
    frees it, only once the reply has arrived. A forked child starts a helper of its own.
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
        while True:
            fn, reply = self._work.get()
            try:
                fn()
            except BaseException as e:  # handed back to the caller, which re-raises it
                reply.put(e)
            else:
                reply.put(None)
            fn = reply = None  # (the run's arrays are not kept until the next run)


_HELPER = Helper()  # the pair's second thread, like a BLAS library's pool (opt-in only)


def _await(done, flags):
    """done() -- part 1's error, or None -- waited for to the end; an interrupt while waiting
    aborts part 1 and is raised once part 1 has stopped."""
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


def _pair(kernel, args: tuple, pieces: int, flags):
    """kernel on two threads in lock step, part 1 on the helper (or, when another run holds
    it, on a thread of its own); returns part 0's result."""
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
        else:
            errors: list[BaseException] = []

            def own_thread():
                try:
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
            flags[ABORT] = 1
            _await(done, flags)
            raise
        error = _await(done, flags)
    except BaseException:
        flags[ABORT] = 1
        raise
    finally:
        if helper is not None:
            helper.release()
    if error is not None:
        raise error
    return out
