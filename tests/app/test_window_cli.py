"""`gradlab lab --layout NAME` opens a layout with its starting config; plain `gradlab` opens
the first layout from the default config."""

import sys
import types

import gradlab
from gradlab import cli
from gradlab.cli import main
from gradlab.config import LabConfig
from gradlab.layouts import LAYOUTS


def fake_app(monkeypatch):
    calls = []
    fake = types.ModuleType("gradlab.app")
    fake.run = lambda config, theme, **kw: calls.append((config, theme, kw)) or 0
    monkeypatch.setitem(sys.modules, "gradlab.app", fake)
    monkeypatch.setattr(gradlab, "app", fake, raising=False)
    monkeypatch.setattr(cli, "has_display", lambda: True)
    return calls


def test_layout_opens_with_its_config(monkeypatch):
    calls = fake_app(monkeypatch)
    for name, layout in LAYOUTS.items():
        assert main(["lab", "--layout", name]) == 0
        config, theme, kw = calls[-1]
        assert kw == {"layout": name} and theme == "dark"
        assert config == LabConfig(**layout.config)
    assert main(["lab", "--layout", "spectra", "--rho", "1.2"]) == 0
    config, _, _ = calls[-1]
    assert config.spectral_radius == 1.2 and config == LabConfig(**LAYOUTS["spectra"].config,
                                                                 spectral_radius=1.2)


def test_plain_gradlab_opens_the_default(monkeypatch):
    calls = fake_app(monkeypatch)
    assert main([]) == 0
    assert calls[-1] == (None, "dark", {})


def test_an_unknown_layout_is_a_one_line_error(monkeypatch, capsys):
    fake_app(monkeypatch)
    assert main(["lab", "--layout", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gradlab: error:") and "nope" in err and "vanishing" in err


def test_the_window_opens_the_layout(qtbot):
    from gradlab.app.window import LabWindow
    from tests.app.stand_ins import STAND_INS

    w = LabWindow(LabConfig(cell="lstm"), synchronous=True, layout="gates", panels=STAND_INS)
    qtbot.addWidget(w)
    assert w.layout == "gates" and [p.name for p in w.panels] == list(LAYOUTS["gates"].panels)


def test_lab_opens_a_saved_experiment(monkeypatch, tmp_path, capsys):
    from gradlab.experiment import Experiment, save_experiment

    calls = fake_app(monkeypatch)
    path = tmp_path / "demo.toml"
    config = LabConfig(cell="gru", gate_bias=2.0, spectral_radius=1.1)
    save_experiment(path, Experiment(config=config, layout="gates"))
    assert main(["lab", str(path)]) == 0
    assert calls[-1] == (config, "dark", {"layout": "gates"})
    assert main(["lab", str(path), "--layout", "cells", "--rho", "0.9"]) == 0
    assert calls[-1] == (config.replace(spectral_radius=0.9), "dark", {"layout": "cells"})
    path.write_text("[config]\nsteps = -1\n")
    assert main(["lab", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and "steps" in err
