"""Keep and share, the Qt side: the window's menus, its file dialogs, and drawing a widget
into an SVG file. The work itself is done by plain functions the tests call directly:
``gradlab.experiment`` (the .toml file and the Scene snippet, no Qt) and the window's
``save_experiment``, ``open_experiment``, ``export_window``, ``export_panel`` and
``copy_scene_snippet``.
"""

from __future__ import annotations

import os
import tempfile

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from gradlab.layouts import LAYOUTS

EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
TOML_FILTER = "gradlab experiment (*.toml)"


def render_svg(widget: QWidget, path: str, title: str = "") -> None:
    """Draw ``widget`` (and its children) into an SVG file at ``path``."""
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(widget.width(), widget.height()))
    gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    gen.setTitle(title)
    painter = QPainter(gen)
    try:
        QWidget.render(widget, painter, QPoint())  # not QGraphicsView.render: whole widget
    finally:
        painter.end()


def export_image(widget: QWidget, path, title: str = "") -> None:
    """``widget`` as a .png image or an .svg drawing at ``path``. Written beside the target
    and renamed into place, so a failure never leaves a half-written file there."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path}: export writes .png or .svg")
    folder = os.path.dirname(os.path.abspath(path))
    fd, part = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=f".part{suffix}",
                                dir=folder)
    os.close(fd)
    try:
        if suffix == ".svg":
            render_svg(widget, part, title)
        elif not widget.grab().save(part, "PNG"):
            raise OSError(f"{path}: the image could not be written")
        _usual_mode(part)
        os.replace(part, path)
    finally:
        if os.path.exists(part):
            os.unlink(part)


def _usual_mode(path: str) -> None:
    """The permissions a plain open() would have given (mkstemp makes files private)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def with_suffix(path: str, suffix: str) -> str:
    """``path``, with ``suffix`` added when it has none."""
    return path if os.path.splitext(path)[1] else path + suffix


def guard(window, what: str, action) -> bool:
    """Run ``action``; a failure is shown in a message box and the status bar."""
    try:
        action()
    except (OSError, ValueError) as e:
        window.statusBar().showMessage(f"{what} failed: {e}", 10000)
        QMessageBox.warning(window, f"{what} failed", str(e))
        return False
    return True


def ask_save(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Save experiment",
                                          f"{window.layout}.toml", TOML_FILTER)
    if path:
        guard(window, "Save", lambda: window.save_experiment(with_suffix(path, ".toml")))


def ask_open(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open experiment", "", TOML_FILTER)
    if path:
        guard(window, "Open", lambda: window.open_experiment(path))


def ask_export(window, panel: str | None = None) -> None:
    """The window (``panel`` None) or one panel, to a PNG or SVG file the user names."""
    default = f"{panel or window.layout}.png"
    path, chosen = QFileDialog.getSaveFileName(window, "Export", default, EXPORT_FILTER)
    if not path:
        return
    path = with_suffix(path, ".svg" if "svg" in chosen.lower() else ".png")
    if panel is None:
        guard(window, "Export", lambda: window.export_window(path))
    else:
        guard(window, "Export", lambda: window.export_panel(panel, path))


def _item(menu: QMenu, text: str, keys: str, slot) -> None:
    # the key is shown, not bound: the window's LectureKeys serve it whatever has focus
    menu.addAction(f"{text}\t{keys}", slot)


def build_menus(window) -> QMenu:
    """File, View and Help menus on ``window``'s menu bar; returns the "Export panel" menu
    (filled with the shown panels each time it opens)."""
    bar = window.menuBar()
    file = bar.addMenu("&File")
    _item(file, "Open experiment…", "Ctrl+O", window.ask_open)
    _item(file, "Save experiment…", "Ctrl+S", window.ask_save)
    file.addSeparator()
    _item(file, "Export window…", "Ctrl+E", window.ask_export)
    panels = file.addMenu("Export panel")

    def fill():
        panels.clear()
        for p in window.panels:
            panels.addAction(p.name, lambda n=p.name: ask_export(window, n))

    panels.aboutToShow.connect(fill)
    panels.fill = fill
    _item(file, "Copy as Scene snippet", "Ctrl+Shift+C", window.copy_scene_snippet)
    view = bar.addMenu("&View")
    for i, lay in enumerate(LAYOUTS.values(), start=1):
        _item(view, lay.title, str(i), lambda n=lay.name: window.set_layout(n))
    view.addSeparator()
    _item(view, "Animate forward, then back", "A", window.animate)
    _item(view, "Dark / light theme", "T", window.toggle_theme)
    _item(view, "Hide controls", "H", window.toggle_controls)
    _item(view, "Full screen", "F", window.toggle_fullscreen)
    _item(view, "Larger type", "Ctrl++", lambda: window.zoom(+1))
    _item(view, "Smaller type", "Ctrl+-", lambda: window.zoom(-1))
    _item(view, "Type as the window", "Ctrl+0", lambda: window.zoom(0))
    _item(view, "Reset the experiment", "R", window.reset)
    bar.addMenu("&Help").addAction("Explain the quantities\t?", window.toggle_help)
    return panels
