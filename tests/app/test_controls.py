"""Controls built from gradlab.config.FIELDS: one control per field of the right kind, edits
become configs, greyed out when a field does not apply, presets and cleared eigenvalues."""

import pytest
from PySide6.QtWidgets import QComboBox, QSlider, QSpinBox

from gradlab.app.controls import NOT_CONTROLS, Controls, FloatSlider
from gradlab.config import FIELDS, PRESETS, LabConfig

EIGS = tuple((0.5, 0.0) for _ in range(32))


@pytest.fixture
def controls(qtbot):
    c = Controls(LabConfig())
    qtbot.addWidget(c)
    edits = []
    c.config_edited.connect(edits.append)
    c.edits = edits
    return c


def test_every_field_but_eigs_and_cursor_has_a_control_of_its_kind(controls):
    assert set(controls.editors) == set(FIELDS) - set(NOT_CONTROLS)
    assert isinstance(controls.editors["spectral_radius"], QSlider)
    for name, info in FIELDS.items():
        if name in NOT_CONTROLS or name == "spectral_radius":
            continue
        expected = {"choice": QComboBox, "int": QSpinBox, "float": FloatSlider}[info.kind]
        assert isinstance(controls.editors[name], expected), name
        assert controls.labels[name].text().startswith(info.label)
        if info.kind == "choice":
            combo = controls.editors[name]
            assert [combo.itemText(i) for i in range(combo.count())] == list(info.choices)


def test_each_kind_of_control_edits_its_field(controls):
    controls.rho_slider.setValue(107)
    assert controls.edits[-1].spectral_radius == 1.07
    assert controls.rho_value.text() == "ρ = 1.07"
    controls.editors["hidden"].setValue(48)
    assert controls.edits[-1].hidden == 48 and controls.edits[-1].spectral_radius == 1.07
    controls.editors["loss"].textActivated.emit("every")
    assert controls.edits[-1].loss == "every"
    leak = controls.editors["leak"]
    leak.slider.setValue(leak.to_tick(0.3))
    assert controls.edits[-1].leak == pytest.approx(0.3)
    assert leak.value_label.text() == "0.30"
    bias = controls.editors["gate_bias"]
    bias.slider.setValue(bias.to_tick(2.5))
    assert controls.edits[-1].gate_bias == pytest.approx(2.5)


def test_set_config_shows_without_echo(controls):
    config = LabConfig(cell="gru", hidden=16, spectral_radius=3.2, gate_bias=-1.5, loss="every")
    controls.set_config(config)
    assert controls.edits == []
    assert controls.config == config
    assert controls.rho_slider.value() == 320  # the span widened to reach a scene's radius
    assert controls.editors["cell"].currentText() == "gru"
    assert controls.editors["hidden"].value() == 16
    assert controls.editors["gate_bias"].value() == -1.5


def test_controls_grey_out_where_a_field_does_not_apply(controls):
    assert controls.editors["leak"].isEnabled() and not controls.editors["gate_bias"].isEnabled()
    controls.editors["cell"].textActivated.emit("lstm")
    assert controls.edits[-1].cell == "lstm"
    for name, info in FIELDS.items():
        if name in controls.editors and name != "spectral_radius":
            assert controls.editors[name].isEnabled() == info.applies(controls.config), name
            assert controls.labels[name].isEnabled() == info.applies(controls.config), name
    assert not controls.editors["leak"].isEnabled() and controls.editors["gate_bias"].isEnabled()


@pytest.mark.parametrize("field, value", [("cell", "gru"), ("hidden", 8), ("init", "gaussian"),
                                          ("seed", 3), ("inputs", 2)])
def test_a_new_matrix_clears_hand_set_eigenvalues(controls, field, value):
    controls.set_config(LabConfig(eigs=EIGS))
    editor = controls.editors[field]
    if isinstance(editor, QComboBox):
        editor.textActivated.emit(value)
    else:
        editor.setValue(value)
    assert getattr(controls.edits[-1], field) == value
    assert controls.edits[-1].eigs == ()


def test_other_edits_keep_hand_set_eigenvalues(controls):
    controls.set_config(LabConfig(eigs=EIGS))
    assert "32 eigenvalues set by hand" == controls.eigs_note.text()
    controls.rho_slider.setValue(90)
    assert controls.edits[-1].eigs == EIGS


def test_presets_are_offered_and_none_clears(controls):
    chosen = []
    controls.preset_chosen.connect(chosen.append)
    assert [controls.preset.itemText(i) for i in range(controls.preset.count())] == list(PRESETS)
    controls.preset.textActivated.emit("golden ratio")
    assert chosen == ["golden ratio"]
    controls.set_config(LabConfig(eigs=EIGS))
    controls.preset.textActivated.emit("none")
    assert controls.edits[-1].eigs == ()


def test_layout_combo_lists_the_layouts(controls):
    from gradlab.layouts import LAYOUTS

    got = []
    controls.layout_chosen.connect(got.append)
    assert controls.layout_combo.count() == len(LAYOUTS)
    controls.layout_combo.activated.emit(2)
    assert got == [list(LAYOUTS)[2]]
    controls.set_layout("leaky")
    assert controls.layout_combo.currentData() == "leaky"


def test_each_topic_offers_its_own_controls(qtbot):
    from gradlab.app.window import LabWindow

    w = LabWindow(LabConfig(), synchronous=True)
    qtbot.addWidget(w)
    w.show()
    c = w.controls
    assert c.editors["leak"].isVisible() and not c.editors["task"].isVisible()
    assert c.rho_slider.isVisible()
    w.set_layout("attention")
    assert c.editors["task"].isVisible() and c.editors["score"].isVisible()
    assert not c.editors["leak"].isVisible() and not c.rho_slider.isVisible()
    assert not c.preset.isVisible()
    w.set_layout("leaky")
    assert c.editors["leak"].isVisible() and not c.editors["task"].isVisible()
