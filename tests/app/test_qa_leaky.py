"""QA: while a scene animates the leak, the leaky key read "a = 0.676959 (γ = 1.48)" next to
a caption "a = 0.68", and its width (so the plot's) changed every frame (found by hand in
``gradlab play scenes/leaky_units.py``)."""

import pytest

from gradlab.app.panels.leaky import LeakyPanel, leak_label
from gradlab.app.theme import DARK
from gradlab.config import LabConfig
from gradlab.lab import Lab, caption


@pytest.mark.parametrize("spread", ["one", "log-uniform"])
def test_the_key_writes_the_leak_as_the_caption_does(qtbot, spread):
    panel = LeakyPanel(DARK)
    qtbot.addWidget(panel.widget)
    panel.widget.resize(1000, 600)
    panel.widget.show()
    config = LabConfig(leak=0.676959, leak_spread=spread, spectral_radius=0.8, steps=60)
    panel.frame(config)
    panel.show(Lab().compute(config, panel.measures))
    names = [name for name, _ in panel.key_values()]
    assert leak_label(0.676959, spread) in names
    assert not any("0.676959" in name for name in names)
    assert "a = 0.68" in caption(config, None)
    assert any(name.startswith("a = 0.68") for name in names)
