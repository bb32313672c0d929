"""Frame encoders: RGB frames -> .mp4 (PyAV, H.264), .gif (Pillow) or a directory of PNGs.

The output path picks the format: ``*.mp4``, ``*.gif``, or a directory (a path ending in
a slash, an existing directory, or a name without a suffix) that receives
frame_00000.png, frame_00001.png, ...

Writes are atomic: frames go to a hidden temporary file (or directory) beside the target,
``.<name>.<pid>.<random>.part[.mp4|.gif]``, renamed over the target only when every frame
is written. On any error, Ctrl-C, SIGTERM or SIGHUP (see ``StopSignals``) the temporary is
removed and the target is left as it was; a temporary left by a process that was killed
outright (kill -9) is removed by the next writer for the same target. Bad targets (empty
path, unknown suffix, missing or unwritable directory) raise ExportError from
``open_writer``, before any frame is rendered::

    with open_writer("out.mp4", fps=30, size=(1280, 720)) as w:
        for rgb in frames:          # (H, W, 3) uint8
            w.write(rgb)
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

try:  # POSIX: temporaries are locked while written, so stale ones can be told apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

log = logging.getLogger(__name__)

FORMATS = ("mp4", "gif", "png")
_FRAME_NAME = re.compile(r"frame_\d{5,}\.png")
MAX_SIDE = 8192
MAX_FPS = 240


class ExportError(Exception):
    """A target that cannot be written, or frames that do not fit it. One-line message."""


class Stopped(KeyboardInterrupt):
    """A render stopped by a signal (SIGINT, SIGTERM or SIGHUP); ``signum`` says which.

    A KeyboardInterrupt, so code that already cleans up after Ctrl-C cleans up after these.
    """

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(f"stopped by {signal.Signals(self.signum).name}")


# the signals that stop a render cleanly (SIGHUP does not exist on Windows)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class StopSignals:
    """While active, SIGINT / SIGTERM / SIGHUP only set a flag; ``check()`` raises Stopped.

    A renderer calls ``check()`` between frames, in its own code, so the signal never
    surfaces as an exception inside a Qt paint event (where PySide would swallow it or
    crash) and the writer always gets to remove its temporary. Handlers are installed on
    ``__enter__`` (only from the main thread; elsewhere this does nothing) and the previous
    ones restored on ``__exit__``. The first signal wins; later ones change nothing.
    """

    def __init__(self, signals=STOP_SIGNALS):
        self.signals = tuple(signals)
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum, _frame) -> None:
        if self.signum is None:
            self.signum = signum

    @property
    def stopped(self) -> bool:
        return self.signum is not None

    def check(self) -> None:
        """Raise Stopped if a stop signal has arrived."""
        if self.signum is not None:
            raise Stopped(self.signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in self.signals:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> bool:
        previous, self._previous = self._previous, {}
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        return False


def output_kind(path: str | os.PathLike) -> str:
    """'mp4', 'gif' or 'png' (a directory of PNGs) for an output path; ExportError otherwise."""
    text = os.fspath(path)
    if not text.strip():
        raise ExportError(f"output path {text!r} is empty or blank: give a file such as out.mp4, "
                          "out.gif or a directory such as frames/")
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or not p.suffix:
        return "png"
    suffix = p.suffix.lower()
    if suffix == ".mp4":
        return "mp4"
    if suffix == ".gif":
        return "gif"
    raise ExportError(f"unknown output type {p.suffix!r} for {text}: "
                      "use .mp4, .gif or a directory such as frames/")


def check_size(size) -> tuple[int, int]:
    """A (width, height) pair of ints in [1, MAX_SIDE]."""
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ExportError(f"size {size!r} must be (width, height)") from None
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ExportError(f"size {w}x{h} is out of range; each side must be in [1, {MAX_SIDE}]")
    return w, h


def check_fps(fps) -> int:
    """An int frame rate in [1, MAX_FPS]; ExportError otherwise."""
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
        raise ExportError(f"fps={fps!r} must be an integer in [1, {MAX_FPS}]")
    return fps


def check_target(path: str | os.PathLike) -> tuple[str, Path]:
    """Validate an output path without writing anything: (kind, target path).

    Raises ExportError for an unknown suffix, a missing or non-directory parent, a
    target of the wrong type, an unwritable directory, or a non-empty directory that
    holds anything but frame_NNNNN.png files (we never delete other people's files).
    """
    kind = output_kind(path)
    target = Path(os.fspath(path).rstrip("/" + os.sep) or os.sep)
    parent = target.parent
    if not parent.exists():
        raise ExportError(f"cannot write {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: directory {parent} is not writable")
    if kind == "png":
        if target.exists() and not target.is_dir():
            raise ExportError(f"cannot write frames to {path}: it exists and is not a directory")
        if target.is_dir():
            others = [e.name for e in target.iterdir() if not _FRAME_NAME.fullmatch(e.name)]
            if others:
                raise ExportError(f"cannot write frames to {path}: the directory holds other "
                                  f"files ({others[0]}, ...); choose a new or empty directory")
    elif target.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    return kind, target


# a temporary: .<target name>.<pid>.<mkstemp's random part>.<part | part.mp4 | part.gif | old>
_TEMP_TAIL = r"\.(\d+)\.[A-Za-z0-9_]+\.(?:part|part\.mp4|part\.gif|old)"


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0:  # 0 would name our process group, not a process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # exists but is not ours to signal, or no such pid ever
        return True
    return True


def _lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on ``path`` (a file or a directory), or None if
    someone else holds it or locks are not available here."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def remove_stale_temporaries(target: str | os.PathLike) -> list[str]:
    """Remove temporaries of ``target`` left behind by writers that were killed outright.

    A temporary is stale when the process named in it is gone and nobody holds its lock
    (a live writer keeps an flock on its temporary; the kernel drops it when the process
    dies, even by kill -9). Only this target's temporaries are touched. POSIX only.
    Returns the names removed.
    """
    target = Path(target)
    if fcntl is None:  # pragma: no cover - no flock and no safe liveness check
        return []
    pattern = re.compile(re.escape(f".{target.name}") + _TEMP_TAIL)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        fd = _lock(path)
        if fd is None:  # someone (on another host, say) is still writing it
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(entry.name)
        except OSError:
            log.debug("could not remove stale temporary %s", path, exc_info=True)
        finally:
            os.close(fd)
    if removed:
        log.info("removed %d stale temporaries of %s: %s", len(removed), target,
                 ", ".join(removed))
    return removed


def _usual_mode(path: Path) -> None:
    """Give a finished temporary the permissions a plain open()/mkdir() would have had
    (mkstemp/mkdtemp make them private to the user)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


class FrameWriter:
    """Base of the three sinks: atomic temp handling, frame checks and the encoder thread.

    Frames are encoded on one background thread behind a small bounded queue, so the
    caller draws frame k + 1 while frame k is compressed; ``write`` blocks when the queue
    is full, and an encoder error is raised by the next ``write`` or by ``close``. With a
    ``stop`` (StopSignals), ``write`` and ``close`` raise Stopped once a stop signal has
    arrived, up to the moment the temporary is renamed over the target. The temporary is
    flock-ed while it exists (see remove_stale_temporaries). Use open_writer().
    """

    kind = ""
    QUEUE = 4  # frames waiting for the encoder at most

    def __init__(self, target: Path, fps: int, size: tuple[int, int],
                 stop: StopSignals | None = None):
        self.target = target
        self.fps = fps
        self.size = size  # (width, height)
        self.stop = stop
        self._lock_fd: int | None = None
        self.frames = 0  # frames accepted by write()
        self._encoded = 0  # frames the encoder thread has finished
        self._temp: Path | None = None
        self._done = False
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # sinks override these three (_write runs on the encoder thread)
    def _open(self) -> None: ...
    def _write(self, rgb: np.ndarray) -> None: ...
    def _finish(self) -> None: ...

    def _start(self) -> None:
        self._queue = queue.Queue(maxsize=self.QUEUE)
        self._thread = threading.Thread(target=self._encode_loop, daemon=True,
                                        name=f"gradlab-{self.kind}-encoder")
        self._thread.start()

    def _encode_loop(self) -> None:
        while True:
            rgb = self._queue.get()
            if rgb is None:
                return
            if self._error is None:  # after an error, just drain until told to stop
                try:
                    self._write(rgb)
                    self._encoded += 1
                except BaseException as e:  # handed to the caller's thread
                    self._error = e

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            e = self._error
            if isinstance(e, (ExportError, KeyboardInterrupt)):
                raise e
            raise ExportError(f"encoding {self.target} failed: {type(e).__name__}: {e}") from e

    def _check_stop(self) -> None:
        if self.stop is not None:
            self.stop.check()

    def _take_lock(self) -> None:
        """Lock the temporary (called once it exists)."""
        self._lock_fd = _lock(self._temp)

    def _drop_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame: an (H, W, 3) uint8 array matching ``size`` (it is copied)."""
        if self._done or self._temp is None:
            raise ExportError(f"writer for {self.target} is closed")
        self._check_stop()
        self._raise_encoder_error()
        w, h = self.size
        a = np.asarray(rgb)
        if a.shape != (h, w, 3) or a.dtype != np.uint8:
            raise ExportError(f"frame {self.frames} has shape {a.shape} {a.dtype}; "
                              f"expected ({h}, {w}, 3) uint8")
        self._queue.put(np.array(a, order="C", copy=True))
        self.frames += 1

    def _stop_thread(self) -> None:
        if self._thread is None:
            return
        if self._error is not None or self._done:  # failing: drop frames still queued
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
        self._queue.put(None)
        self._thread.join()
        self._thread = None

    def close(self) -> None:
        """Finish encoding and rename the temporary over the target.

        Any failure (a full disk while the file is finalised, say) or a stop signal before
        the rename removes the temporary; errors are raised as one-line ExportErrors.
        """
        if self._done:
            return
        try:
            self._stop_thread()
            self._raise_encoder_error()
            if self.frames == 0:
                raise ExportError(f"no frames were written to {self.target}")
            self._check_stop()
            try:
                self._finish()
                self._check_stop()  # the last moment a signal can still undo the render
                self._commit()
            except (ExportError, KeyboardInterrupt):
                raise
            except Exception as e:
                raise ExportError(f"cannot finish {self.target}: {_reason(e)}") from e
        except BaseException:
            self.abort()
            raise
        self._done = True

    def abort(self) -> None:
        """Drop everything written so far; the target stays as it was."""
        self._done = True
        self._stop_thread()
        try:
            self._release()
        except Exception:  # already failing: the cleanup below matters more
            log.debug("error while releasing %s", self.target, exc_info=True)
        temp, self._temp = self._temp, None
        if temp is not None:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    temp.unlink(missing_ok=True)
        self._drop_lock()

    def _release(self) -> None:
        """Close open handles without finishing (override if the sink holds any)."""

    def _commit(self) -> None:
        _usual_mode(self._temp)
        os.replace(self._temp, self.target)
        self._temp = None
        self._drop_lock()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


class Mp4Writer(FrameWriter):
    """H.264 in MP4 via PyAV: libx264, yuv420p, crf 18. Odd sizes lose a last row/column."""

    kind = "mp4"
    crf = 18

    def _open(self) -> None:
        import av  # lazy: only when writing video

        fd, name = tempfile.mkstemp(prefix=_temp_prefix(self.target), suffix=".part.mp4",
                                    dir=self.target.parent)
        os.close(fd)
        self._temp = Path(name)
        self._take_lock()
        w, h = self.size
        self._even = (w - w % 2, h - h % 2)
        if min(self._even) < 2:
            raise ExportError(f"size {w}x{h} is too small for mp4 (need at least 2x2)")
        self._container = av.open(name, mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=Fraction(self.fps, 1))
        stream.width, stream.height = self._even
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": "medium"}
        self._stream = stream
        self._av = av

    def _write(self, rgb: np.ndarray) -> None:
        w, h = self._even
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:h, :w]),
                                                 format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _finish(self) -> None:
        for packet in self._stream.encode():  # flush the encoder
            self._container.mux(packet)
        container, self._container = self._container, None
        container.close()

    def _release(self) -> None:
        container, self._container = getattr(self, "_container", None), None
        if container is not None:
            container.close()


class GifWriter(FrameWriter):
    """Animated GIF via Pillow, streamed frame by frame (memory stays flat).

    Each frame gets its own adaptive 256-colour palette (median cut, no dithering: flat
    plot colours stay flat). Identical consecutive frames are merged into one longer
    frame. Delays are in GIF's 10 ms units, spread so the total matches frames / fps.
    Loops forever.
    """

    kind = "gif"

    def _open(self) -> None:
        fd, name = tempfile.mkstemp(prefix=_temp_prefix(self.target), suffix=".part.gif",
                                    dir=self.target.parent)
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)
        self._take_lock()
        self._pending = None  # (rgb, number of frames it stands for)
        self._shown = 0  # frames already written to the file

    def _write(self, rgb: np.ndarray) -> None:
        if self._pending is not None and np.array_equal(self._pending[0], rgb):
            self._pending = (self._pending[0], self._pending[1] + 1)
            return
        self._flush()
        self._pending = (rgb.copy(), 1)

    def _flush(self) -> None:
        if self._pending is None:
            return
        from PIL import GifImagePlugin, Image

        rgb, count = self._pending
        im = Image.fromarray(rgb, "RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        # delay in centiseconds, accumulated so rounding never drifts
        delay = (round(100 * (self._shown + count) / self.fps)
                 - round(100 * self._shown / self.fps))
        if self._shown == 0:
            header, _ = GifImagePlugin.getheader(im, info={"loop": 0, "duration": 10 * delay})
            self._file.write(b"".join(header))
        chunks = GifImagePlugin.getdata(im, duration=10 * delay, include_color_table=True)
        self._file.write(b"".join(chunks))
        self._shown += count
        self._pending = None

    def _finish(self) -> None:
        self._flush()
        self._file.write(b";")  # GIF trailer
        self._file.close()

    def _release(self) -> None:
        f = getattr(self, "_file", None)
        if f is not None and not f.closed:
            f.close()


class PngDirWriter(FrameWriter):
    """Numbered PNG files frame_00000.png, ... in a directory (written whole, then renamed)."""

    kind = "png"

    def _open(self) -> None:
        self._temp = Path(tempfile.mkdtemp(prefix=_temp_prefix(self.target), suffix=".part",
                                           dir=self.target.parent))
        self._take_lock()

    def _write(self, rgb: np.ndarray) -> None:
        from PIL import Image

        buf = io.BytesIO()
        # level 1: ~40% faster than the default 6 for ~10% larger files of flat plot colours
        Image.fromarray(rgb, "RGB").save(buf, format="PNG", compress_level=1)
        (self._temp / f"frame_{self._encoded:05d}.png").write_bytes(buf.getvalue())

    def _commit(self) -> None:
        old = None
        if self.target.is_dir():
            if any(self.target.iterdir()):  # frames of an earlier render: swap them out
                old = Path(tempfile.mkdtemp(prefix=_temp_prefix(self.target), suffix=".old",
                                            dir=self.target.parent))
                os.replace(self.target, old / "frames")
            else:
                self.target.rmdir()
        _usual_mode(self._temp)
        os.replace(self._temp, self.target)
        self._temp = None
        self._drop_lock()
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


_WRITERS = {"mp4": Mp4Writer, "gif": GifWriter, "png": PngDirWriter}


def _reason(e: BaseException) -> str:
    """One line for an error: the OS's words for an OSError (no temporary's name)."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return f"{type(e).__name__}: {e}"


def open_writer(path: str | os.PathLike, fps: int, size: tuple[int, int],
                stop: StopSignals | None = None) -> FrameWriter:
    """A frame sink for ``path`` (format from the path), its temporary already created.

    Raises ExportError (one line) for a bad target, fps or size, before any frame is drawn.
    Stale temporaries of the same target (from a killed writer) are removed first.
    ``stop``: a StopSignals whose signal makes write/close raise Stopped (and clean up).
    """
    kind, target = check_target(path)
    fps = check_fps(fps)
    size = check_size(size)
    remove_stale_temporaries(target)
    writer = _WRITERS[kind](target, fps, size, stop)
    try:
        writer._open()
        writer._start()
    except ExportError:
        writer.abort()
        raise
    except OSError as e:
        writer.abort()
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from e
    except BaseException:
        writer.abort()
        raise
    return writer


class ProgressBar:
    """A one-line text progress bar for a terminal: ``[#####.....]  120/600  24.1 fps  ETA 20s``.

    Redraws in place with a carriage return on a terminal (at most ~10 times a second);
    on a pipe or file it writes a plain line every 10%.
    """

    def __init__(self, total: int, stream=None, label: str = "", width: int = 30):
        self.total = max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.width = width
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = -math.inf
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def rate(self) -> float:
        """Frames per second so far."""
        t = self.elapsed
        return self.done / t if t > 0 else 0.0

    def text(self) -> str:
        fill = round(self.width * self.done / self.total)
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 else math.inf
        eta = f"ETA {left:4.0f}s" if math.isfinite(left) else "ETA    ?"
        return (f"{self.label}[{'#' * fill}{'.' * (self.width - fill)}] "
                f"{self.done:>{len(str(self.total))}}/{self.total}  {rate:5.1f} fps  {eta}")

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self._tty:
            if now - self._last_draw >= 0.1 or self.done >= self.total:
                self.stream.write("\r" + self.text())
                self.stream.flush()
                self._last_draw = now
        else:
            decile = 10 * self.done // self.total
            if decile != self._last_decile:
                self.stream.write(self.text() + "\n")
                self._last_decile = decile

    def close(self) -> None:
        if self._tty:
            self.stream.write("\r" + self.text() + "\n")
            self.stream.flush()

    def abandon(self) -> None:
        """End the bar's line on a terminal without completing it (the render failed)."""
        if self._tty and self._last_draw > -math.inf:
            self.stream.write("\n")
            self.stream.flush()


__all__ = ["FORMATS", "MAX_FPS", "STOP_SIGNALS", "ExportError", "FrameWriter", "ProgressBar",
           "StopSignals", "Stopped", "check_fps", "check_size", "check_target", "open_writer",
           "output_kind", "remove_stale_temporaries"]
