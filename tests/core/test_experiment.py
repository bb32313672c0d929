"""Experiments as .toml files and Scene snippets: round trips, and errors naming file:line."""

import pytest
import tomllib

from gradlab.config import FIELDS, LabConfig
from gradlab.experiment import (
    Experiment,
    ExperimentError,
    from_toml,
    load_experiment,
    save_experiment,
    scene_snippet,
    to_toml,
)
from gradlab.scene import Scene

EDITED = LabConfig(cell="lstm", hidden=4, steps=120, spectral_radius=1.05, gate_bias=2.5,
                   input_scale=1e-5, seed=7, clip=0.5, cursor=40,
                   eigs=((0.5, 0.0), (1.5, 0.0), (0.25, 0.75), (0.25, -0.75)))


def test_round_trip_keeps_every_field_and_the_layout(tmp_path):
    exp = Experiment(config=EDITED, layout="gates")
    path = tmp_path / "x.toml"
    save_experiment(path, exp)
    assert load_experiment(path) == exp
    data = tomllib.loads(path.read_text())  # the file is plain TOML
    assert data["layout"] == "gates" and set(data["config"]) == set(FIELDS)
    assert data["config"]["eigs"][2] == [0.25, 0.75]


def test_defaults_fill_fields_left_out():
    exp = from_toml('layout = "leaky"\n[config]\nleak = 0.2\n')
    assert exp == Experiment(config=LabConfig(leak=0.2), layout="leaky")
    assert from_toml("") == Experiment()


def test_to_toml_writes_strings_with_unicode_and_quotes():
    text = to_toml(Experiment())
    assert tomllib.loads(text)["config"]["cell"] == "rnn"


@pytest.mark.parametrize("text, line, words", [
    ('[config]\ncell = "rnn"\nspectral_radius = 9.0\n', 3, ["spectral_radius", "9.0"]),
    ('[config]\nhidden = "many"\n', 2, ["hidden", "many"]),
    ('[config]\nsteps = 10\ncolour = "red"\n', 3, ["colour", "unknown"]),
    ('layout = "nope"\n', 1, ["layout", "nope", "vanishing"]),
    ('[config]\nhidden = 3\neigs = [[0.5, 0.0]]\n', 3, ["eigs", "3"]),
    ('[config]\ncell = "transformer"\n', 2, ["cell", "transformer", "lstm"]),
    ('format = 2\n', 1, ["format"]),
    ('[config]\nhidden = 3\nhidden = 4\n', 3, ["TOML"]),
    ('[config\n', 1, ["TOML"]),
])
def test_bad_files_name_the_line_and_the_field(tmp_path, text, line, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}:"), msg
    for w in words:
        assert w in msg


def test_missing_and_binary_files_are_reported(tmp_path):
    with pytest.raises(ExperimentError, match="cannot read"):
        load_experiment(tmp_path / "none.toml")
    (tmp_path / "b.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ExperimentError, match="UTF-8"):
        load_experiment(tmp_path / "b.toml")


def test_save_is_atomic_and_leaves_no_temporary(tmp_path):
    save_experiment(tmp_path / "a.toml", Experiment())
    assert [p.name for p in tmp_path.iterdir()] == ["a.toml"]


def test_scene_snippet_reproduces_the_config():
    code = scene_snippet(Experiment(config=EDITED, layout="gates"), name="my lstm demo")
    space: dict = {}
    exec(compile(code, "<snippet>", "exec"), space)
    cls = space["MyLstmDemo"]
    assert issubclass(cls, Scene)
    timeline = cls.timeline()
    assert timeline.start == EDITED and timeline.duration == 3.0


def test_scene_snippet_of_the_defaults_is_minimal():
    code = scene_snippet(LabConfig())
    assert "config = LabConfig()" in code
    space: dict = {}
    exec(code, space)
    assert space["Experiment"].timeline().start == LabConfig()
