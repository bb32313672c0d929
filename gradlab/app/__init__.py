"""gradlab.app: the Qt desktop lab (PySide6 + pyqtgraph). The only package that imports Qt.

``run(config, theme)`` opens the lab and returns the exit code. Importing this package is
cheap: Qt, pyqtgraph and the window are imported inside ``run``, and nothing is computed
(kernels compile lazily, in the worker thread, after the window is up).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradlab.config import LabConfig

__all__ = ["run"]


def run(config: LabConfig | None = None, theme: str = "dark", layout: str | None = None) -> int:
    """Create the QApplication, show a LabWindow for ``config`` (in layout ``layout``, a name
    from ``gradlab.layouts.LAYOUTS``; the first when None) and run the event loop."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from .window import LabWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("gradlab")
    pg.setConfigOptions(antialias=True)
    window = LabWindow(config, theme=theme, layout=layout)
    app.aboutToQuit.connect(window.worker.stop)
    window.show()
    return app.exec()
