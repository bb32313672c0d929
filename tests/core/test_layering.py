"""The layer rules of DESIGN.md: kernels never import gradlab or Qt; the core runs without Qt."""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_kernels_import_only_numeric_libraries():
    allowed = {"numpy", "numba", "llvmlite", "scipy", "math", "functools", "hashlib", "pathlib",
               "kernels", "__future__"}  # (hashlib, pathlib: the cache stamp in _flags)
    for path in (ROOT / "kernels").rglob("*.py"):
        for mod in imported_modules(path):
            assert mod.split(".")[0] in allowed, f"{path.name} imports {mod}"


def test_scenes_use_the_scene_api_only():
    for path in (ROOT / "scenes").rglob("*.py"):
        for mod in imported_modules(path):
            top = mod.split(".")[0]
            assert top not in QT and top != "kernels", f"{path.name} imports {mod}"
            assert not mod.startswith("gradlab.app"), f"{path.name} imports {mod}"


def test_nothing_outside_app_imports_qt():
    for path in list((ROOT / "gradlab").rglob("*.py")) + list((ROOT / "kernels").rglob("*.py")):
        if "app" in path.relative_to(ROOT / "gradlab" if "gradlab" in path.parts else ROOT).parts:
            continue
        for mod in imported_modules(path):
            assert mod.split(".")[0] not in QT, f"{path} imports {mod}"


BLOCK_QT = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {QT!r}:
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_core_imports_and_runs_with_qt_unavailable():
    code = BLOCK_QT + """
import numpy as np
import gradlab
from gradlab import Lab, LabConfig
s = Lab().compute(LabConfig(steps=20, hidden=8))
assert s['gradient'].log10_norms.shape == (21,)
import importlib, pkgutil
for m in pkgutil.iter_modules(gradlab.__path__):
    if m.name != 'app':
        importlib.import_module('gradlab.' + m.name)
assert not any(k.split('.')[0] in {QT!r} for k in sys.modules), 'Qt got imported'
print('ok')
""".replace("{QT!r}", repr(QT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
