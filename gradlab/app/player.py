"""Scene player: a scene rendered offscreen to a file, or played live in the lab window.

``render(scene_cls, "out.mp4")`` builds a synchronous LabWindow offscreen (controls and
status bar hidden: a clean slide), then for every Frame of the scene sets the config (if it
changed) and the caption, grabs the window's pixels and hands them to the encoder. Same
scene, same frames, on every run. Ctrl-C, SIGTERM and SIGHUP only set a flag while it runs
(export.StopSignals); the flag is checked between frames, outside Qt's event dispatch, so
a signal always stops the render cleanly (Stopped is raised, the target is left as it was).

``ScenePlayer(window, scene_cls)`` plays a scene in a visible LabWindow at the scene's fps.
A QTimer picks the frame from the elapsed time (late ticks skip frames, they never pile up)
and only hands configs to the window; the window's worker computes off the GUI thread.
Keys: Space pause/resume, Right/PageDown next step, Left/PageUp previous step, Home
restart, Esc stop (controls come back and the lab is interactive again).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass
from itertools import islice

import numpy as np
from PySide6.QtCore import (
    QElapsedTimer,
    QObject,
    Qt,
    QTimer,
    QtMsgType,
    Signal,
    Slot,
    qInstallMessageHandler,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from gradlab.export import ProgressBar, StopSignals, check_fps, check_size, open_writer
from gradlab.scene import Scene, SceneError, load_scene

from .window import LabWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderStats:
    """What render() did: frames written, seconds taken, the video's fps and (w, h) size."""

    frames: int
    seconds: float
    fps: int
    size: tuple[int, int]

    @property
    def rate(self) -> float:
        """Rendered frames per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def application() -> QApplication:
    """The running QApplication, or a new one set up like ``gradlab.app.run`` sets it up."""
    app = QApplication.instance()
    if app is None:
        import pyqtgraph as pg

        app = QApplication(sys.argv[:1])
        app.setApplicationName("gradlab")
        pg.setConfigOptions(antialias=True)
    return app


# Qt chatter that says nothing about our frames (the offscreen platform cannot resize hints)
_QT_NOISE = ("does not support propagateSizeHints",)


def _qt_to_logging(mode, context, message) -> None:
    """Route Qt's own messages to logging instead of raw stderr lines."""
    if any(n in message for n in _QT_NOISE):
        log.debug("Qt: %s", message)
    elif mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
        log.error("Qt: %s", message)
    elif mode == QtMsgType.QtWarningMsg:
        log.warning("Qt: %s", message)
    else:
        log.debug("Qt: %s", message)


def fit_frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` as exactly (h, w, 3) for size (w, h): a window that could not shrink to
    ``size`` is scaled down to fit and centred on its own corner colour (no distortion)."""
    w, h = size
    if rgb.shape[:2] == (h, w):
        return rgb
    from PIL import Image

    src_h, src_w = rgb.shape[:2]
    scale = min(w / src_w, h / src_h)
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    scaled = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.Resampling.LANCZOS))
    out = np.empty((h, w, 3), np.uint8)
    out[...] = rgb[0, 0]
    y, x = (h - new_h) // 2, (w - new_w) // 2
    out[y:y + new_h, x:x + new_w] = scaled
    return out


MIN_LAYOUT_HEIGHT = 720  # smaller videos are laid out at this height and scaled down


def layout_size(size: tuple[int, int]) -> tuple[int, int]:
    """The window size a frame of ``size`` (w, h) is drawn at: the same shape, at least
    720 px high, so a 640x360 clip shows the 1280x720 picture scaled down instead of a
    crowded thumbnail (type and panels stop shrinking below 720 px)."""
    w, h = size
    k = max(1.0, MIN_LAYOUT_HEIGHT / h)
    return round(w * k), round(h * k)


def render(scene_cls: type[Scene], out_path, *, fps: int | None = None,
           size: tuple[int, int] | None = None, theme: str = "dark",
           frames_limit: int | None = None, progress: bool = True,
           stream=None, stop: StopSignals | None = None) -> RenderStats:
    """Render ``scene_cls`` headless to out_path (.mp4, .gif or a PNG directory).

    fps/size default to the scene's; frames_limit renders only the first N frames; the
    progress bar goes to ``stream`` (stderr). Raises ExportError for a bad target or fps
    before any frame is drawn, SceneError for a broken scene, export.Stopped (a
    KeyboardInterrupt) when SIGINT/SIGTERM/SIGHUP arrives before the file is complete.
    ``stop``: an active StopSignals of the caller's (by default render installs its own).
    """
    fps = check_fps(scene_cls.fps if fps is None else fps)
    size = check_size(scene_cls.size if size is None else size)
    timeline = scene_cls.timeline()
    total = timeline.frame_count(fps)
    if frames_limit is not None:
        total = min(total, max(int(frames_limit), 0))
    with StopSignals() if stop is None else contextlib.nullcontext(stop) as stop:
        app = application()
        timer = QElapsedTimer()
        timer.start()
        previous_handler = qInstallMessageHandler(_qt_to_logging)
        try:
            with open_writer(out_path, fps, size, stop=stop) as writer:
                _render_frames(app, writer, timeline, fps, size, theme, total, progress,
                               stream, stop, layout=scene_cls.layout)
        finally:
            qInstallMessageHandler(previous_handler)
    return RenderStats(frames=writer.frames, seconds=timer.elapsed() / 1000, fps=fps, size=size)


def _render_frames(app, writer, timeline, fps, size, theme, total, progress, stream,
                   stop, layout: str = "vanishing") -> None:
    """Draw each frame in an offscreen synchronous LabWindow and hand its pixels to writer.

    ``stop.check()`` runs before every frame: a stop signal ends the render here, in our
    own code, never as an exception inside a Qt paint event."""
    stop.check()
    window = LabWindow(timeline.start, theme=theme, synchronous=True)
    try:
        window.set_layout(layout)
        window.show_controls(False)
        window.statusBar().setVisible(False)  # compute timings differ run to run
        window.resize(*layout_size(size))
        window.show()  # offscreen: nothing appears, but layouts settle
        app.processEvents()
        bar = ProgressBar(total, stream=stream, label="rendering ") if progress else None
        shown, caption = window.config, None
        try:
            for frame in islice(timeline.frames(fps), total):
                stop.check()
                if frame.config != shown:
                    window.set_config(frame.config)  # synchronous: computed and drawn on return
                    shown = frame.config
                if frame.caption != caption:
                    window.set_caption(frame.caption)
                    caption = frame.caption
                writer.write(fit_frame(window.grab_rgb(), size))
                if bar is not None:
                    bar.update()
        except BaseException:
            if bar is not None:
                bar.abandon()  # end the bar's line: the error message gets its own
            raise
        if bar is not None:
            bar.close()
    finally:
        window.close()
        window.deleteLater()


class ScenePlayer(QObject):
    """Plays a scene live in ``window`` (a LabWindow). Call start(); it never blocks.

    Signals: ``finished`` when the last frame is shown or Esc stops playback.
    Attributes for tests: ``index`` (current frame), ``playing``, ``frames``.
    """

    finished = Signal()

    KEYS = {
        "Space": "toggle_pause", "Right": "next_step", "PgDown": "next_step",
        "Left": "previous_step", "PgUp": "previous_step", "Home": "restart", "Esc": "stop",
    }
    HELP = "Space pause · → / PgDn next step · ← / PgUp previous · Home restart · Esc stop"
    BACK_GRACE_S = 0.5  # 'previous step' within this time of a step start goes one further

    def __init__(self, window: LabWindow, scene_cls: type[Scene], parent: QObject | None = None):
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.scene_cls = scene_cls
        self.fps = int(scene_cls.fps)
        self.frames = list(scene_cls.timeline().frames(self.fps))  # SceneError if broken
        # first frame of every step: where next/previous step jump to
        self.step_starts = [i for i, f in enumerate(self.frames)
                            if i == 0 or f.step != self.frames[i - 1].step]
        self.index = 0
        self.playing = False
        self.active = False
        self._anchor = 0  # frame index at the moment the clock was (re)started
        self._clock = QElapsedTimer()
        self._shown = None  # (config, caption) last handed to the window
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000 / self.fps)))
        self._timer.timeout.connect(self._tick)
        self._shortcuts: list[QShortcut] = []
        self._disabled: list[QShortcut] = []

    # -- control ------------------------------------------------------------------------
    def start(self) -> None:
        """Take the keys, hide the controls and play from the first frame."""
        if not self.active:
            self.active = True
            self._take_keys()
            self.window.show_controls(False)
            self.window.statusBar().showMessage(self.HELP, 8000)
        self._seek(0)
        self.resume()

    def pause(self) -> None:
        self.playing = False
        self._timer.stop()

    def resume(self) -> None:
        if not self.active:
            return
        if self.index >= len(self.frames) - 1:
            self._seek(0)
        self.playing = True
        self._anchor = self.index
        self._clock.start()
        self._timer.start()

    def toggle_pause(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.resume()

    def next_step(self) -> None:
        later = [s for s in self.step_starts if s > self.index]
        self._jump(later[0] if later else len(self.frames) - 1)

    def previous_step(self) -> None:
        earlier = [s for s in self.step_starts if s <= self.index]
        target = earlier[-1] if earlier else 0
        if self.index - target < self.BACK_GRACE_S * self.fps and len(earlier) > 1:
            target = earlier[-2]
        self._jump(target)

    def restart(self) -> None:
        """Home: back to the first frame; after the scene finished, play it again."""
        finished = not self.playing and self.index >= len(self.frames) - 1
        self._jump(0)
        if finished:
            self.resume()

    def stop(self) -> None:
        """End playback: give the keys and the controls back; the lab stays interactive at
        the current config (the scene's caption goes: it would no longer describe the plot)."""
        if not self.active:
            return
        self.pause()
        self.active = False
        self._release_keys()
        self.window.set_caption("")
        self.window.statusBar().clearMessage()
        self.window.show_controls(True)
        self.finished.emit()

    # -- internals ------------------------------------------------------------------------
    def _jump(self, index: int) -> None:
        self._seek(index)
        if self.playing:
            self._anchor = self.index
            self._clock.restart()

    def _seek(self, index: int) -> None:
        self.index = min(max(int(index), 0), len(self.frames) - 1)
        self._show(self.frames[self.index])

    @Slot()
    def _tick(self) -> None:
        if not self.playing:
            return
        target = self._anchor + int(self._clock.elapsed() * self.fps // 1000)
        if target >= len(self.frames) - 1:
            self._seek(len(self.frames) - 1)
            self.pause()
            self.window.statusBar().showMessage(
                "scene finished: Home plays it again, Esc returns to the lab")
            return
        if target != self.index:
            self._seek(target)

    def _show(self, frame) -> None:
        config, caption = self._shown if self._shown is not None else (None, None)
        if frame.config != config:
            self.window.set_config(frame.config)  # the window's worker computes it
        if frame.caption != caption:
            self.window.set_caption(frame.caption)
        self._shown = (frame.config, frame.caption)

    def _take_keys(self) -> None:
        mine = {QKeySequence(k).toString() for k in self.KEYS}
        for sc in self.window.findChildren(QShortcut):
            if sc.isEnabled() and sc.key().toString() in mine:
                sc.setEnabled(False)  # the window's own use of the key waits until stop()
                self._disabled.append(sc)
        for key, method in self.KEYS.items():
            sc = QShortcut(QKeySequence(key), self.window)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(getattr(self, method))
            self._shortcuts.append(sc)

    def _release_keys(self) -> None:
        for sc in self._shortcuts:
            sc.setEnabled(False)
            sc.deleteLater()
        self._shortcuts.clear()
        for sc in self._disabled:
            sc.setEnabled(True)
        self._disabled.clear()


def open_player(path, name: str | None = None, *, theme: str = "dark"):
    """Show a LabWindow playing the scene in ``path``: (window, player). A broken scene
    gives (window, None) with the SceneError shown in the caption and status bar."""
    application()
    try:
        scene_cls = load_scene(path, name)
        error = None
    except SceneError as e:
        scene_cls, error = None, str(e)
        log.error("%s", error)
    start = scene_cls.timeline().start if scene_cls is not None else None
    window = LabWindow(start, theme=theme)
    if scene_cls is not None:
        window.set_layout(scene_cls.layout)
    window.show()
    if error is not None:
        window.set_caption(f"Scene error: {error}")
        window.statusBar().showMessage(error)
        return window, None
    player = ScenePlayer(window, scene_cls)
    player.start()
    return window, player


def play(path, name: str | None = None, *, theme: str = "dark") -> int:
    """``gradlab play``: open the lab, play a scene file in it, run the event loop. A broken
    scene is shown in the window and the lab stays up. Returns the exit code."""
    app = application()
    window, _player = open_player(path, name, theme=theme)
    app.aboutToQuit.connect(window.worker.stop)
    return app.exec()


__all__ = ["RenderStats", "ScenePlayer", "application", "fit_frame", "open_player", "play",
           "render"]
