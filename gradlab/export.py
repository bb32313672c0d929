"""Frame encoders: RGB frames -> .mp4 (PyAV, H.264), .gif (Pillow) or a directory of PNGs.

The output path picks the format: ``*.mp4``, ``*.gif``, or a directory (a path ending in
a slash, an existing directory, or a name without a suffix) that receives
frame_00000.png, frame_00001.png, ...

Writes are atomic: frames go to a hidden temporary file (or directory) beside the target,
renamed over the target only when every frame is written. On any error, or Ctrl-C, the
temporary is removed and the target is left as it was. Bad targets (unknown suffix,
missing or unwritable directory) raise ExportError from ``open_writer``, before any frame
is rendered::

    with open_writer("out.mp4", fps=30, size=(1280, 720)) as w:
        for rgb in frames:          # (H, W, 3) uint8
            w.write(rgb)
"""

from __future__ import annotations

import io
import logging
import math
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMATS = ("mp4", "gif", "png")
_FRAME_NAME = re.compile(r"frame_\d{5,}\.png")
MAX_SIDE = 8192


class ExportError(Exception):
    """A target that cannot be written, or frames that do not fit it. One-line message."""


def output_kind(path: str | os.PathLike) -> str:
    """'mp4', 'gif' or 'png' (a directory of PNGs) for an output path; ExportError otherwise."""
    text = os.fspath(path)
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


def _check_fps(fps) -> int:
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 240:
        raise ExportError(f"fps={fps!r} must be an integer in [1, 240]")
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
    is full, and an encoder error is raised by the next ``write`` or by ``close``.
    Use open_writer().
    """

    kind = ""
    QUEUE = 4  # frames waiting for the encoder at most

    def __init__(self, target: Path, fps: int, size: tuple[int, int]):
        self.target = target
        self.fps = fps
        self.size = size  # (width, height)
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

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame: an (H, W, 3) uint8 array matching ``size`` (it is copied)."""
        if self._done or self._temp is None:
            raise ExportError(f"writer for {self.target} is closed")
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
        """Finish encoding and rename the temporary over the target."""
        if self._done:
            return
        try:
            self._stop_thread()
            self._raise_encoder_error()
            if self.frames == 0:
                raise ExportError(f"no frames were written to {self.target}")
            self._finish()
            self._commit()
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
                temp.unlink(missing_ok=True)

    def _release(self) -> None:
        """Close open handles without finishing (override if the sink holds any)."""

    def _commit(self) -> None:
        _usual_mode(self._temp)
        os.replace(self._temp, self.target)
        self._temp = None

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

        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part.mp4",
                                    dir=self.target.parent)
        os.close(fd)
        self._temp = Path(name)
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
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part.gif",
                                    dir=self.target.parent)
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)
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
        self._temp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".part",
                                           dir=self.target.parent))

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
                old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".old",
                                            dir=self.target.parent))
                os.replace(self.target, old / "frames")
            else:
                self.target.rmdir()
        _usual_mode(self._temp)
        os.replace(self._temp, self.target)
        self._temp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


_WRITERS = {"mp4": Mp4Writer, "gif": GifWriter, "png": PngDirWriter}


def open_writer(path: str | os.PathLike, fps: int, size: tuple[int, int]) -> FrameWriter:
    """A frame sink for ``path`` (format from the path), its temporary already created.

    Raises ExportError (one line) for a bad target, fps or size, before any frame is drawn.
    """
    kind, target = check_target(path)
    fps = _check_fps(fps)
    size = check_size(size)
    writer = _WRITERS[kind](target, fps, size)
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


__all__ = ["FORMATS", "ExportError", "FrameWriter", "ProgressBar", "check_size", "check_target",
           "open_writer", "output_kind"]
