"""LectureKeys: the lab's keys, served whatever widget of the window has focus.

An event filter on every widget of the window (``install``) and the window's own
keyPressEvent hand key presses here. The lecture keys work on sliders, combo boxes, buttons
and plots alike (a combo box would otherwise pick an item by its letter, a plot scroll on the
arrows). In a spin box, digits, arrows and editing keys stay with the spin box (typing a
number; arrows too, while a number is being typed), Enter commits it and Esc forgets it, and
both hand the keys back to the window; letters, Ctrl combinations, and the arrows when no
number is being typed are the window's there too (↑ moves ρ, not the number of steps).
A key that an enabled QShortcut of the window also binds (the scene player's, while it
plays) is left to the shortcut.

    ← → [ ]  ρ ± 0.01        ↑ ↓ PageUp PageDown  ρ ± 0.05        1..N  layouts
    A animate   T theme   R reset   H hide controls   F / F11 full screen   Esc leave it
    ? explanations   Ctrl+S save   Ctrl+O open   Ctrl+E export   Ctrl+Shift+C Scene snippet
    Ctrl+ / Ctrl− / Ctrl+0  type size
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QMenu, QMenuBar, QWidget

from gradlab.layouts import LAYOUTS

K = Qt.Key
# keys that type into a spin box (they always stay with it)
TYPING_KEYS = frozenset({K.Key_Home, K.Key_End, K.Key_Backspace, K.Key_Delete, K.Key_Minus,
                         K.Key_Plus, K.Key_Period, K.Key_Comma, K.Key_Tab, K.Key_Backtab,
                         *(getattr(K, f"Key_{d}") for d in range(10))})
# keys a spin box keeps only while a number is being typed (else they move rho)
EDITING_KEYS = frozenset({K.Key_Up, K.Key_Down, K.Key_Left, K.Key_Right, K.Key_PageUp,
                          K.Key_PageDown})


def key_table(w) -> dict[tuple, Callable[[], None]]:
    """(key, ctrl held) -> action of LabWindow ``w``."""
    table = {
        (K.Key_Right, False): lambda: w.nudge_rho(+0.01),
        (K.Key_BracketRight, False): lambda: w.nudge_rho(+0.01),
        (K.Key_Left, False): lambda: w.nudge_rho(-0.01),
        (K.Key_BracketLeft, False): lambda: w.nudge_rho(-0.01),
        (K.Key_Up, False): lambda: w.nudge_rho(+0.05),
        (K.Key_PageUp, False): lambda: w.nudge_rho(+0.05),  # presenter clickers send these
        (K.Key_Down, False): lambda: w.nudge_rho(-0.05),
        (K.Key_PageDown, False): lambda: w.nudge_rho(-0.05),
        (K.Key_T, False): w.toggle_theme,
        (K.Key_R, False): w.reset,
        (K.Key_F, False): w.toggle_fullscreen,
        (K.Key_F11, False): w.toggle_fullscreen,
        (K.Key_Escape, False): w.escape,
        (K.Key_H, False): w.toggle_controls,
        (K.Key_A, False): w.animate,
        (K.Key_Question, False): w.toggle_help,
        (K.Key_S, True): w.ask_save,
        (K.Key_O, True): w.ask_open,
        (K.Key_E, True): w.ask_export,
        (K.Key_C, True): w.copy_scene_snippet,  # with Shift: Ctrl+C alone copies text
        (K.Key_Plus, True): lambda: w.zoom(+1),
        (K.Key_Equal, True): lambda: w.zoom(+1),
        (K.Key_Minus, True): lambda: w.zoom(-1),
        (K.Key_0, True): lambda: w.zoom(0),
    }
    for i, name in enumerate(LAYOUTS, start=1):
        if i <= 9:
            table[(getattr(K, f"Key_{i}"), False)] = lambda n=name: w.set_layout(n)
    return table


def spin_box_of(widget: QWidget) -> QAbstractSpinBox | None:
    """The spin box ``widget`` is (or is inside), else None."""
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        widget = widget.parentWidget()
    return None


class LectureKeys(QObject):
    """Serves the keys of ``window`` (a LabWindow); ``install(widget)`` watches a widget and
    its children."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.table = key_table(window)

    def install(self, widget: QWidget) -> None:
        for w in (widget, *widget.findChildren(QWidget)):
            w.installEventFilter(self)

    def action(self, event: QKeyEvent):
        mods = event.modifiers()
        mod = Qt.KeyboardModifier
        if mods & (mod.AltModifier | mod.MetaModifier):
            return None
        ctrl = bool(mods & mod.ControlModifier)
        shift = bool(mods & mod.ShiftModifier)
        if ctrl and event.key() == K.Key_C and not shift:
            return None
        if ctrl and shift and event.key() not in (K.Key_C, K.Key_Plus, K.Key_Equal):
            return None
        return self.table.get((event.key(), ctrl))

    def handle(self, event: QKeyEvent, watched: QWidget) -> bool:
        """Serve ``event``, delivered to ``watched``, if it is a lecture key there; True if
        it was taken."""
        focus = QApplication.focusWidget()
        spin = spin_box_of(watched)
        if focus is not None and focus.window() is self.window and focus is not watched:
            # the focus widget ignored the key and it travels up to the parents: it is ours
            # only if the focus is not typing in a spin box (a spin box at its maximum
            # ignores ↑, which must not move ρ)
            if spin_box_of(focus) is not None and spin_box_of(focus) is not spin:
                return False
        if spin is not None:
            key = event.key()
            if key in (K.Key_Return, K.Key_Enter):
                spin.interpretText()  # commit what was typed
                self._leave(spin)
                return True
            if key == K.Key_Escape:
                spin.setValue(spin.value())  # forget what was typed
                self._leave(spin)
                return True
            if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                edit = spin.lineEdit()
                typing = edit is not None and edit.isModified()
                if key in TYPING_KEYS or (typing and key in EDITING_KEYS):
                    return False
        action = self.action(event)
        if action is None or self._shortcut_owns(event):
            return False
        action()
        return True

    def _leave(self, spin: QAbstractSpinBox) -> None:
        if spin.lineEdit() is not None:
            spin.lineEdit().setModified(False)  # no number is being typed any more
        spin.clearFocus()
        self.window.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _shortcut_owns(self, event: QKeyEvent) -> bool:
        combo = QKeySequence(event.keyCombination()).toString()
        return any(sc.isEnabled() and sc.key().toString() == combo
                   for sc in self.window.findChildren(QShortcut))

    def eventFilter(self, watched, event):  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QWidget) \
                and watched.window() is self.window \
                and not isinstance(watched, QMenu | QMenuBar):
            if self.handle(event, watched):
                return True
        return False
