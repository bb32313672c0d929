"""A cheap measure that is heavy at large sizes goes to the expensive lane: the eigenvalues of
a step Jacobian of size d >= 256 take 50 ms to seconds, which must not delay the slider."""

from gradlab.app.worker import ComputeWorker, split_by_cost
from gradlab.config import LabConfig
from gradlab.measures import get_measure


def test_eigen_is_cheap_when_small_and_expensive_when_large():
    names = ("gradient", "eigen", "spectrum")
    assert split_by_cost(names, LabConfig(hidden=32)) == (("gradient", "eigen"), ("spectrum",))
    assert split_by_cost(names, LabConfig(hidden=256)) == (("gradient",), ("eigen", "spectrum"))
    assert split_by_cost(names, LabConfig(cell="lstm", hidden=128))[1] == ("eigen", "spectrum")
    # a linear RNN has no step Jacobian to decompose: it stays cheap
    assert get_measure("eigen").cost_for(LabConfig(hidden=512, activation="linear")) == "cheap"
    assert split_by_cost(names) == (("gradient", "eigen"), ("spectrum",))  # no config: as declared


def test_the_worker_sends_a_heavy_eigen_after_the_cheap_results(qtbot):
    worker = ComputeWorker()
    got = []
    worker.snapshot_ready.connect(lambda seq, snap: got.append(snap))
    try:
        worker.submit(LabConfig(hidden=256, steps=20), ("gradient", "eigen"))
        qtbot.waitUntil(lambda: len(got) == 2, timeout=60000)
    finally:
        worker.stop()
    assert [set(s.results) for s in got] == [{"gradient"}, {"eigen"}]
