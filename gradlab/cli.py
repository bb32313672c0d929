"""The ``gradlab`` command: open the lab, play a scene live, render a scene, run benchmarks.

    gradlab [lab] [FILE.toml] [--theme dark|light] [--rho X] [--layout NAME]   open the lab
    gradlab play FILE [SCENE] [--theme ...]           play a scene in the lab window
    gradlab render FILE [SCENE] -o OUT [--fps N] [--size WxH] [--theme ...] [--frames N]
    gradlab bench [...]                               benchmarks (gradlab.bench)
    gradlab warm                                      compile the kernels (gradlab.warm)

User errors print one line ``gradlab: error: ...`` and exit 2. Without a display the
window commands print one line saying so (and how to render instead) and exit 1.
Qt is imported only by the commands that need it, so this module stays in the Qt-free core.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from threadpoolctl import threadpool_limits

from .config import LabConfig
from .experiment import load_experiment
from .export import ExportError, check_size, check_target
from .layouts import LAYOUTS, get_layout
from .scene import SceneError, load_scene
from .train import cli as train_cli

log = logging.getLogger(__name__)

PROG = "gradlab"
THEMES = ("dark", "light")
EXAMPLE_SCENE = "scenes/vanishing_exploding.py"
NO_DISPLAY = (f"{PROG}: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the lab "
              f"window cannot open; render a scene to a file instead: "
              f"{PROG} render {EXAMPLE_SCENE} -o out.mp4")
# Qt platform plugins that need no windowing system
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb",
                       "vkkhrdisplay", "directfb"}


class UsageError(Exception):
    """A bad command line; main() prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become UsageError (one line, no usage dump, no SystemExit)."""

    def error(self, message):
        raise UsageError(message)


def has_display(env=None, platform: str | None = None) -> bool:
    """Whether a Qt window can open: always off Linux/BSD; there, a display server or a
    headless Qt platform (QT_QPA_PLATFORM=offscreen, vnc, ...) is needed."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not (platform.startswith("linux") or "bsd" in platform):
        return True
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    requested = [p.split(":")[0].strip().lower()
                 for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if not requested:
        return x11 or wayland
    for p in requested:
        if p in _HEADLESS_PLATFORMS or (p.startswith("xcb") and x11) \
                or (p.startswith("wayland") and wayland):
            return True
    return False


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"size {text!r} must look like 1280x720")
    try:
        return check_size((int(w), int(h)))
    except ExportError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return int(text)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="See gradients vanish and explode in recurrent "
                     "networks.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log diagnostics")
    sub = parser.add_subparsers(dest="command", metavar="{lab,play,render,bench,warm}")

    lab = sub.add_parser("lab", help="open the lab (the default)")
    lab.add_argument("--theme", choices=THEMES, default="dark")
    lab.add_argument("--rho", type=_float, default=None, metavar="X",
                     help="spectral radius of the recurrent matrix to start with")
    lab.add_argument("experiment", nargs="?", metavar="FILE.toml",
                     help="an experiment saved from the lab (Ctrl+S): its config and layout")
    lab.add_argument("--layout", choices=tuple(LAYOUTS), default=None,
                     help="the topic to open (its starting config applies); default: "
                     f"{next(iter(LAYOUTS))}")

    play = sub.add_parser("play", help="play a scene live in the lab window")
    play.add_argument("file", help="a scene file, e.g. " + EXAMPLE_SCENE)
    play.add_argument("scene", nargs="?", help="which Scene class, if the file has several")
    play.add_argument("--theme", choices=THEMES, default="dark")

    render = sub.add_parser("render", help="render a scene to .mp4, .gif or a PNG directory")
    render.add_argument("file", help="a scene file, e.g. " + EXAMPLE_SCENE)
    render.add_argument("scene", nargs="?", help="which Scene class, if the file has several")
    render.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="out.mp4, out.gif, or a directory (frames/) for numbered PNGs")
    render.add_argument("--fps", type=_positive_int, default=None,
                        help="frames per second (default: the scene's)")
    render.add_argument("--size", type=_size, default=None, metavar="WxH",
                        help="video size in pixels (default: the scene's, 1280x720)")
    render.add_argument("--theme", choices=THEMES, default="dark")
    render.add_argument("--frames", type=_positive_int, default=None, metavar="N",
                        help="render only the first N frames")
    render.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")

    sub.add_parser("bench", help="run the benchmarks (arguments go to gradlab.bench)",
                   add_help=False)
    sub.add_parser("warm", help="compile the kernels into numba's cache (make does this once)")
    train_cli.add_parser(sub)  # gradlab train TASK ... (gradlab.train.cli)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradlab`` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return _bench(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        return _fail(str(e))
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(levelname)s: %(name)s: %(message)s")
    command = args.command or "lab"
    # The lab computes in one worker thread beside the GUI thread, on matrices of at most a
    # few hundred rows: extra OpenBLAS threads only contend for the two cores (measured 5x
    # slower eigvals/QR at n=128 under load), so the app and the renderer use one.
    threadpool_limits(limits=1, user_api="blas")
    try:
        if command == "warm":
            return _warm()
        if command == "train":
            return train_cli.run(args)
        if command == "render":
            return _render(args)
        if command == "play":
            return _play(args)
        return _lab(args)
    except (SceneError, ExportError, ValueError) as e:
        log.debug("%s failed", command, exc_info=True)  # the traceback, with --verbose
        return _fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    first = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{PROG}: error: {first}", file=sys.stderr)
    return 2


def _no_display() -> int:
    print(NO_DISPLAY, file=sys.stderr)
    return 1


def _lab(args) -> int:
    theme = getattr(args, "theme", "dark")
    rho = getattr(args, "rho", None)
    name = getattr(args, "layout", None)  # None: the first layout, from the default config
    config = None if name is None else LabConfig(**get_layout(name).config)
    if getattr(args, "experiment", None):  # ExperimentError (a ValueError) names file:line
        exp = load_experiment(args.experiment)
        config, name = exp.config, name or exp.layout
    if rho is not None:
        config = (config or LabConfig()).replace(spectral_radius=rho)
    if not has_display():
        return _no_display()
    from .app import run

    return run(config, theme=theme, **({"layout": name} if name else {}))


def _play(args) -> int:
    if not os.path.isfile(args.file):
        raise SceneError(f"{args.file}: no such scene file")
    if not has_display():
        return _no_display()
    from .app.player import play

    return play(args.file, args.scene, theme=args.theme)


def _render(args) -> int:
    check_target(args.output)  # a bad target fails before the scene is even loaded
    scene_cls = load_scene(args.file, args.scene)
    if "QT_QPA_PLATFORM" not in os.environ or not has_display():
        # offscreen even with a display (unless the user chose a platform): no window
        # flashes up and no screen DPI changes the pixel sizes, so frames match anywhere
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from .app.player import render

    stats = render(scene_cls, args.output, fps=args.fps, size=args.size, theme=args.theme,
                   frames_limit=args.frames, progress=args.progress)
    print(f"wrote {args.output} ({stats.frames} frames, {stats.size[0]}x{stats.size[1]}, "
          f"{stats.fps} fps) in {stats.seconds:.1f} s ({stats.rate:.1f} frames/s)",
          file=sys.stderr)
    return 0


def _warm() -> int:
    from .warm import warm

    print(f"{PROG}: kernels compiled and cached in {warm():.1f} s")
    return 0


def _bench(argv: list[str]) -> int:
    try:
        from . import bench
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.bench":
            raise
        return _fail("the benchmarks (gradlab.bench) are not installed in this version")
    return bench.main(argv)


if __name__ == "__main__":
    sys.exit(main())
