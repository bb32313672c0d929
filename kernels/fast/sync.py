"""Two threads in lock step: the flags and the waits that let one kernel run on two cores.

A recurrent sweep is sequential in t, but each step's work splits by units: a large enough
sweep cuts its units into two pieces (``pieces_for``, ``split``), and the two threads of a
pair run the same kernel (``part`` 0 and 1), each on its own piece. When a thread has
written something its partner needs (its half of h_t), it ``publish``es how far it has come;
before it reads the partner's half, it ``wait``s until the partner has come that far. One
thread runs the same kernel with both pieces, doing the same sums in the same order, so the
results are identical bit for bit whether one thread runs or two.

The flags are an int64 array (``new_flags``): slot ``part * 16`` is how many points part has
published (16 int64 = 128 bytes apart, so the two never share a cache line), slot ``ABORT``
is set by the Python side when one thread failed, so the other stops waiting. numba has no
atomics on the CPU, so the two operations that matter are written here as LLVM intrinsics:
a release store (everything written before it is visible to the other thread before the new
count is) and an acquire load (nothing after it is read before it).

The wait spins with the CPU's pause hint for a few thousand rounds, then gives the core away
(sched_yield) between checks, so that a descheduled partner can get it back. That is a hint,
not a guarantee: when another process holds the second core, a pair waits for it every
step, which is why ``gradlab.engine`` runs one thread unless asked for a pair. With one
thread, ``wait`` only reads the abort flag, so every sweep can be stopped within a step.
"""

import math

import numpy as np
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._flags import kernel

ABORT = 32  # slot of the abort flag
_SLOTS = 48
_SPINS = 4096  # pause hints before the wait starts to yield the core
_TRIPLE = binding.get_default_triple()  # e.g. x86_64-unknown-linux-gnu
_ARCH = _TRIPLE.split("-")[0]
_POSIX = "windows" not in _TRIPLE and "win32" not in _TRIPLE  # sched_yield is POSIX
# the LLVM intrinsic for the spin-wait hint (numba's JIT has no inline-asm parser)
_PAUSE = {"x86_64": "llvm.x86.sse2.pause", "aarch64": "llvm.aarch64.hint",
          "arm64": "llvm.aarch64.hint"}.get(_ARCH, "")


def new_flags():
    """Fresh flags for one run of a pair (every count at zero, no abort)."""
    return np.zeros(_SLOTS, dtype=np.int64)


@intrinsic
def _load_acquire(typingctx, flags, i):
    """flags[i] as an atomic load with acquire ordering."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        arr = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], arr, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)

    return types.int64(flags, types.intp), codegen


@intrinsic
def _store_release(typingctx, flags, i, value):
    """flags[i] = value as an atomic store with release ordering."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        arr = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], arr, [args[1]])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()

    return types.none(flags, types.intp, types.int64), codegen


@intrinsic
def _pause(typingctx):
    """The CPU's spin-wait hint (x86 pause, ARM yield); nothing elsewhere."""

    def codegen(context, builder, sig, args):
        if _PAUSE.startswith("llvm.x86"):
            fn = cgutils.get_or_insert_function(builder.module,
                                                ir.FunctionType(ir.VoidType(), []), _PAUSE)
            builder.call(fn, [])
        elif _PAUSE:  # hint #1 is YIELD
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(32)]), _PAUSE)
            builder.call(fn, [ir.Constant(ir.IntType(32), 1)])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def _sched_yield(typingctx):
    """Give the core to another runnable thread (POSIX sched_yield)."""

    def codegen(context, builder, sig, args):
        if _POSIX:  # (elsewhere the wait keeps spinning with the pause hint)
            fn = cgutils.get_or_insert_function(builder.module,
                                                ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.none(), codegen


@kernel
def publish(flags, part, parts, count):
    """Tell the partner that this thread has passed point ``count`` (1, 2, ...): everything it
    wrote before is visible to the partner once it sees the count (a release store)."""
    if parts == 2:
        _store_release(flags, part * 16, count)


@kernel
def aborted(flags):
    """True once the run was asked to stop (the abort flag: a failed partner, or Ctrl-C)."""
    return _load_acquire(flags, ABORT) != 0


@kernel
def wait(flags, part, parts, count):
    """Wait until the partner has passed point ``count`` (``publish``); after that, everything
    it wrote before is visible here (acquire loads). Returns False if the run was aborted
    (the caller then returns at once). With one thread there is nobody to wait for, but the
    abort flag is still read: every sweep calls ``wait`` once or twice a step, so a long pass
    on one thread stops within a step of a request (``gradlab.engine``, Ctrl-C)."""
    if parts == 1:  # nobody to wait for; only a request to stop (the abort flag)
        return _load_acquire(flags, ABORT) == 0
    other = (1 - part) * 16
    spins = 0
    while _load_acquire(flags, other) < count:
        if _load_acquire(flags, ABORT) != 0:
            return False
        if spins < _SPINS:
            _pause()
            spins += 1
        else:
            _sched_yield()
    return True


# A sweep cuts its units in two pieces when a step has at least MIN_STEP_WORK multiply-adds
# (gates x n x n x B) and the pass at least MIN_PASS_WORK (that times T). Below, one piece:
# handing work to a second thread and waiting would cost more than they save (the
# measurements are in docs/performance.md).
MIN_STEP_WORK = 8192
MIN_PASS_WORK = 4_000_000


def pieces_for(step_work, steps):
    """1 or 2: how many pieces a sweep with ``step_work`` multiply-adds per step over
    ``steps`` steps cuts its units into. It depends on the problem's size only, never on how
    many threads run, so the results are the same on any machine (threads only share out
    the pieces)."""
    return 2 if step_work >= MIN_STEP_WORK and step_work * steps >= MIN_PASS_WORK else 1


def unit_columns(n, pieces, gates):
    """For each piece, the indices of its units in each of ``gates`` blocks of n (gate-major):
    the rows of a (gates * n, n) weight matrix whose outputs that piece computes, in order."""
    return [np.concatenate([np.arange(k * n + lo, k * n + hi) for k in range(gates)])
            for lo, hi in (split(n, q, pieces) for q in range(pieces))]


def shared_empty(shape, dtype, pieces) -> np.ndarray:
    """np.empty(shape, dtype) for an array that the ``pieces`` of a sweep write; with two
    pieces it starts on a 64-byte cache line, so that where the two threads write
    neighbouring parts of a row (n = 128: the two halves of h_t) no line holds both."""
    if pieces == 1:
        return np.empty(shape, dtype)
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    raw = np.empty(count * dtype.itemsize + 64, dtype=np.uint8)
    start = -raw.__array_interface__["data"][0] % 64
    return raw[start: start + count * dtype.itemsize].view(dtype).reshape(shape)


@kernel
def split(n, piece, pieces):
    """Units [lo, hi) of ``piece`` when n units are cut in ``pieces`` (1 or 2; piece 0 gets
    the extra unit)."""
    if pieces == 1:
        return 0, n
    half = (n + 1) // 2
    if piece == 0:
        return 0, half
    return half, n
