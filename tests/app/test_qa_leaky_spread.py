"""QA: with "leak per unit: log-uniform" the leaky panel's key heading became one long line
("memory horizon · leaks per unit in [a, 1] (steps)") whenever the key fell back to one
line a curve, and the plot beside it shrank to a few pixels (found by hand at 1920x1080)."""

import pytest
from PySide6.QtCore import QCoreApplication

from gradlab.app.panels.leaky import LeakyPanel
from gradlab.app.theme import DARK
from gradlab.config import LabConfig
from gradlab.lab import Lab


@pytest.mark.parametrize("scale, size", [(1.5, (730, 400)), (1.0, (560, 300)),
                                         (0.85, (450, 260))])
def test_the_plot_keeps_its_room_with_per_unit_leaks(qtbot, scale, size):
    panel = LeakyPanel(DARK.scaled(scale))
    qtbot.addWidget(panel.widget)
    panel.widget.resize(*size)
    panel.widget.show()
    widths = {}
    for spread in ("one", "log-uniform"):
        config = LabConfig(leak=1.0, leak_spread=spread)
        panel.frame(config)
        panel.show(Lab().compute(config, panel.measures))
        for _ in range(3):
            QCoreApplication.processEvents()
            qtbot.wait(10)
        widths[spread] = panel.plot.vb.width()
    assert widths["log-uniform"] >= 0.25 * size[0]
    assert widths["log-uniform"] >= 0.5 * widths["one"]
    assert "(steps)" in panel.key.text and "leaks per unit" in panel.key.text
