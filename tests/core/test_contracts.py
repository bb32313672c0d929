"""The import contracts in pyproject.toml hold (import-linter): a broken layer fails the suite."""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    pytest.importorskip("importlinter")  # in the test extra; `make test` runs it in any case
    exe = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-c",
                             "import sys; from importlinter.cli import lint_imports_command as c;"
                             " sys.exit(c())"]
    r = subprocess.run([*cmd, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout
