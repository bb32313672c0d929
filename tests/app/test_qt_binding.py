"""The Qt binding itself must not leak references to None (PySide6 6.12.0 on Python 3.11 does).

That release drops one reference to None on every call of a void method (setText, resize,
...). On Python < 3.12 None is not immortal, so a lab that redraws for a minute runs None's
count down to zero and aborts ("Fatal Python error: none_dealloc"), mid-lecture or at exit.
This test names the cause instead of leaving a bare abort.
"""

import gc
import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_do_not_drop_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("ρ = 1.00")
    gc.collect()
    lost = before - sys.getrefcount(None)
    assert lost < 100, (
        f"the Qt binding lost {lost} references to None in 1000 QLabel.setText calls: "
        "this PySide6 build (6.12.0 on Python 3.11) crashes long sessions; "
        "install PySide6-Essentials < 6.12 or use Python >= 3.12")
