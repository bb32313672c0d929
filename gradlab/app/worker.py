"""ComputeWorker: runs Lab.compute(config) off the GUI thread, newest config wins.

The GUI thread only calls ``submit(config)``: that overwrites a single pending slot and
wakes the worker thread. The thread takes whatever is pending, computes it and hands the
Snapshot back; configs that were overwritten before the thread got to them are dropped, not
queued, so dragging a slider never builds a backlog. Results are coalesced the same way on
the way back (only the newest finished Snapshot is delivered), then ``snapshot_ready`` is
emitted in the GUI thread. A failing compute emits ``failed(message)`` instead.

``synchronous=True`` computes inside ``submit`` in the caller's thread and emits before
returning (tests and the headless renderer).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gradlab.config import LabConfig
from gradlab.lab import Lab, Snapshot

log = logging.getLogger(__name__)


class _ComputeThread(QThread):
    """The loop that waits for a pending config, computes it and posts the result."""

    finished_one = Signal()  # emitted from this thread; delivered queued in the GUI thread

    def __init__(self, owner: ComputeWorker):
        super().__init__()
        self._owner = owner

    def run(self):
        owner = self._owner
        while True:
            with owner._cond:
                while owner._pending is None and not owner._stopping:
                    owner._cond.wait()
                if owner._stopping:
                    return
                config, owner._pending = owner._pending, None
                owner._busy = True
            result = owner._compute(config)
            with owner._cond:
                owner._result = result
                owner._busy = False
            self.finished_one.emit()


class ComputeWorker(QObject):
    """Turns configs into Snapshots; lives in the GUI thread, computes in its own thread.

    Signals: ``snapshot_ready(Snapshot)`` and ``failed(str)``, both emitted in the GUI thread
    (or in the caller's thread when synchronous). ``computed`` counts finished computes.
    """

    snapshot_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, lab: Lab | None = None, *, synchronous: bool = False, parent=None):
        super().__init__(parent)
        self.lab = lab if lab is not None else Lab()
        self.synchronous = synchronous
        self.computed = 0  # number of Lab.compute calls that ran (for tests and benchmarks)
        self._cond = threading.Condition()
        self._pending: LabConfig | None = None
        self._result: tuple[bool, object] | None = None
        self._busy = False
        self._stopping = False
        self._thread: _ComputeThread | None = None
        if not synchronous:
            self._thread = _ComputeThread(self)
            self._thread.finished_one.connect(self._deliver)
            self._thread.start()

    # -- called from the GUI thread -------------------------------------------------------
    def submit(self, config: LabConfig) -> None:
        """Ask for ``config`` to be computed; replaces any config still waiting."""
        if self.synchronous:
            self._result = self._compute(config)
            self._deliver()
            return
        with self._cond:
            if self._stopping:
                return
            self._pending = config
            self._cond.notify()

    def idle(self) -> bool:
        """True when nothing is pending, computing or waiting to be delivered."""
        with self._cond:
            return self._pending is None and not self._busy and self._result is None

    def stop(self) -> None:
        """Drop pending work and end the thread.

        A compute already running cannot be interrupted (the very first one may be compiling
        kernels for several seconds), so this waits for it: destroying a running QThread
        aborts the process.
        """
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify()
        if self._thread is not None:
            self._thread.wait()

    # -- worker side ------------------------------------------------------------------------
    def _compute(self, config: LabConfig) -> tuple[bool, object]:
        try:
            snapshot = self.lab.compute(config)
        except Exception as exc:  # a failing compute is reported, never fatal
            log.exception("Lab.compute failed for %r", config)
            return False, f"compute failed: {type(exc).__name__}: {exc}"
        finally:
            self.computed += 1
        return True, snapshot

    @Slot()
    def _deliver(self) -> None:
        with self._cond:
            result, self._result = self._result, None
        if result is None:  # a newer result was already delivered by an earlier wake-up
            return
        ok, payload = result
        if ok:
            self.snapshot_ready.emit(payload)
        else:
            self.failed.emit(payload)


__all__ = ["ComputeWorker", "Snapshot"]
