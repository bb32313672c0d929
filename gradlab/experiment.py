"""Experiments kept and shared: a LabConfig and a layout as a .toml file, or as a Scene snippet.

No Qt here: the app's Save/Open/Copy commands call these functions, and so can scripts.

A saved experiment reads::

    # gradlab experiment
    format = 1
    layout = "vanishing"

    [config]
    cell = "rnn"
    spectral_radius = 1.05
    eigs = [[0.5, 0.0], [1.5, 0.0]]   # eigenvalues of W at radius 1 (empty: as drawn)

``load_experiment`` reads it with tomllib and checks every field against the same rules as
LabConfig (``gradlab.config.FIELDS``); a bad file raises ExperimentError whose message starts
``file:line:`` and names the field. Fields left out take LabConfig's defaults.
``scene_snippet`` writes Python source of a ``gradlab.scene.Scene`` subclass that starts from
the same config, ready to paste into a scene file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass

try:  # Python 3.11+; on 3.10 the same parser is the tiny pure-Python package tomli
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

from .config import FIELDS, LabConfig, check_eigs
from .layouts import LAYOUTS

FORMAT = 1
DEFAULT_LAYOUT = next(iter(LAYOUTS))


class ExperimentError(ValueError):
    """A bad experiment file; the message reads ``file:line: what is wrong``."""


@dataclass(frozen=True)
class Experiment:
    """What a file keeps: the config (edited eigenvalues included) and the layout's name."""

    config: LabConfig = dataclasses.field(default_factory=LabConfig)
    layout: str = DEFAULT_LAYOUT

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout={self.layout!r} is not one of {list(LAYOUTS)}")


# -- writing -----------------------------------------------------------------------------------

def _toml_value(value) -> str:
    """One TOML value: str, bool, int, finite float, or (nested) lists of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written (finite numbers only)")
        text = repr(value)
        return text if any(ch in text for ch in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are TOML's
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ValueError(f"{type(value).__name__} {value!r} cannot be written to TOML")


def to_toml(experiment: Experiment) -> str:
    """The text of a .toml file for ``experiment`` (every config field, in FIELDS order)."""
    values = experiment.config.to_dict()
    lines = ["# gradlab experiment: open it in the lab (Ctrl+O) or with load_experiment()",
             f"format = {FORMAT}",
             f"layout = {_toml_value(experiment.layout)}",
             "",
             "[config]"]
    for name, info in FIELDS.items():
        note = f"  # {info.help}" if info.help and name == "eigs" else ""
        lines.append(f"{name} = {_toml_value(values[name])}{note}")
    return "\n".join(lines) + "\n"


def save_experiment(path: str | os.PathLike, experiment: Experiment) -> None:
    """Write ``experiment`` to ``path`` (.toml), atomically (a temporary file renamed)."""
    path = os.fspath(path)
    text = to_toml(experiment)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# -- reading -----------------------------------------------------------------------------------

def _line_of(text: str, key: str, table: str | None) -> int | None:
    """The line (1-based) where ``key = ...`` is set, inside ``[table]`` if given."""
    current = None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
            continue
        if current == table and pattern.match(line):
            return number
    return None


def from_toml(text: str, source: str = "<experiment>") -> Experiment:
    """Parse the text of an experiment file; ExperimentError (``source:line: ...``) if bad."""
    def fail(message: str, key: str | None = None, table: str | None = None, line=None):
        if line is None and key is not None:
            line = _line_of(text, key, table)
        where = f"{source}:{line}" if line else source
        raise ExperimentError(f"{where}: {message}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in str(e):
            line = max(1, len(text.splitlines()))
        fail(f"not valid TOML: {e}", line=line)
    unknown = sorted(set(data) - {"format", "layout", "config"})
    if unknown:
        fail(f"unknown key {unknown[0]!r}; an experiment has format, layout and [config]",
             key=unknown[0])
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        fail(f"format = {fmt!r} is not supported (this gradlab reads format {FORMAT})",
             key="format")
    layout = data.get("layout", DEFAULT_LAYOUT)
    if not isinstance(layout, str) or layout not in LAYOUTS:
        fail(f"layout = {layout!r} is not one of {list(LAYOUTS)}", key="layout")
    fields = data.get("config", {})
    if not isinstance(fields, dict):
        fail("config must be a table: [config]", key="config")
    changes = {}
    for name, value in fields.items():
        if name not in FIELDS:
            fail(f"config field {name!r} is unknown; known fields: {list(FIELDS)}",
                 key=name, table="config")
        if FIELDS[name].kind == "eigs":
            value = tuple(tuple(p) if isinstance(p, list) else p for p in value) \
                if isinstance(value, list) else value
        try:
            if FIELDS[name].kind == "eigs":  # alone: the count is checked against hidden below
                check_eigs(value)
            else:
                LabConfig().replace(**{name: value})  # the field's own check, alone
        except ValueError as e:
            fail(f"config field {name!r}: {e}", key=name, table="config")
        changes[name] = value
    eigs = changes.get("eigs", ())
    hidden = changes.get("hidden", LabConfig().hidden)
    if eigs and len(eigs) != hidden:
        fail(f"config field 'eigs': {len(eigs)} eigenvalues given, but hidden = "
             f"{hidden} needs exactly {hidden} (or none)", key="eigs", table="config")
    try:
        config = LabConfig().replace(**changes)
    except ValueError as e:  # pragma: no cover - every field was checked above
        fail(str(e))
    return Experiment(config=config, layout=layout)


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read an experiment file; ExperimentError naming ``path:line`` and the bad field."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ExperimentError(f"{path}: cannot read it: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ExperimentError(f"{path}: not a text (UTF-8) file") from None
    return from_toml(text, source=path)


# -- sharing as a scene ------------------------------------------------------------------------

def _class_name(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    out = "".join(w[:1].upper() + w[1:] for w in words) or "Experiment"
    return out if out[0].isalpha() else "Scene" + out


def scene_snippet(experiment: Experiment | LabConfig, name: str = "Experiment") -> str:
    """Python source of a Scene subclass that starts from ``experiment``'s config (only the
    fields that differ from LabConfig's defaults are written) and holds it for 3 seconds."""
    if isinstance(experiment, LabConfig):
        experiment = Experiment(config=experiment)
    config = experiment.config
    default = LabConfig()
    args = []
    for f in FIELDS:
        value = getattr(config, f)
        if value == getattr(default, f):
            continue
        if f == "eigs":
            inner = ", ".join(f"({re!r}, {im!r})" for re, im in value)
            args.append(f"eigs=({inner},)")
        else:
            args.append(f"{f}={value!r}")
    body = ",\n        ".join(args)
    call = f"LabConfig(\n        {body},\n    )" if args else "LabConfig()"
    cls = _class_name(name)
    return (
        '"""A gradlab scene (copied from the lab). Play it with\n'
        f"``gradlab play this_file.py {cls}``; layout in the lab: {experiment.layout!r}.\"\"\"\n"
        "\n"
        "from gradlab.config import LabConfig\n"
        "from gradlab.scene import Scene\n"
        "\n"
        "\n"
        f"class {cls}(Scene):\n"
        f"    config = {call}\n"
        "\n"
        "    def construct(self):\n"
        "        self.wait(3)\n"
    )


__all__ = ["Experiment", "ExperimentError", "from_toml", "load_experiment", "save_experiment",
           "scene_snippet", "to_toml"]
