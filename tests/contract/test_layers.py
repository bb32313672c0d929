"""Imports around the cell registry point down only (issue 8, item 1).

trace (Trace, Grads) <- cells (kernels, trace) <- params (cells) <- ops, init, spectra.
No module imports upward, not even inside a function (which hid params -> cells and
cells -> ops before the registry).
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "gradlab"
UPPER = {"params", "ops", "init", "spectra", "lab", "config", "app", "cli", "scene", "export"}


def gradlab_imports(path: pathlib.Path):
    """(module under gradlab, line, inside a function) for each import of a gradlab module."""
    pkg = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]  # ('gradlab', 'cells')
    tree = ast.parse(path.read_text(), filename=str(path))
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(s) for f in funcs for s in ast.walk(f) if s is not f}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                mods = [".".join(base + ([node.module] if node.module else []))]
                if not node.module:
                    mods = [".".join(base + [a.name]) for a in node.names]
            else:
                mods = [node.module or ""]
        elif isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        else:
            continue
        for mod in mods:
            if mod.startswith("gradlab."):
                yield mod.split(".")[1], node.lineno, id(node) in nested


@pytest.mark.parametrize("path", sorted((ROOT / "cells").glob("*.py")) + [ROOT / "trace.py"],
                         ids=lambda p: p.name)
def test_cells_and_trace_import_nothing_above_them(path):
    for top, line, _ in gradlab_imports(path):
        assert top not in UPPER, f"{path.name}:{line} imports gradlab.{top}"


def test_trace_imports_no_other_gradlab_module():
    assert not list(gradlab_imports(ROOT / "trace.py"))


@pytest.mark.parametrize("name", ["params.py", "ops.py", "init.py", "spectra.py"])
def test_core_modules_import_at_the_top_and_downwards(name):
    below = {"params.py": {"cells", "trace"},
             "ops.py": {"blas", "cells", "engine", "params", "trace"},
             "init.py": {"cells", "params"},
             "spectra.py": {"blas", "cells", "engine", "ops", "params", "trace"}}[name]
    for top, line, in_function in gradlab_imports(ROOT / name):
        assert not in_function, f"{name}:{line} imports gradlab.{top} inside a function"
        assert top in below, f"{name}:{line} imports gradlab.{top}"
