"""EigenPanel: W's eigenvalues drawn, dragged (real ones stay real, complex ones take their
mirror along), and a drag outside the unit circle makes the gradient grow."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from gradlab.app.panels import get_panel
from gradlab.app.panels.eigen import EigenPanel
from gradlab.app.theme import DARK, LIGHT
from gradlab.cells import CELLS
from gradlab.config import LabConfig
from gradlab.measures.context import params_for
from gradlab.measures.eigen import conjugate_pairs


@pytest.fixture
def panel(make_panel):
    return make_panel(EigenPanel, (800, 700), DARK)


def shown(panel, lab, config):
    panel.frame(config)
    panel.show(lab.compute(config, panel.measures + panel.follows))
    return panel


def drawn(panel) -> np.ndarray:
    x, y = panel.points.getData()
    return np.asarray(x) + 1j * np.asarray(y)


def edits(panel):
    got = []
    panel.edited.connect(got.append)
    return got


class FakeDrag:
    """What pyqtgraph hands to an item's mouseDragEvent (positions in item coordinates)."""

    def __init__(self, start, pos, *, first=False, last=False):
        self._start, self._pos, self._first, self._last = start, pos, first, last
        self.accepted = None

    def button(self):
        return Qt.MouseButton.LeftButton

    def isStart(self):  # noqa: N802
        return self._first

    def isFinish(self):  # noqa: N802
        return self._last

    def buttonDownPos(self):  # noqa: N802
        return QPointF(self._start.real, self._start.imag)

    def pos(self):
        return QPointF(self._pos.real, self._pos.imag)

    def accept(self):
        self.accepted = True

    def ignore(self):
        self.accepted = False


def mouse_drag(panel, start: complex, path):
    """Drive the panel's own mouse handling: press at ``start``, move along ``path``."""
    events = [FakeDrag(start, path[0], first=True)]
    events += [FakeDrag(start, z) for z in path[1:-1]]
    events.append(FakeDrag(start, path[-1], last=True))
    for ev in events:
        panel.points.mouseDragEvent(ev)
    return events


def test_registered_and_draws_the_eigenvalues_of_w(panel, lab):
    assert get_panel("eigen") is EigenPanel
    assert EigenPanel.measures == ("eigen",)
    cfg = LabConfig(spectral_radius=1.2)
    snap = lab.compute(cfg, ["eigen"])
    panel.show(snap)
    np.testing.assert_allclose(np.sort_complex(drawn(panel)),
                               np.sort_complex(snap["eigen"].eigvals), atol=1e-6)
    # the dashed circle has radius rho
    x, y = panel.rho_circle.getData()
    np.testing.assert_allclose(np.hypot(x, y), 1.2, atol=1e-9)


def test_items_are_updated_in_place(panel, lab):
    items = (panel.points, panel.leaky_points, panel.step_points, panel.rho_circle,
             panel.unit, panel.plot, panel.key)
    shown(panel, lab, LabConfig())
    shown(panel, lab, LabConfig(spectral_radius=0.8, leak=0.5))
    assert items == (panel.points, panel.leaky_points, panel.step_points, panel.rho_circle,
                     panel.unit, panel.plot, panel.key)
    assert len(panel.leaky_points.getData()[0]) == 32  # the leaky step now drawn


def test_second_sets_leaky_step_and_step_jacobian(panel, lab):
    cfg = LabConfig(leak=0.25, cursor=20)
    shown(panel, lab, cfg)
    e = lab.compute(cfg, ["eigen"])["eigen"]
    lx, ly = panel.leaky_points.getData()
    # the leaky step's eigenvalues are 1 - a + a lambda: pulled towards 1
    np.testing.assert_allclose(np.sort_complex(np.asarray(lx) + 1j * np.asarray(ly)),
                               np.sort_complex(0.75 + 0.25 * e.eigvals), atol=1e-6)
    assert len(panel.step_points.getData()[0]) == 32
    assert "J<sub>t</sub> at t = 20" in panel.key.text
    # a linear cell has no separate step Jacobian
    shown(panel, lab, LabConfig(activation="linear"))
    assert len(panel.step_points.getData()[0]) == 0
    assert "J<sub>t</sub>" not in panel.key.text


def test_step_jacobian_follows_without_holding_the_picture(panel, lab):
    # the cheap snapshot draws W's eigenvalues at once; J_t's are added when they arrive
    cfg = LabConfig(cell="lstm", cursor=10)
    panel.show(lab.compute(cfg, ["eigen"]))
    assert len(panel.points.getData()[0]) == 32 and len(panel.step_points.getData()[0]) == 0
    panel.show(lab.compute(cfg, ["eigen", "step_eigen"]))
    assert len(panel.step_points.getData()[0]) == 64  # (h, c): d = 2n


def test_complex_eigenvalue_drags_its_mirror(panel, lab):
    cfg = LabConfig()
    shown(panel, lab, cfg)
    e = panel.eigen
    i = int(np.argmax(e.eigvals.imag))  # a complex one, upper half plane
    j = int(e.pair[i])
    assert j >= 0
    got = edits(panel)
    target = complex(0.3, 0.6)
    mouse_drag(panel, complex(e.eigvals[i]), [0.5 * (e.eigvals[i] + target), target])
    assert got, "a drag emits edited"
    eigs = np.array([complex(*p) for p in got[-1]["eigs"]])
    assert eigs[i] == pytest.approx(target)
    assert eigs[j] == pytest.approx(target.conjugate())
    others = np.setdiff1d(np.arange(len(eigs)), [i, j])
    np.testing.assert_allclose(eigs[others], e.base[others])
    lam = drawn(panel)
    assert lam[i] == pytest.approx(target) and lam[j] == pytest.approx(target.conjugate())
    # the new config's W has those eigenvalues
    new = cfg.replace(**got[-1])
    e2 = lab.compute(new, ["eigen"])["eigen"]
    assert np.min(np.abs(e2.eigvals - target)) < 1e-6


def test_real_eigenvalue_stays_real(panel, lab):
    cfg = LabConfig(hidden=7)  # odd: an orthogonal W has a real eigenvalue
    shown(panel, lab, cfg)
    e = panel.eigen
    i = int(np.nonzero(e.pair < 0)[0][0])
    got = edits(panel)
    mouse_drag(panel, complex(e.eigvals[i]), [complex(0.4, 0.5), complex(0.6, -0.7)])
    eigs = np.array([complex(*p) for p in got[-1]["eigs"]])
    assert eigs[i] == pytest.approx(0.6) and eigs[i].imag == 0.0
    assert drawn(panel)[i].imag == 0.0
    # W rebuilt from them is real and has the eigenvalue 0.6
    e2 = lab.compute(cfg.replace(**got[-1]), ["eigen"])["eigen"]
    assert np.min(np.abs(e2.eigvals - 0.6)) < 1e-6


def test_indrnn_eigenvalues_stay_real(panel, lab):
    assert "indrnn" in CELLS
    cfg = LabConfig(cell="indrnn")
    shown(panel, lab, cfg)
    assert panel.eigen.real_only
    got = edits(panel)
    panel.drag(0, complex(1.3, 0.8))
    assert all(im == 0.0 for _, im in got[-1]["eigs"])
    assert got[-1]["eigs"][0][0] == pytest.approx(1.3)


def test_drag_outside_unit_circle_makes_the_gradient_grow(panel, lab):
    """The issue's requirement: an eigenvalue dragged outside the unit circle -> growth > 1."""
    cfg = LabConfig(spectral_radius=0.9)
    assert lab.compute(cfg, ["gradient"])["gradient"].growth_per_step < 1.0
    shown(panel, lab, cfg)
    e = panel.eigen
    i = int(np.argmax(e.eigvals.imag))
    got = edits(panel)
    target = 1.25 * e.eigvals[i] / abs(e.eigvals[i])  # |lambda| = 1.25, same angle
    mouse_drag(panel, complex(e.eigvals[i]), [complex(e.eigvals[i]) * 1.1, target])
    new = cfg.replace(**got[-1])
    eigs = np.array([complex(*p) for p in new.eigs])
    assert np.max(np.abs(eigs)) * new.spectral_radius == pytest.approx(1.25)
    assert lab.compute(new, ["gradient"])["gradient"].growth_per_step > 1.0


def test_drag_is_throttled_and_frame_stays_fixed(panel, lab, monkeypatch):
    cfg = LabConfig()
    shown(panel, lab, cfg)
    frame = panel.plot.vb.viewRange()
    got = edits(panel)
    clock = iter(np.arange(1000.0, 1100.0, 0.01))  # 10 ms per call
    monkeypatch.setattr("gradlab.app.panels.eigen.time.monotonic", lambda: next(clock))
    i = int(np.argmax(panel.eigen.eigvals.imag))
    for k in range(20):
        panel.drag(i, complex(0.1 + 0.04 * k, 0.5), finished=False)
        assert panel.plot.vb.viewRange() == frame
    assert panel.dragging
    assert 1 <= len(got) <= 4  # about one per 80 ms over 200 ms
    z = complex(0.1 + 0.04 * 19, 0.5)
    assert f"|λ| = {abs(z):.2f}" in panel.key.text  # the value being set, in the key
    panel.drag(i, complex(1.5, 0.5), finished=True)  # release: always emitted
    assert not panel.dragging
    assert got[-1]["eigs"][i] == pytest.approx((1.5, 0.5))
    assert "|λ| = 1.58" not in panel.key.text
    # a snapshot arriving while dragging does not move the dragged dots
    panel.drag(i, complex(0.2, 0.2), finished=False)
    shown(panel, lab, cfg)
    assert drawn(panel)[i] == pytest.approx(complex(0.2, 0.2))
    panel.drag(i, complex(0.2, 0.2), finished=True)


def test_frame_depends_on_config_and_widens(panel, lab):
    shown(panel, lab, LabConfig())
    small = panel._frame
    shown(panel, lab, LabConfig(spectral_radius=2.5))
    assert panel._frame > small and panel._frame >= 1.15 * 2.5


def test_presets(panel, lab):
    cfg = LabConfig()
    shown(panel, lab, cfg)
    got = edits(panel)
    panel.preset("diag(0.5, 1.5)")
    new = cfg.replace(**got[-1])
    lam = lab.compute(new, ["eigen"])["eigen"].eigvals
    np.testing.assert_allclose(np.sort(np.abs(lam)), [0.5] * 16 + [1.5] * 16, atol=1e-9)
    # a second preset after the first (whose base is all real) keeps W's eigenvalues right
    shown(panel, lab, new)
    panel.preset("golden ratio")
    new2 = new.replace(**got[-1])
    W = lab.compute(new2, ["eigen"])
    phi = (1 + 5 ** 0.5) / 2
    M = params_for(new2, lab.draws).weights["W"]
    actual = np.sort_complex(np.linalg.eigvals(M))
    np.testing.assert_allclose(actual.real, np.sort([phi] * 16 + [1 - phi] * 16), atol=1e-6)
    assert W["eigen"].eigvals.shape == (32,)
    panel.preset("none")
    assert got[-1] == {"eigs": ()}


def test_conjugate_pairs_of_the_drawn_matrix_match(panel, lab):
    shown(panel, lab, LabConfig())
    np.testing.assert_array_equal(conjugate_pairs(panel.eigen.base), panel.eigen.pair)


def test_themes_restyle(panel, lab):
    shown(panel, lab, LabConfig(leak=0.5))
    panel.apply_theme(LIGHT)
    assert panel.points.opts["brush"].color().name() == LIGHT.eig
    panel.apply_theme(DARK)
    assert panel.points.opts["brush"].color().name() == DARK.eig


def qt_mouse_drag(panel, start: complex, end: complex, steps: int = 6):
    """Press, move and release real Qt mouse events on the plot's viewport (pyqtgraph's
    scene turns them into a drag on the item under the press)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    viewport = panel.graphics.viewport()

    def send(kind, z, button, buttons):
        scene_pos = panel.plot.vb.mapViewToScene(QPointF(z.real, z.imag))
        pos = QPointF(panel.graphics.mapFromScene(scene_pos))
        ev = QMouseEvent(kind, pos, viewport.mapToGlobal(pos), button, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, ev)
        QTest.qWait(25)  # pyqtgraph drops mouse moves closer together than its rate limit

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QEvent.Type.MouseMove, start, none, none)
    send(QEvent.Type.MouseButtonPress, start, left, left)
    for z in np.linspace(start, end, steps)[1:]:
        send(QEvent.Type.MouseMove, complex(z), none, left)
    send(QEvent.Type.MouseButtonRelease, end, left, none)


def test_real_mouse_drag_outside_the_unit_circle(panel, lab, qtbot):
    """The same requirement through Qt mouse events: press on a dot, drag it out, release.
    Linear cell: with tanh a real unstable mode drives the state into saturation, where
    the gradient dies again (n = 7, lambda = 1.3: growth 0.78 per step)."""
    cfg = LabConfig(hidden=7, spectral_radius=0.9, activation="linear")
    shown(panel, lab, cfg)
    qtbot.wait(10)
    e = panel.eigen
    i = int(np.nonzero(e.pair < 0)[0][0])  # a real eigenvalue (odd n, orthogonal W)
    got = edits(panel)
    start = complex(e.eigvals[i])
    end = complex(np.sign(start.real) * 1.3, 0.2)  # off the axis: it must stay on it
    qt_mouse_drag(panel, start, end)
    assert got and not panel.dragging
    eigs = np.array([complex(*p) for p in got[-1]["eigs"]])
    assert eigs[i].imag == 0.0
    assert abs(eigs[i]) * cfg.spectral_radius == pytest.approx(1.3, abs=0.02)
    new = cfg.replace(**got[-1])
    assert lab.compute(new, ["gradient"])["gradient"].growth_per_step > 1.0


def test_export_png(panel, lab, tmp_path):
    shown(panel, lab, LabConfig(leak=0.5))
    panel.export(tmp_path / "eigen.png")
    assert (tmp_path / "eigen.png").stat().st_size > 1000
