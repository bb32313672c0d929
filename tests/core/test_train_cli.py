"""``gradlab train`` in a subprocess: progress on stderr, the saved run, --json metrics,
and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _train(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gradlab.cli", "train", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_train_saves_the_run_and_prints_json(tmp_path):
    out = tmp_path / "run.npz"
    p = _train("reverse", "--cell", "gru", "--score", "scaled_dot", "--clip", "1.0",
               "--updates", "12", "--every", "5", "--seed", "3", "--hidden", "8",
               "--length", "5", "--vocab", "6", "--eval-size", "20", "--save", str(out),
               "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    metrics = json.loads(p.stdout)
    assert metrics["updates"] == 12 and metrics["task"] == "reverse"
    assert 0.0 <= metrics["exact_match"] <= 1.0 and 0.0 <= metrics["alignment_share"] <= 1.0
    assert "12/12" in p.stderr and "[" in p.stderr  # the progress bar
    with np.load(out) as run:
        assert run["loss"].shape == run["grad_norm"].shape == run["clipped"].shape == (12,)
        assert run["alignment"].shape == (5, 5)
        np.testing.assert_allclose(run["alignment"].sum(axis=1), 1.0)
        np.testing.assert_array_equal(run["snapshot_update"], [0, 5, 10, 12])
        assert run["param/enc.W"].shape == (24, 8) and run["param/out.V"].shape == (6, 16)
        np.testing.assert_array_equal(run["example_tgt"], run["example_src"][::-1])
        assert json.loads(str(run["config"]))["score"] == "scaled_dot"
        assert json.loads(str(run["metrics"])) == metrics


def test_train_without_attention_has_no_alignment(tmp_path):
    out = tmp_path / "plain.npz"
    p = _train("sort", "--score", "none", "--cell", "rnn", "--updates", "3", "--hidden", "6",
               "--length", "4", "--vocab", "5", "--eval-size", "10", "--no-progress",
               "--save", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and "exact match" in p.stderr
    with np.load(out) as run:
        assert "alignment" not in run.files and run["loss"].shape == (3,)


@pytest.mark.parametrize("args, message", [
    (("reverse", "--score", "luong", "--save", "r.npz"), "invalid choice: 'luong'"),
    (("reverse", "--clip", "-1", "--save", "r.npz"), "must be positive"),
    (("reverse", "--updates", "x", "--save", "r.npz"), "non-negative integer"),
    (("reverse",), "--save"),
])
def test_bad_arguments_fail_with_one_line(tmp_path, capsys, args, message):
    from gradlab.cli import main

    assert main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (("reverse", "--save", "run.txt"), "must name an .npz file"),
    (("reverse", "--save", "nowhere/run.npz"), "does not exist"),
    (("sort", "--vocab", "4", "--length", "8", "--save", "r.npz"), "vocab=4"),
])
def test_bad_settings_raise_value_error_before_training(tmp_path, monkeypatch, args, message):
    from gradlab.cli import build_parser
    from gradlab.train import cli

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        cli.run(build_parser().parse_args(["train", *args]))
    assert not list(tmp_path.iterdir())
