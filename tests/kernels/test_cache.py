"""No stale machine code: editing any file under kernels/ is seen on the next run.

numba's own cache checks only a kernel's own file, so a kernel calling into an edited file
(here ``rnn.phi`` calling ``activations.tanh_vec``) kept running the old code. The cache
stamp of ``kernels._flags`` covers every source under kernels/.
"""

import os
import pathlib
import shutil
import subprocess
import sys

from kernels._flags import SOURCES_STAMP, sources_stamp

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = "from kernels.rnn import phi; print(phi(0.5, 0), phi.stats.cache_hits.total())"


def _run(tree):
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("NUMBA_CACHE_DIR", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tree, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    value, hits = r.stdout.split()
    return float(value), int(hits)


def test_editing_a_called_file_recompiles_its_callers(tmp_path):
    shutil.copytree(ROOT / "kernels", tmp_path / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    first, hits = _run(tmp_path)
    assert abs(first - 0.46211715726000974) < 1e-15 and hits == 0  # compiled
    assert _run(tmp_path) == (first, 1)  # unchanged sources: loaded from the cache
    activations = tmp_path / "kernels" / "activations.py"
    text = activations.read_text()
    assert "def tanh_vec(x):\n" in text
    activations.write_text(text.replace("def tanh_vec(x):\n", "def tanh_vec(x):\n    return 42.0\n"))
    assert _run(tmp_path) == (42.0, 0)  # rnn.py is unchanged, yet phi is compiled afresh
    assert _run(tmp_path) == (42.0, 1)


def test_the_stamp_covers_every_source_file(tmp_path):
    assert SOURCES_STAMP == sources_stamp()
    (tmp_path / "fast").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "fast" / "b.py").write_text("y = 1\n")
    before = sources_stamp(tmp_path)
    (tmp_path / "fast" / "b.py").write_text("y = 2\n")
    assert sources_stamp(tmp_path) != before
