"""ComputeWorker: runs Lab.compute off the GUI thread in two lanes, the newest request wins.

``submit(config, measures)`` splits the measures by cost (``gradlab.measures.MEASURES``):

- the cheap lane computes the cheap ones (gradient, states, eigenvalues, ...) at once, so
  the slider's redraw never waits for an expensive measure;
- the expensive lane (spectra, ...) follows: when the cheap lane has finished a request it
  hands that request's expensive measures on, and the expensive thread computes them while
  the cheap lane is already free for the next slider step.

Each lane holds a single pending slot: a request that is overwritten before its thread gets
to it is dropped, not queued, so dragging a slider never builds a backlog; results are
coalesced the same way on the way back. Both lanes share one Lab by default: it locks only
its caches, never a whole compute, so an expensive compute never holds up a cheap one.

Signals, delivered in the GUI thread: ``snapshot_ready(seq, Snapshot)`` once per lane and
request (``seq`` numbers the requests, so the window can tell an old expensive result from a
new cheap one), ``failed(message)``. ``synchronous=True`` computes everything inside
``submit`` in the caller's thread and emits one Snapshot with every measure (tests and the
headless renderer).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gradlab.config import LabConfig
from gradlab.lab import Lab, Snapshot
from gradlab.measures import MEASURES, get_measure

log = logging.getLogger(__name__)


def split_by_cost(measures: Iterable[str] | None,
                  config: LabConfig | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(cheap names, expensive names), each in the order given (all measures for None); with
    ``config``, a cheap measure that is heavy at its sizes counts as expensive."""
    names = list(MEASURES) if measures is None else list(dict.fromkeys(measures))
    costly = {n for n in names if get_measure(n).cost_for(config) == "expensive"}
    return tuple(n for n in names if n not in costly), tuple(n for n in names if n in costly)


class _Lane(QThread):
    """One worker thread with one pending slot: wait, take the newest request, compute it."""

    finished_one = Signal()  # emitted from this thread; delivered queued in the GUI thread

    def __init__(self, worker: ComputeWorker, lab: Lab, name: str):
        super().__init__()
        self.setObjectName(f"gradlab-{name}")
        self.worker = worker
        self.lab = lab
        self.cond = threading.Condition()
        self.pending: tuple | None = None  # (seq, config, names, follow-up names)
        self.result: tuple | None = None  # (seq, ok, Snapshot | message)
        self.busy = False
        self.stopping = False
        self.next_lane: _Lane | None = None

    def put(self, job: tuple) -> None:
        with self.cond:
            if self.stopping:
                return
            self.pending = job
            self.cond.notify()

    def idle(self) -> bool:
        with self.cond:
            return self.pending is None and not self.busy and self.result is None

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.pending = None
            self.cond.notify()

    def run(self):
        while True:
            with self.cond:
                while self.pending is None and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                job, self.pending = self.pending, None
                self.busy = True
            seq, config, names, follow = job
            ok, payload = (True, Snapshot(config)) if not names else \
                self.worker._compute(self.lab, config, names)
            if follow and self.next_lane is not None:  # before going idle: idle() stays exact
                self.next_lane.put((seq, config, follow, ()))
            with self.cond:
                self.result = (seq, ok, payload) if names else self.result
                self.busy = False
            if names:
                self.finished_one.emit()


class ComputeWorker(QObject):
    """Turns (config, measures) into Snapshots; lives in the GUI thread, computes in two.

    ``computed`` counts Lab.compute calls (for tests and benchmarks); ``lab`` computes the
    cheap measures (and everything when synchronous), ``expensive_lab`` the expensive ones.
    """

    snapshot_ready = Signal(int, object)  # (request number, Snapshot)
    failed = Signal(str)

    def __init__(self, lab: Lab | None = None, *, synchronous: bool = False, parent=None,
                 expensive_lab: Lab | None = None):
        super().__init__(parent)
        self.lab = lab if lab is not None else Lab()
        # one Lab for both lanes: it locks only its caches, so the lanes compute at once
        self.expensive_lab = expensive_lab if expensive_lab is not None else self.lab
        self.synchronous = synchronous
        self.computed = 0
        self.seq = 0  # number of the newest request
        self._count = threading.Lock()
        self._lanes: tuple[_Lane, ...] = ()
        if not synchronous:
            cheap = _Lane(self, self.lab, "cheap")
            expensive = _Lane(self, self.expensive_lab, "expensive")
            cheap.next_lane = expensive
            self._lanes = (cheap, expensive)
            # bound slots of this QObject: delivered queued, in the GUI thread
            cheap.finished_one.connect(self._deliver_cheap)
            expensive.finished_one.connect(self._deliver_expensive)
            for lane in self._lanes:
                lane.start()

    # -- called from the GUI thread -------------------------------------------------------
    def submit(self, config: LabConfig, measures: Iterable[str] | None = None) -> int:
        """Ask for ``measures`` (all when None) of ``config``; replaces any request still
        waiting. Returns the request's number."""
        self.seq += 1
        cheap, expensive = split_by_cost(measures, config)
        if self.synchronous:
            ok, payload = self._compute(self.lab, config, cheap + expensive)
            self._emit(self.seq, ok, payload)
            return self.seq
        lane = self._lanes[0]
        lane.put((self.seq, config, cheap, expensive))
        return self.seq

    def idle(self) -> bool:
        """True when nothing is pending, computing or waiting to be delivered."""
        return all(lane.idle() for lane in self._lanes)

    def stop(self) -> None:
        """Drop pending work and end the threads.

        A compute already running cannot be interrupted (the very first one may be compiling
        kernels for several seconds), so this waits for it: destroying a running QThread
        aborts the process.
        """
        for lane in self._lanes:
            lane.stop()
        for lane in self._lanes:
            lane.wait()

    # -- worker side ------------------------------------------------------------------------
    def _compute(self, lab: Lab, config: LabConfig, names) -> tuple[bool, object]:
        try:
            snapshot = lab.compute(config, measures=names)
        except Exception as exc:  # a failing compute is reported, never fatal
            log.exception("Lab.compute failed for %r (%s)", config, names)
            return False, f"compute failed: {type(exc).__name__}: {exc}"
        finally:
            with self._count:
                self.computed += 1
        return True, snapshot

    @Slot()
    def _deliver_cheap(self) -> None:
        self._deliver(self._lanes[0])

    @Slot()
    def _deliver_expensive(self) -> None:
        self._deliver(self._lanes[1])

    def _deliver(self, lane: _Lane) -> None:
        with lane.cond:
            result, lane.result = lane.result, None
        if result is not None:  # None: a newer result was already delivered
            self._emit(*result)

    def _emit(self, seq: int, ok: bool, payload) -> None:
        if ok:
            self.snapshot_ready.emit(seq, payload)
        else:
            self.failed.emit(payload)


__all__ = ["ComputeWorker", "Snapshot", "split_by_cost"]
