"""The attention layout: TrainingRunner (training off the GUI thread, newest frame wins,
prompt stop/close, reset, config changes) driving the alignment, training and encoder
gradient panels, and the layout itself. A reduced reversal (length 6, vocab 8, hidden 32)
keeps the real training run short."""

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gradlab.app.panels import PANELS
from gradlab.app.panels.alignment import AlignmentPanel
from gradlab.app.panels.encgrad import EncoderGradientPanel, normalised_log10
from gradlab.app.panels.training import TrainingPanel
from gradlab.app.theme import get_theme
from gradlab.app.training import TrainingBar, TrainingRunner
from gradlab.config import LabConfig
from gradlab.lab import Lab
from gradlab.layouts import LAYOUTS, get_layout
from gradlab.measures.attention import RunSpec, Session
from gradlab.tasks import alignment_share

SMALL = {"length": 6, "vocab": 8, "hidden": 32, "eval_size": 100, "probe_size": 16}
CONFIG = LabConfig(cell="gru", task="reverse", score="additive", train_updates=600)


@pytest.fixture
def panels(qtbot):
    theme = get_theme("dark")
    made = {"alignment": AlignmentPanel(theme), "training": TrainingPanel(theme),
            "encgrad": EncoderGradientPanel(theme)}
    for p in made.values():
        qtbot.addWidget(p.widget)
        p.widget.resize(640, 480)
        p.widget.show()
    return made


@pytest.fixture
def runner(qtbot):
    r = TrainingRunner(CONFIG, sizes=SMALL, interval=0.1)
    yield r
    r.close()


def _first_frame(qtbot, runner):
    # generous: on a cold numba cache the first evaluation compiles the kernels
    qtbot.waitUntil(lambda: runner.frame is not None, timeout=180000)
    return runner.frame


def test_the_layout_places_registered_panels():
    lay = get_layout("attention")
    assert set(lay.panels) == {"alignment", "training", "encgrad"}
    assert set(lay.panels) <= set(PANELS)
    assert "attention" in LAYOUTS and lay.config["cell"] == "gru"
    LabConfig(**lay.config)  # a valid starting config


def test_runner_trains_reversal_and_the_panels_follow_it_live(qtbot, runner, panels):
    """Item 6: a key press (here start()) trains in the background; the alignment converges
    to the anti-diagonal; every panel draws the newest frame."""
    seen = []
    runner.frame_ready.connect(seen.append)
    runner.attach(*panels.values())
    first = _first_frame(qtbot, runner)
    assert first.update == 0 and runner.state == "ready"
    t0 = time.perf_counter()
    runner.start()
    assert runner.state == "training"
    qtbot.waitUntil(lambda: runner.state == "done", timeout=60000)
    elapsed = time.perf_counter() - t0
    f = runner.frame
    assert f.done and f.update == 600 and f is seen[-1]
    assert f.accuracy >= 0.95, f.accuracy
    assert f.share > 0.8 and f.share == pytest.approx(alignment_share(f.alignment, f.expected))
    assert len(seen) >= 3  # live: frames along the way, not only the last
    ups = [s.update for s in seen]
    assert ups == sorted(ups)
    # the panels draw exactly this frame
    al = panels["alignment"]
    np.testing.assert_array_equal(al.shown_alignment(), f.alignment)
    tr = panels["training"]
    x, y = tr.accuracy.getData()
    np.testing.assert_array_equal(x, f.frame_updates)
    np.testing.assert_allclose(y, 100 * f.frame_accuracy)
    assert len(tr.batch_loss.getData()[0]) == 600
    eg = panels["encgrad"].drawn()
    np.testing.assert_allclose(eg["with"], normalised_log10(f.grad_with))
    np.testing.assert_allclose(eg["without"], normalised_log10(f.grad_without))
    assert elapsed < 60


def test_untrained_gradient_curves_differ_as_item_7_says(qtbot, panels):
    """With attention the curve drawn is level (max/min near 1); through the last state
    only it falls by an order of magnitude towards the start of the source."""
    frame = Session(RunSpec(**SMALL)).frame()
    p = panels["encgrad"]
    p.show_frame(frame)
    d = p.drawn()
    span_with = d["with"].max() - d["with"].min()  # decades
    span_without = d["without"].max() - d["without"].min()
    assert span_with < np.log10(1.5)
    assert span_without > 1.0
    assert d["without"][-1] == 0.0 and np.all(np.diff(d["without"]) > 0)


def test_stop_is_prompt_and_start_continues(qtbot, runner):
    _first_frame(qtbot, runner)
    runner.start()
    qtbot.waitUntil(lambda: runner._session is not None and runner._session.update > 20,
                    timeout=20000)
    t0 = time.perf_counter()
    runner.stop()
    assert runner.state == "paused"
    assert runner.wait_idle(timeout=5.0)
    assert time.perf_counter() - t0 < 1.0
    n = runner._session.update
    time.sleep(0.2)
    assert runner._session.update == n  # nothing trains while paused
    qtbot.waitUntil(lambda: runner.frame.update == n, timeout=5000)  # the paused picture
    runner.start()
    qtbot.waitUntil(lambda: runner._session.update > n + 5, timeout=20000)
    runner.stop()


def test_close_is_prompt_even_mid_training(qtbot, runner):
    _first_frame(qtbot, runner)
    runner.start()
    qtbot.waitUntil(lambda: runner._session.update > 5, timeout=20000)
    t0 = time.perf_counter()
    runner.close()
    assert time.perf_counter() - t0 < 1.0
    assert not runner._thread.isRunning()


def test_reset_and_a_new_run_from_the_controls(qtbot, runner, panels):
    runner.attach(*panels.values())
    _first_frame(qtbot, runner)
    runner.start()
    qtbot.waitUntil(lambda: runner.frame.update > 0, timeout=20000)
    runner.reset()
    assert runner.state == "ready"
    qtbot.waitUntil(lambda: runner.frame.update == 0, timeout=20000)
    # another score: a new run, drawn untrained; frames of the old run are dropped
    runner.start()
    runner.set_config(CONFIG.replace(score="dot"))
    assert runner.state == "ready" and runner.spec.score == "dot"
    qtbot.waitUntil(lambda: runner.frame.spec.score == "dot", timeout=20000)
    assert runner.frame.update == 0
    assert panels["alignment"].current is runner.frame
    # train_updates alone does not replace the run; while training it is the new goal
    spec = runner.spec
    runner.set_config(CONFIG.replace(score="dot", train_updates=5000))
    assert runner.spec is spec and runner.state == "ready"
    runner.start()
    qtbot.waitUntil(lambda: runner.frame.update > 0, timeout=20000)
    runner.set_config(CONFIG.replace(score="dot", train_updates=10))
    qtbot.waitUntil(lambda: runner.state == "done", timeout=20000)
    assert runner.spec is spec and runner.frame.done


def test_only_the_newest_frame_reaches_the_gui(qtbot, runner):
    """Frames published faster than the GUI draws are dropped, not queued."""
    _first_frame(qtbot, runner)
    runner.wait_idle()
    s = Session(RunSpec(**SMALL))
    frames = [s.frame()]
    for _ in range(3):
        s.step()
        frames.append(s.frame())
    seen = []
    runner.frame_ready.connect(seen.append)
    th = threading.Thread(target=lambda: [runner._publish(runner._gen, f) for f in frames])
    th.start()
    th.join()
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=5000)
    qtbot.wait(50)
    assert seen == [frames[-1]]


def test_stepping_through_the_decoding_highlights_one_row(qtbot, runner, panels):
    al = panels["alignment"]
    runner.attach(al)
    f = _first_frame(qtbot, runner)
    assert al.highlighted_row() == 0
    keys = runner.keys()
    down, up = keys[(Qt.Key.Key_Down, False)], keys[(Qt.Key.Key_Up, False)]
    assert keys[(Qt.Key.Key_G, False)] == runner.toggle
    down()
    assert al.highlighted_row() == 1 and runner.row == 1
    down()
    assert al.highlighted_row() == 2
    rect = al.row_box.rect()
    assert (rect.top(), rect.bottom()) == (1.5, 2.5) and rect.width() == 6  # row 2 framed
    title = al.headline.text()
    j = int(np.argmax(f.alignment[1]))
    assert "step 2" in title and f"= {int(f.source[j])}, writes {int(f.decoded[1])}" in title
    for _ in range(5):
        down()
    assert al.highlighted_row() == 0  # past the last step: none
    up()
    assert al.highlighted_row() == 6
    al.set_cursor(None)
    assert al.highlighted_row() == 0


def test_items_are_updated_in_place(qtbot, panels):
    s = Session(RunSpec(**SMALL))
    p = panels["alignment"]
    items = {name: [id(i) for i in q.graphics.scene().items()] for name, q in panels.items()}
    image = p.image
    for _ in range(3):
        f = s.frame()
        for q in panels.values():
            q.show_frame(f)
        for _ in range(4):
            s.step()
    assert p.image is image
    for name, q in panels.items():
        assert [id(i) for i in q.graphics.scene().items()] == items[name], name


def test_the_labs_untrained_frame_never_hides_a_newer_one(qtbot, panels):
    snap = Lab().compute(CONFIG, ["attention"])
    s = Session(RunSpec.from_config(CONFIG))
    for _ in range(3):
        s.step()
    later = s.frame()
    for p in panels.values():
        p.show(snap)
        assert p.current is snap["attention"]
        p.show_frame(later)
        p.show(snap)  # e.g. redrawn after another control moved
        assert p.current is later
    other = Lab().compute(CONFIG.replace(score="dot"), ["attention"])
    for p in panels.values():
        p.show(other)  # another run: drawn
        assert p.current is other["attention"]


def test_themes_and_the_bar(qtbot, runner, panels):
    bar = TrainingBar(runner, get_theme("dark"))
    qtbot.addWidget(bar)
    _first_frame(qtbot, runner)
    qtbot.waitUntil(lambda: "update 0" in bar.status.text(), timeout=5000)
    assert "Train" in bar.train_button.text()
    bar.train_button.click()
    assert runner.state == "training" and "Pause" in bar.train_button.text()
    bar.train_button.click()
    assert runner.state == "paused"
    bar.reset_button.click()
    assert runner.state == "ready"
    light = get_theme("light")
    for p in panels.values():
        p.apply_theme(light)
    bar.apply_theme(light)
