"""The ``gradlab`` command: open the lab, play a scene live, render a scene, train a model.

    gradlab [lab] [FILE.toml] [--theme dark|light] [--rho X] [--layout NAME]   open the lab
    gradlab play FILE [SCENE] [--theme ...]           play a scene in the lab window
    gradlab render FILE [SCENE] -o OUT [--fps N] [--size WxH] [--theme ...] [--frames N]
    gradlab train TASK [...]                          train a model headless (gradlab.train)
    gradlab warm                                      compile the kernels (gradlab.warm)

User errors print one line ``gradlab: error: ...`` and exit 2. Without a display (none
named, or one named that does not answer) the window commands print one line saying so
(and how to render instead) and exit 1, before Qt is started. A render stopped by Ctrl-C,
SIGTERM or SIGHUP removes its temporary, leaves the target as it was and exits 128 + the
signal number (130, 143, 129). Scene files are Python programs run with the user's rights.
Qt is imported only by the commands that need it, so this module stays in the Qt-free core.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys

from threadpoolctl import threadpool_limits

from .config import LabConfig
from .experiment import load_experiment
from .export import ExportError, StopSignals, check_fps, check_size, check_target
from .layouts import LAYOUTS, get_layout
from .scene import SceneError, load_scene
from .train import cli as train_cli

log = logging.getLogger(__name__)

PROG = "gradlab"
THEMES = ("dark", "light")
EXAMPLE_SCENE = "scenes/vanishing_exploding.py"
UNSET = "DISPLAY and WAYLAND_DISPLAY are unset"
NO_DISPLAY = (f"{PROG}: no display found ({{reason}}), so the lab window cannot open; render "
              f"a scene to a file instead: {PROG} render {EXAMPLE_SCENE} -o out.mp4")
# Qt platform plugins that need no windowing system
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb",
                       "vkkhrdisplay", "directfb"}
TRUST = ("A scene file is a Python program: gradlab runs it with your rights, so it can do "
         "anything you can (read, change or delete your files). Use only scene files you "
         "trust, as you would a build file or a shell script.")
PROBE_TIMEOUT_S = 2.0


class UsageError(Exception):
    """A bad command line; main() prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become UsageError (one line, no usage dump, no SystemExit)."""

    def error(self, message):
        raise UsageError(message)


def _connects(family: int, address, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether something accepts a connection at ``address`` (nothing is sent)."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(address)
        return True
    except (OSError, ValueError):
        return False


def x11_reachable(display: str) -> bool:
    """Whether an X server listens where DISPLAY ([proto/][host]:number[.screen]) points.

    Local displays are tried on the abstract and the filesystem socket
    /tmp/.X11-unix/X<number>, remote ones on TCP port 6000 + number, as libxcb does.
    A form we do not understand counts as reachable (Qt will say what is wrong).
    """
    host, sep, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not sep or not number.isdigit():  # not a display name at all: Qt cannot use it either
        return False
    proto = ""
    if "/" in host and not host.startswith("/"):
        proto, host = host.split("/", 1)
    if host.startswith("/"):  # a socket path (XQuartz and friends)
        return True
    if proto not in ("", "unix", "tcp", "inet", "inet6"):
        return True
    if proto == "unix" or (not proto and host in ("", "unix")):
        path = f"/tmp/.X11-unix/X{number}"
        return (sys.platform.startswith("linux") and _connects(socket.AF_UNIX, "\0" + path)) \
            or _connects(socket.AF_UNIX, path)
    try:
        with socket.create_connection((host.strip("[]"), 6000 + int(number)),
                                      timeout=PROBE_TIMEOUT_S):
            return True
    except (OSError, ValueError, OverflowError):
        return False


def wayland_reachable(env) -> bool:
    """Whether a Wayland compositor listens at WAYLAND_DISPLAY (in XDG_RUNTIME_DIR)."""
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        return False
    if not os.path.isabs(name):
        runtime = env.get("XDG_RUNTIME_DIR", "")
        if not runtime:
            return False
        name = os.path.join(runtime, name)
    return _connects(socket.AF_UNIX, name)


def display_problem(env=None, platform: str | None = None, probe: bool = True) -> str | None:
    """Why a Qt window cannot open here (one phrase), or None if it can.

    Off Linux/BSD a window can always open; there, a reachable display server or a
    headless Qt platform (QT_QPA_PLATFORM=offscreen, vnc, ...) is needed. ``probe=False``
    trusts DISPLAY / WAYLAND_DISPLAY without connecting to them. Checked before Qt starts:
    Qt aborts the process (SIGABRT) when its platform cannot connect.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not (platform.startswith("linux") or "bsd" in platform):
        return None
    display, wayland_name = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    requested = [p.split(":")[0].strip().lower()
                 for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if any(p in _HEADLESS_PLATFORMS for p in requested):
        return None
    want_x11 = not requested or any(p.startswith("xcb") for p in requested)
    want_wayland = not requested or any(p.startswith("wayland") for p in requested)
    if not ((want_x11 and display) or (want_wayland and wayland_name)):
        if not requested:
            return UNSET
        return (f"QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']} needs a display, and "
                f"{UNSET if not (display or wayland_name) else 'none it can use is set'}")
    if not probe:
        return None
    if want_x11 and display and x11_reachable(display):
        return None
    if want_wayland and wayland_name and wayland_reachable(env):
        return None
    tried = [f"{k}={env[k]}" for k, wanted in (("DISPLAY", want_x11),
                                                ("WAYLAND_DISPLAY", want_wayland))
             if wanted and env.get(k)]
    return f"nothing answers at {' or '.join(tried)}"


def has_display(env=None, platform: str | None = None, probe: bool = True) -> bool:
    """Whether a Qt window can open (see display_problem)."""
    return display_problem(env, platform, probe) is None


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"size {text!r} must look like 1280x720")
    try:
        return check_size((int(w), int(h)))
    except ExportError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _fps(text: str) -> int:
    try:
        return check_fps(_positive_int(text))
    except ExportError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _output(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is empty: give a file such as out.mp4, "
                                         "out.gif or a directory such as frames/")
    return text


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
    sub = parser.add_subparsers(dest="command", metavar="{lab,play,render,train,warm}")

    lab = sub.add_parser("lab", help="open the lab (the default)")
    lab.add_argument("--theme", choices=THEMES, default="dark")
    lab.add_argument("--rho", type=_float, default=None, metavar="X",
                     help="spectral radius of the recurrent matrix to start with")
    lab.add_argument("experiment", nargs="?", metavar="FILE.toml",
                     help="an experiment saved from the lab (Ctrl+S): its config and layout")
    lab.add_argument("--layout", choices=tuple(LAYOUTS), default=None,
                     help="the topic to open (its starting config applies); default: "
                     f"{next(iter(LAYOUTS))}")

    play = sub.add_parser("play", help="play a scene live in the lab window",
                          description="Play a scene file live in the lab window. " + TRUST)
    play.add_argument("file", help="a scene file, e.g. " + EXAMPLE_SCENE)
    play.add_argument("scene", nargs="?", help="which Scene class, if the file has several")
    play.add_argument("--theme", choices=THEMES, default="dark")

    render = sub.add_parser("render", help="render a scene to .mp4, .gif or a PNG directory",
                            description="Render a scene file headless to .mp4, .gif or a "
                            "directory of PNGs. Ctrl-C stops it and leaves the target as it "
                            "was. " + TRUST)
    render.add_argument("file", help="a scene file, e.g. " + EXAMPLE_SCENE)
    render.add_argument("scene", nargs="?", help="which Scene class, if the file has several")
    render.add_argument("-o", "--output", required=True, metavar="OUT", type=_output,
                        help="out.mp4, out.gif, or a directory (frames/) for numbered PNGs")
    render.add_argument("--fps", type=_fps, default=None,
                        help="frames per second, 1 to 240 (default: the scene's)")
    render.add_argument("--size", type=_size, default=None, metavar="WxH",
                        help="video size in pixels (default: the scene's, 1280x720)")
    render.add_argument("--theme", choices=THEMES, default="dark")
    render.add_argument("--frames", type=_positive_int, default=None, metavar="N",
                        help="render only the first N frames")
    render.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")

    sub.add_parser("warm", help="compile the kernels into numba's cache (make does this once)")
    train_cli.add_parser(sub)  # gradlab train TASK ... (gradlab.train.cli)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradlab`` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
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
    except KeyboardInterrupt as e:  # Ctrl-C, or export.Stopped (SIGINT, SIGTERM, SIGHUP)
        signum = getattr(e, "signum", signal.SIGINT)
        what = "interrupted" if signum == signal.SIGINT else \
            f"stopped by {signal.Signals(signum).name}"
        print(f"{PROG}: {what}", file=sys.stderr)
        return 128 + signum


def _fail(message: str) -> int:
    first = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{PROG}: error: {first}", file=sys.stderr)
    return 2


def _no_display(reason: str) -> int:
    print(NO_DISPLAY.format(reason=reason), file=sys.stderr)
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
    problem = display_problem()
    if problem is not None:
        return _no_display(problem)
    from .app import run

    return run(config, theme=theme, **({"layout": name} if name else {}))


def _play(args) -> int:
    if not os.path.isfile(args.file):
        raise SceneError(f"{args.file}: no such scene file")
    problem = display_problem()
    if problem is not None:
        return _no_display(problem)
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

    # Ctrl-C / SIGTERM / SIGHUP only set a flag from here on: the render checks it between
    # frames and cleans up; once the file is in place a late signal changes nothing
    with StopSignals() as stop:
        stats = render(scene_cls, args.output, fps=args.fps, size=args.size, theme=args.theme,
                       frames_limit=args.frames, progress=args.progress, stop=stop)
        print(f"wrote {args.output} ({stats.frames} frames, {stats.size[0]}x{stats.size[1]}, "
              f"{stats.fps} fps) in {stats.seconds:.1f} s ({stats.rate:.1f} frames/s)",
              file=sys.stderr)
    return 0


def _warm() -> int:
    from .warm import warm

    print(f"{PROG}: kernels compiled and cached in {warm():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
