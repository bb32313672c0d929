"""ComputeWorker: two lanes off the GUI thread (cheap first, expensive after), newest wins,
failures reported, not raised; synchronous mode computes everything before returning."""

import subprocess
import sys
import threading
import time

from gradlab.app.window import LabWindow
from gradlab.app.worker import ComputeWorker, split_by_cost
from gradlab.config import LabConfig
from gradlab.lab import Lab
from tests.app.stand_ins import STAND_INS

CHEAP = ("gradient", "eigen")
BOTH = ("gradient", "eigen", "spectrum")


class SlowLab(Lab):
    """The real Lab, slowed down per measure and recording who computed what."""

    def __init__(self, delay=0.02, expensive_delay=0.0):
        super().__init__()
        self.delay = delay
        self.expensive_delay = expensive_delay
        self.seen = []  # (thread id, config, names)

    def compute(self, config, measures=None):
        names = tuple(measures or ())
        self.seen.append((threading.get_ident(), config, names))
        time.sleep(self.delay + (self.expensive_delay if "spectrum" in names else 0.0))
        return super().compute(config, measures)


class BrokenLab(Lab):
    def compute(self, config, measures=None):
        raise RuntimeError("kernel exploded")


def test_split_by_cost_keeps_the_order():
    assert split_by_cost(("spectrum", "gradient", "eigen")) == (("gradient", "eigen"),
                                                                 ("spectrum",))
    cheap, expensive = split_by_cost(None)
    assert "spectrum" in expensive and "gradient" in cheap


def test_worker_drops_stale_configs(qtbot):
    lab = SlowLab()
    worker = ComputeWorker(lab)
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append(snap))
    try:
        configs = [LabConfig(spectral_radius=0.80 + 0.02 * i) for i in range(20)]
        for c in configs:
            worker.submit(c, CHEAP)
        qtbot.waitUntil(lambda: bool(got) and got[-1].config == configs[-1] and worker.idle(),
                        timeout=20000)
    finally:
        worker.stop()
    assert worker.computed < 20
    assert lab.seen[-1][1] == configs[-1]
    assert all(tid != threading.get_ident() for tid, _, _ in lab.seen)  # never the GUI thread


def test_cheap_results_come_first_and_expensive_ones_follow(qtbot):
    lab = SlowLab(delay=0.0)
    slow = SlowLab(delay=0.0, expensive_delay=0.5)
    worker = ComputeWorker(lab, expensive_lab=slow)
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append((seq, snap)))
    try:
        seq = worker.submit(LabConfig(), BOTH)
        qtbot.waitUntil(lambda: len(got) == 2, timeout=20000)
    finally:
        worker.stop()
    (s1, first), (s2, second) = got
    assert s1 == s2 == seq
    assert set(first.results) == {"gradient", "eigen"}
    assert set(second.results) == {"spectrum"}
    assert [n for _, _, n in lab.seen] == [("gradient", "eigen")]
    assert [n for _, _, n in slow.seen] == [("spectrum",)]


def test_the_slider_never_waits_for_an_expensive_measure(qtbot):
    lab = SlowLab(delay=0.0)
    slow = SlowLab(delay=0.0, expensive_delay=3.0)
    worker = ComputeWorker(lab, expensive_lab=slow)
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append(snap))
    try:
        worker.submit(LabConfig(spectral_radius=0.9), BOTH)
        qtbot.waitUntil(lambda: len(slow.seen) == 1, timeout=20000)  # spectrum is running
        start = time.perf_counter()
        worker.submit(LabConfig(spectral_radius=1.1), BOTH)
        qtbot.waitUntil(lambda: any(s.config.spectral_radius == 1.1 for s in got),
                        timeout=20000)
        waited = time.perf_counter() - start
        assert not any("spectrum" in s for s in got)  # the slow spectrum is still running
        assert waited < 2.5
    finally:
        worker.stop()


def test_synchronous_mode_computes_everything_before_returning(qtbot):
    worker = ComputeWorker(synchronous=True)
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append(snap))
    worker.submit(LabConfig(steps=20, hidden=8), BOTH)
    assert len(got) == 1 and set(got[0].results) == set(BOTH)
    assert worker.idle()


def test_async_window_shows_the_newest_config(qtbot):
    lab = SlowLab(delay=0.005)
    window = LabWindow(lab=lab, panels=STAND_INS)
    qtbot.addWidget(window)
    window.show()
    slider = window.controls.rho_slider
    for ticks in range(100, 120):  # 20 quick slider moves
        slider.setValue(ticks + 1)
    qtbot.waitUntil(lambda: window.snapshot is not None
                    and window.snapshot.config.spectral_radius == 1.20, timeout=20000)
    assert window.snapshot.config == window.config
    assert all(tid != threading.get_ident() for tid, _, _ in lab.seen)
    qtbot.waitUntil(window.worker.idle, timeout=20000)
    assert not any(p.stale for p in window.panels)


def test_failed_compute_goes_to_the_status_bar(qtbot):
    window = LabWindow(synchronous=True, lab=BrokenLab(), panels=STAND_INS)
    qtbot.addWidget(window)
    assert window.snapshot is None
    assert "kernel exploded" in window.statusBar().currentMessage()
    window.controls.rho_slider.setValue(110)  # still alive, still reporting
    assert "kernel exploded" in window.statusBar().currentMessage()


def test_failed_compute_off_thread_is_reported(qtbot):
    worker = ComputeWorker(BrokenLab())
    try:
        with qtbot.waitSignal(worker.failed, timeout=10000) as blocker:
            worker.submit(LabConfig(), CHEAP)
    finally:
        worker.stop()
    assert "RuntimeError: kernel exploded" in blocker.args[0]


def test_importing_the_app_computes_nothing():
    code = (
        "import sys, gradlab.app, kernels.rnn as k;"
        "assert callable(gradlab.app.run);"
        "assert 'PySide6' not in sys.modules, 'Qt imported';"
        "assert not k.forward_sweep.signatures, 'kernel compiled'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_results_are_delivered_in_the_gui_thread(qtbot):
    worker = ComputeWorker(SlowLab(delay=0.0), expensive_lab=SlowLab(delay=0.0))
    threads = []
    worker.snapshot_ready.connect(lambda seq, snap: threads.append(threading.get_ident()))
    try:
        worker.submit(LabConfig(), BOTH)
        qtbot.waitUntil(lambda: len(threads) == 2, timeout=20000)
    finally:
        worker.stop()
    assert threads == [threading.get_ident()] * 2
