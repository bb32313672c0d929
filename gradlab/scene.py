"""Scene: a scripted lecture demo, written as a timeline of edits to a LabConfig.

A scene file subclasses ``Scene`` and writes ``construct`` with four kinds of step::

    class Sweep(Scene):
        config = LabConfig(spectral_radius=0.8)
        def construct(self):
            self.caption("Below radius 1 the gradient vanishes")
            self.wait(2)
            self.animate(duration=3, spectral_radius=1.2)   # numeric fields only
            self.set(activation="linear")                   # instant change

``Scene.timeline()`` records the steps (validating every config on the way) and
``Scene.frames(fps)`` turns them into one Frame per video frame. Both are pure functions
of the class: no clock, no Qt, no unseeded randomness, so a scene gives the same frames
on every run. Errors in a scene file surface as ``SceneError("file.py:LINE: message")``,
a scene that calls sys.exit() included.

A scene file is a Python program: ``load_scene`` runs it with the rights of the user who
runs gradlab, like a build tool runs its build file. Load only scenes you trust.

Frame timing: a timed step (wait, animate) of d seconds (at most MAX_STEP_SECONDS; a
scene lasts at most MAX_SCENE_SECONDS) gets round(d * fps) frames (at least one); frame k
of an n-frame animation shows progress (k + 1) / n, so the last frame of an animation
holds the end value exactly. Instant steps (caption, set) apply to the
next frame; instant steps after the last timed step add one final frame.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import inspect
import math
import os
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import RANGES, LabConfig
from .export import MAX_FPS, MAX_SIDE
from .layouts import get_layout

EASES = ("smooth", "linear")
MAX_STEP_SECONDS = 3600.0  # one wait or animate: an hour
MAX_SCENE_SECONDS = 4 * 3600.0  # a whole scene: longer than any lecture
# LabConfig fields that animate() may interpolate (ints are rounded to the nearest integer)
# (the same int/float rule LabConfig uses: a range with integer bounds is an integer field)
_NUMERIC = {name: "int" if isinstance(lo, int) and isinstance(hi, int) else "float"
            for name, (lo, hi) in RANGES.items()}


class SceneError(Exception):
    """A broken scene. The message reads ``path:line: what went wrong``."""


@dataclass(frozen=True)
class Step:
    """One recorded call in construct(). ``kind`` is caption | wait | animate | set.

    before/after: the config when the step starts and ends; duration in seconds (0 for
    instant steps); caption: the caption in force after the step; line: where the scene
    file called it.
    """

    kind: str
    before: LabConfig
    after: LabConfig
    caption: str
    duration: float = 0.0
    ease: str = "linear"
    fields: tuple[str, ...] = ()
    line: int = 0

    @property
    def timed(self) -> bool:
        return self.duration > 0


@dataclass(frozen=True)
class Frame:
    """What one video frame shows: the config to draw, the caption, its index and time (s).

    step: index into the timeline of the step this frame belongs to.
    """

    config: LabConfig
    caption: str
    index: int
    time: float
    step: int = 0


@dataclass(frozen=True)
class Timeline:
    """The recorded steps of a scene, immutable. Iterates like a tuple of Step."""

    start: LabConfig
    steps: tuple[Step, ...]

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    @property
    def duration(self) -> float:
        """Total length in seconds (sum of the timed steps)."""
        return float(sum(s.duration for s in self.steps))

    def frame_count(self, fps: int) -> int:
        """How many frames frames(fps) yields (counted from the step lengths, not one by one)."""
        _check_fps(fps)
        timed = sum(_frames_for(s.duration, fps) for s in self.steps if s.timed)
        # instant steps after the last timed step (or no timed step at all) add one frame
        return timed + (0 if self.steps and self.steps[-1].timed else 1)

    def frames(self, fps: int) -> Iterator[Frame]:
        """One Frame per video frame at ``fps``; see the module docstring for the timing."""
        for index, (step_i, progress) in enumerate(_schedule(self, fps)):
            step = self.steps[step_i] if self.steps else None
            if step is None:
                config, caption = self.start, ""
            elif progress is None:
                config, caption = step.after, step.caption
            else:
                config, caption = _interpolate(step, progress), step.caption
            yield Frame(config=config, caption=caption, index=index, time=index / fps, step=step_i)


def _frames_for(duration: float, fps: int) -> int:
    return max(1, math.floor(duration * fps + 0.5))


def _check_fps(fps, name: str = "fps") -> int:
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
        raise ValueError(f"{name}={fps!r} must be an integer in [1, {MAX_FPS}]")
    return fps


def _schedule(timeline: Timeline, fps: int) -> Iterator[tuple[int, float | None]]:
    """(step index, animation progress or None) for every frame."""
    _check_fps(fps)
    pending = False  # an instant step not yet shown on any frame
    for i, step in enumerate(timeline.steps):
        if not step.timed:
            pending = True
            continue
        pending = False
        n = _frames_for(step.duration, fps)
        for k in range(n):
            yield i, ((k + 1) / n if step.kind == "animate" else None)
    if pending or not any(s.timed for s in timeline.steps):
        yield max(len(timeline.steps) - 1, 0), None


def ease_value(ease: str, t: float) -> float:
    """Map progress t in [0, 1] to [0, 1]: linear, or smooth (smoothstep 3t^2 - 2t^3)."""
    if ease == "linear":
        return t
    return t * t * (3.0 - 2.0 * t)


def _interpolate(step: Step, progress: float) -> LabConfig:
    e = ease_value(step.ease, progress)
    changes = {}
    for name in step.fields:
        a, b = getattr(step.before, name), getattr(step.after, name)
        v = (1.0 - e) * a + e * b  # exact at e = 0 and e = 1
        changes[name] = math.floor(v + 0.5) if _NUMERIC[name] == "int" else v
    return step.before.replace(**changes)


class Scene:
    """Base class of lecture scenes. Subclasses set ``config`` and write ``construct``.

    Class attributes: config (the LabConfig at t = 0), layout (the lab's topic, a name
    from gradlab.layouts), seed (if not None, replaces
    config.seed; also seeds ``self.rng`` for scenes that want random choices), fps, size
    (width, height) of rendered video.
    """

    config: LabConfig = LabConfig()
    layout: str = "vanishing"
    seed: int | None = None
    fps: int = 30
    size: tuple[int, int] = (1280, 720)

    def __init__(self):
        cls = type(self)
        start = cls.config
        if not isinstance(start, LabConfig):
            raise ValueError(f"config must be a LabConfig, not {type(start).__name__}")
        get_layout(cls.layout)  # ValueError naming the layouts
        _check_fps(cls.fps, f"{cls.__name__}.fps")
        _check_size(cls.size, f"{cls.__name__}.size")
        if self.seed is not None:
            start = start.replace(seed=self.seed)
        self._start = start
        self._current = start
        self._caption = ""
        self._steps: list[Step] = []
        self._duration = 0.0  # seconds so far
        self._file = _scene_files(type(self))[1]
        self.rng = np.random.default_rng(self.seed if self.seed is not None else start.seed)

    # -- the steps a scene calls in construct() ------------------------------------------

    def construct(self) -> None:
        """Override: call caption / wait / animate / set."""

    def caption(self, text: str) -> None:
        """Show ``text`` (one line) from now on; an empty string clears it."""
        if not isinstance(text, str):
            raise ValueError(f"caption must be a string, not {type(text).__name__}")
        self._caption = text
        self._record("caption", self._current)

    def wait(self, seconds: float) -> None:
        """Hold the current picture for ``seconds``."""
        seconds = _positive("seconds", seconds)
        self._record("wait", self._current, duration=seconds)

    def animate(self, duration: float = 1.0, ease: str = "smooth", **fields) -> None:
        """Move numeric LabConfig fields to new values over ``duration`` seconds."""
        duration = _positive("duration", duration)
        if ease not in EASES:
            raise ValueError(f"ease={ease!r} is not allowed; choose one of {list(EASES)}")
        if not fields:
            raise ValueError("animate() needs at least one field, e.g. spectral_radius=1.2")
        for name in fields:
            if name in _NUMERIC:
                continue
            if any(f.name == name for f in dataclasses.fields(LabConfig)):
                raise ValueError(f"{name} is not numeric and cannot be animated; "
                                 f"use set({name}=...)")
            raise ValueError(f"unknown LabConfig field(s): {[name]}")
        after = self._current.replace(**fields)
        self._record("animate", after, duration=duration, ease=ease, fields=tuple(fields))

    def set(self, **fields) -> None:
        """Change LabConfig fields at once."""
        self._record("set", self._current.replace(**fields), fields=tuple(fields))

    # -- running a scene -------------------------------------------------------------------

    @classmethod
    def timeline(cls) -> Timeline:
        """Run construct() and return its steps. Raises SceneError naming file and line."""
        try:
            scene = cls()
            scene.construct()
        except SceneError:
            raise
        except (Exception, SystemExit) as e:  # a broken scene: say where, in its own file
            raise SceneError(_describe(e, *_scene_files(cls), fallback=_class_line(cls))) from e
        return Timeline(start=scene._start, steps=tuple(scene._steps))

    @classmethod
    def frames(cls, fps: int | None = None) -> Iterator[Frame]:
        """Every frame of the scene at ``fps`` (default: the scene's fps)."""
        return cls.timeline().frames(cls.fps if fps is None else fps)

    # -- internals --------------------------------------------------------------------------

    def _record(self, kind, after, *, duration=0.0, ease="linear", fields=()):
        if self._duration + duration > MAX_SCENE_SECONDS:
            raise ValueError(f"the scene would last {self._duration + duration:g} s; "
                             f"a scene lasts at most {MAX_SCENE_SECONDS:g} s")
        self._duration += duration
        self._steps.append(Step(kind=kind, before=self._current, after=after,
                                caption=self._caption, duration=duration, ease=ease,
                                fields=fields, line=_caller_line(self._file)))
        self._current = after


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a positive number of seconds")
    if value > MAX_STEP_SECONDS:
        raise ValueError(f"{name}={value!r} is too long: a step lasts at most "
                         f"{MAX_STEP_SECONDS:g} s")
    return float(value)


def _check_size(size, name: str) -> None:
    try:
        w, h = size
        ok = all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE
                 for v in (w, h))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name}={size!r} must be (width, height), each an integer in "
                         f"[1, {MAX_SIDE}]")


def _scene_files(cls) -> tuple[str, str | None]:
    """(the scene's file as the user named it, its real path) for error messages.

    load_scene keeps the path it was given; otherwise the file that defines construct().
    """
    module = sys.modules.get(cls.__module__)
    real = getattr(module, "__file__", None)
    shown = getattr(module, "__scene_path__", None)
    if shown:
        return shown, real
    if cls.construct is not Scene.construct:
        real = cls.construct.__code__.co_filename
    if not real:
        return "<scene>", None
    try:
        return os.path.relpath(real), real
    except ValueError:  # another drive on Windows
        return real, real


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _caller_line(real: str | None) -> int:
    """The line in the scene's file that called a step method (0 if not found)."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if real and _same_file(frame.f_code.co_filename, real):
                return frame.f_lineno
            frame = frame.f_back
        return 0
    finally:
        del frame


def _class_line(cls) -> int | None:
    """The line of ``class ...:`` in the scene file, for errors in its class attributes."""
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None


def _describe(e: BaseException, shown: str, real: str | None,
              fallback: int | None = None) -> str:
    """'path:line: message', the line taken from the deepest traceback frame in the file
    (``fallback`` if no frame is in the file)."""
    if isinstance(e, SyntaxError) and e.filename and real and _same_file(e.filename, real):
        return f"{shown}:{e.lineno}: SyntaxError: {e.msg}"
    line = None
    for fs in traceback.extract_tb(e.__traceback__):
        if real and _same_file(fs.filename, real):
            line = fs.lineno
    if line is None:
        line = fallback
    if isinstance(e, SyntaxError) and e.filename:  # a syntax error in a module it imports
        return f"{shown}:{line}: SyntaxError in {e.filename}:{e.lineno}: {e.msg}"
    if isinstance(e, SystemExit):
        return (f"{shown}:{line if line is not None else '?'}: the scene called "
                f"sys.exit({e.code!r}); a scene must not exit")
    message = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
    return f"{shown}:{line if line is not None else '?'}: {message}"


def load_scene(path: str | os.PathLike, name: str | None = None) -> type[Scene]:
    """Import a scene file by path and return its Scene subclass (``name`` picks one).

    The scene's construct() is run once here, so a broken scene fails now, with a
    SceneError whose message names the file and line.
    """
    shown = os.fspath(path)
    real = Path(shown)
    if not real.is_file():
        raise SceneError(f"{shown}: no such scene file")
    digest = hashlib.sha1(str(real.resolve()).encode()).hexdigest()[:10]
    module_name = f"gradlab_scene_{real.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, real)
    if spec is None or spec.loader is None:
        raise SceneError(f"{shown}: cannot be imported as Python (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    module.__scene_path__ = shown
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        sys.modules.pop(module_name, None)
        raise SceneError(_describe(e, shown, str(real))) from e
    found = {k: v for k, v in vars(module).items()
             if inspect.isclass(v) and issubclass(v, Scene) and v is not Scene
             and v.__module__ == module_name}
    if not found:
        raise SceneError(f"{shown}: defines no Scene subclass")
    if name is None:
        if len(found) > 1:
            raise SceneError(f"{shown}: defines several scenes, name one of: {', '.join(found)}")
        (cls,) = found.values()
    elif name in found:
        cls = found[name]
    else:
        raise SceneError(f"{shown}: no scene named {name!r}; it defines: {', '.join(found)}")
    cls.timeline()  # fail now, with file and line, rather than in the middle of a render
    return cls


__all__ = ["EASES", "MAX_SCENE_SECONDS", "MAX_STEP_SECONDS", "Frame", "Scene", "SceneError",
           "Step", "Timeline", "ease_value", "load_scene"]
