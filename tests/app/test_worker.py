"""ComputeWorker: off the GUI thread, newest config wins, failures reported, not raised."""

import subprocess
import sys
import threading
import time

from gradlab.app.window import LabWindow
from gradlab.app.worker import ComputeWorker
from gradlab.config import LabConfig
from gradlab.lab import Lab


class SlowLab(Lab):
    """The real Lab, slowed down and recording which thread computed which config."""

    def __init__(self, delay=0.02):
        super().__init__()
        self.delay = delay
        self.seen = []  # (thread id, config)

    def compute(self, config):
        self.seen.append((threading.get_ident(), config))
        time.sleep(self.delay)
        return super().compute(config)


class BrokenLab(Lab):
    def compute(self, config):
        raise RuntimeError("kernel exploded")


def test_worker_drops_stale_configs(qtbot):
    lab = SlowLab()
    worker = ComputeWorker(lab)
    got = []
    worker.snapshot_ready.connect(got.append)
    try:
        configs = [LabConfig(spectral_radius=0.80 + 0.02 * i) for i in range(20)]
        for c in configs:
            worker.submit(c)
        qtbot.waitUntil(lambda: bool(got) and got[-1].config == configs[-1] and worker.idle(),
                        timeout=20000)
    finally:
        worker.stop()
    assert worker.computed < 20
    assert [c for _, c in lab.seen][-1] == configs[-1]
    assert all(tid != threading.get_ident() for tid, _ in lab.seen)  # never the GUI thread


def test_async_window_shows_the_newest_config(qtbot):
    lab = SlowLab(delay=0.005)
    window = LabWindow(lab=lab)
    qtbot.addWidget(window)
    window.show()
    slider = window.controls.rho_slider
    for ticks in range(100, 120):  # 20 quick slider moves
        slider.setValue(ticks + 1)
    qtbot.waitUntil(lambda: window.snapshot is not None
                    and window.snapshot.config.spectral_radius == 1.20, timeout=20000)
    assert window.snapshot.config == window.config
    assert window.worker.computed < 21  # the initial config plus fewer than 20 moves
    assert all(tid != threading.get_ident() for tid, _ in lab.seen)


def test_failed_compute_goes_to_the_status_bar(qtbot):
    window = LabWindow(synchronous=True, lab=BrokenLab())
    qtbot.addWidget(window)
    assert window.snapshot is None
    assert "kernel exploded" in window.statusBar().currentMessage()
    window.controls.rho_slider.setValue(110)  # still alive, still reporting
    assert "kernel exploded" in window.statusBar().currentMessage()


def test_failed_compute_off_thread_is_reported(qtbot):
    worker = ComputeWorker(BrokenLab())
    try:
        with qtbot.waitSignal(worker.failed, timeout=10000) as blocker:
            worker.submit(LabConfig())
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
