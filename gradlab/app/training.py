"""TrainingRunner: trains the attention layout's encoder-decoder off the GUI thread.

One QThread owns a ``gradlab.measures.attention.Session`` and obeys one pending command at
a time ('reset': build the run of the current config and show it untrained; 'train': make
updates until the run's ``train_updates`` are done). A newer command interrupts the current
one after the update in progress, so ``stop()``, a config change and ``close()`` take
effect within one update (a few milliseconds) or one evaluation (a few hundred).

While training, the thread evaluates the weights every ``interval`` seconds (at least as
long as the last evaluation took, so training keeps at least half the time) and hands the
frame to the GUI thread: it keeps only the newest frame and wakes the GUI thread with a
queued signal when none is waiting, so a slow GUI never builds a backlog. ``frame_ready``
(TrainingFrame) and ``state_changed`` ('ready' | 'training' | 'paused' | 'done') are emitted
in the GUI thread; frames of a run that was replaced in the meantime are dropped.

The window wires it (see ``attach`` and ``keys``): G or Space start and pause training
(a finished run starts again from scratch), ↓ / ↑ step through the decoding one target
step at a time; ``TrainingBar`` is the same as buttons with a one-line status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from gradlab.config import LabConfig
from gradlab.measures.attention import RunSpec, Session, TrainingFrame

from .theme import Theme

log = logging.getLogger(__name__)

INTERVAL = 0.25  # seconds of training between two frames (at least)
JOIN_MS = 2000  # close(): how long to wait for the thread


class _Thread(QThread):
    """Runs the runner's commands; everything it touches is guarded by ``runner.cond``."""

    def __init__(self, runner: TrainingRunner):
        super().__init__()
        self.setObjectName("gradlab-training")
        self.runner = runner

    def run(self) -> None:
        r = self.runner
        while True:
            with r.cond:
                r._thread_busy = False
                while r._command is None and not r._closing:
                    r.cond.wait()
                if r._closing:
                    return
                command, r._command = r._command, None
                r._thread_busy = True
            try:
                self._obey(*command)
            except Exception:  # a failed run must not kill the thread (nor the lecture)
                log.exception("training command %s failed", command[0])

    def _interrupted(self) -> bool:
        r = self.runner
        return r._command is not None or r._closing

    def _obey(self, kind: str, gen: int, spec: RunSpec, updates: int) -> None:
        """'reset': a new run, shown untrained; 'fresh': a new run, trained; 'train':
        train the current run (a new one if the config changed); 'pause': nothing."""
        r = self.runner
        if kind == "pause":
            return
        if kind in ("reset", "fresh") or r._session is None or r._session.spec != spec:
            r._session = Session(spec)
        s = r._session
        if kind == "reset":
            r._publish(gen, s.frame(planned=updates))
            return
        cost = 0.0
        last = time.perf_counter()
        while s.update < updates and not self._interrupted():
            s.step()
            now = time.perf_counter()
            if now - last >= max(r.interval, cost) and s.update < updates:
                r._publish(gen, s.frame(planned=updates))
                cost = time.perf_counter() - now
                last = time.perf_counter()
        with r.cond:
            paused = r._command is not None and r._command[0] == "pause" and not r._closing
            if self._interrupted() and not paused:
                return  # replaced or closing: nobody wants this run's last frame
        r._publish(gen, s.frame(done=s.update >= updates, planned=updates))


class TrainingRunner(QObject):
    """Trains the run a LabConfig describes in a background thread (see the module
    docstring). ``sizes`` override the model's sizes (RunSpec fields: length, vocab,
    hidden, eval_size, probe_size), ``interval`` the seconds between frames."""

    frame_ready = Signal(object)  # TrainingFrame, in the GUI thread, newest only
    state_changed = Signal(str)  # 'ready' | 'training' | 'paused' | 'done'
    row_stepped = Signal(int)  # the decoding step keys ↓/↑ point at (0: none)
    _wake = Signal()  # emitted by the thread, delivered queued in the GUI thread

    def __init__(self, config: LabConfig | None = None, *, sizes: dict | None = None,
                 interval: float = INTERVAL, parent: QObject | None = None):
        super().__init__(parent)
        self.sizes = dict(sizes or {})
        self.interval = float(interval)
        self.cond = threading.Condition()
        self._command: tuple | None = None
        self._closing = False
        self._session: Session | None = None
        self._latest: tuple | None = None  # (gen, TrainingFrame) waiting for the GUI thread
        self._gen = 0
        self._thread_busy = False
        self._state = "ready"
        self._row = 0
        self.frame: TrainingFrame | None = None  # the last frame delivered
        self._config = config or LabConfig()
        self._spec = RunSpec.from_config(self._config, **self.sizes)
        self._wake.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._thread = _Thread(self)
        self._thread.start()
        self._send("reset")

    # -- what the window calls ------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def spec(self) -> RunSpec:
        return self._spec

    @property
    def training(self) -> bool:
        return self._state == "training"

    def set_config(self, config: LabConfig) -> None:
        """Follow the controls: a different run (task, cell, score, seed) stops training
        and shows the new model untrained; a new ``train_updates`` is the goal of the run
        at once (training already past it ends)."""
        old, self._config = self._config, config
        spec = RunSpec.from_config(config, **self.sizes)
        if spec != self._spec:
            self._spec = spec
            self.reset()
        elif self._state == "training" and config.train_updates != old.train_updates:
            self._send("train")  # the running run aims at the new number at once

    @Slot()
    def start(self) -> None:
        """Train (from the current weights; a finished run starts again from scratch)."""
        if self._state == "training" or self._closing:
            return
        if self._state == "done":
            self._gen += 1  # the finished run's frames are over
            self.set_row(0)
        self._send("fresh" if self._state == "done" else "train")
        self._set_state("training")

    @Slot()
    def stop(self) -> None:
        """Pause after the update in progress (the weights stay; ``start`` continues)."""
        if self._state != "training":
            return
        self._send("pause")
        self._set_state("paused")

    @Slot()
    def toggle(self) -> None:
        if self._state == "training":
            self.stop()
        else:
            self.start()

    @Slot()
    def reset(self) -> None:
        """Back to the untrained model of the current config."""
        self._gen += 1
        self._send("reset")
        self._set_state("ready")
        self.set_row(0)

    def close(self) -> None:
        """Stop the thread (window close): returns within one update or one evaluation."""
        with self.cond:
            self._closing = True
            self.cond.notify_all()
        if not self._thread.wait(JOIN_MS):
            log.warning("training thread still busy after %d ms", JOIN_MS)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Tests: wait until the thread has taken every command and is between runs."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.cond:
                if self._command is None and not self._busy():
                    return True
            time.sleep(0.005)
        return False

    # -- the decoding cursor --------------------------------------------------------------
    @property
    def row(self) -> int:
        return self._row

    def set_row(self, q: int) -> None:
        """Point at decoding step q (1..Q; 0: none) and say so with ``row_stepped``."""
        q = max(0, min(int(q), self._spec.length))
        if q != self._row:
            self._row = q
            self.row_stepped.emit(q)

    def step_row(self, delta: int) -> None:
        """Next (+1) or previous (-1) decoding step; past either end: none, then around."""
        Q = self._spec.length
        q = self._row + delta
        self.set_row(q % (Q + 1))

    def keys(self) -> dict[tuple, Callable[[], None]]:
        """(Qt key, ctrl held) -> action, in the format of the window's key table: merge it
        while the attention layout is shown (↑/↓ then step the decoding instead of ρ)."""
        K = Qt.Key
        return {(K.Key_G, False): self.toggle,
                (K.Key_Space, False): self.toggle,
                (K.Key_Down, False): lambda: self.step_row(+1),
                (K.Key_Up, False): lambda: self.step_row(-1)}

    def attach(self, *panels) -> None:
        """Draw every frame on ``panels`` (those with ``show_frame``) and point their
        cursor (``set_cursor``) at the stepped decoding row."""
        for p in panels:
            if hasattr(p, "show_frame"):
                self.frame_ready.connect(p.show_frame)
                if self.frame is not None:
                    p.show_frame(self.frame)
            self.row_stepped.connect(lambda q, p=p: p.set_cursor(q or None))

    # -- between the threads --------------------------------------------------------------
    def _busy(self) -> bool:
        return self._thread.isRunning() and self._thread_busy

    def _send(self, kind: str) -> None:
        with self.cond:
            self._command = (kind, self._gen, self._spec, self._config.train_updates)
            self.cond.notify_all()

    def _publish(self, gen: int, frame: TrainingFrame) -> None:
        """From the thread: keep only the newest frame; wake the GUI thread if needed."""
        with self.cond:
            waiting = self._latest is not None
            self._latest = (gen, frame)
        if not waiting:
            self._wake.emit()

    @Slot()
    def _deliver(self) -> None:
        with self.cond:
            latest, self._latest = self._latest, None
        if latest is None:
            return
        gen, frame = latest
        if gen != self._gen:
            return  # a frame of a run that has been replaced since
        self.frame = frame
        self.frame_ready.emit(frame)
        if frame.done and self._state == "training":
            self._set_state("done")

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)


class TrainingBar(QWidget):
    """Buttons for a runner (train/pause, reset) and one line of status: update, held-out
    exact match, time."""

    def __init__(self, runner: TrainingRunner, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingbar")
        self.runner = runner
        self.train_button = QPushButton()
        self.reset_button = QPushButton("Reset")
        self.status = QLabel()
        for b in (self.train_button, self.reset_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.train_button)
        row.addWidget(self.reset_button)
        row.addWidget(self.status, 1)
        self.train_button.clicked.connect(runner.toggle)
        self.reset_button.clicked.connect(runner.reset)
        runner.state_changed.connect(self._state)
        runner.frame_ready.connect(self._frame)
        self.apply_theme(theme)
        self._state(runner.state)

    def apply_theme(self, t: Theme) -> None:
        self.setStyleSheet(
            f"QWidget#trainingbar {{ background: {t.panel}; }}"
            f"QLabel {{ color: {t.foreground}; font-size: {t.label_pt}pt; }}"
            f"QPushButton {{ font-size: {t.control_pt}pt; padding: 4px 14px; }}")

    @Slot(str)
    def _state(self, state: str) -> None:
        label = {"training": "❚❚ Pause  G", "done": "▶ Train again  G"}.get(state, "▶ Train  G")
        self.train_button.setText(label)
        if self.runner.frame is not None:
            self._frame(self.runner.frame)

    @Slot(object)
    def _frame(self, f: TrainingFrame) -> None:
        state = {"ready": "untrained", "paused": "paused", "done": "done",
                 "training": "training…"}[self.runner.state]
        self.status.setText(f"{state}   update {f.update}   exact match "
                            f"{100 * f.accuracy:.0f} %   {f.seconds:.1f} s")
