"""A cheap measure that is heavy at large sizes goes to the expensive lane: with per-unit
leaks the leaky step of n >= 256 units needs an eigen-decomposition per move (50 ms and
more), which must not delay the slider."""

from gradlab.app.worker import ComputeWorker, split_by_cost
from gradlab.config import LabConfig
from gradlab.measures import get_measure

SPREAD = {"leak": 0.1, "leak_spread": "log-uniform"}


def test_eigen_is_cheap_when_small_and_expensive_when_large():
    names = ("gradient", "eigen", "spectrum")
    assert split_by_cost(names, LabConfig(hidden=32, **SPREAD)) == \
        (("gradient", "eigen"), ("spectrum",))
    assert split_by_cost(names, LabConfig(hidden=256, **SPREAD)) == \
        (("gradient",), ("eigen", "spectrum"))
    # one leak for all units: the eigenvalues are 1 - a + a lambda, no decomposition
    assert get_measure("eigen").cost_for(LabConfig(hidden=512, leak=0.1)) == "cheap"
    assert get_measure("eigen").cost_for(LabConfig(cell="lstm", hidden=512)) == "cheap"
    assert split_by_cost(names) == (("gradient", "eigen"), ("spectrum",))  # no config: as declared


def test_the_worker_sends_a_heavy_eigen_after_the_cheap_results(qtbot):
    worker = ComputeWorker()
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append(snap))
    try:
        worker.submit(LabConfig(hidden=256, steps=20, **SPREAD), ("gradient", "eigen"))
        qtbot.waitUntil(lambda: len(got) == 2, timeout=60000)
    finally:
        worker.stop()
    assert [set(s.results) for s in got] == [{"gradient"}, {"eigen"}]
