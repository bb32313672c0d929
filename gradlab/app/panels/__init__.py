"""The lab's views. Each panel owns one pyqtgraph widget (``.widget``), creates its plot items
once, and has ``show(snapshot)`` (update items in place) and ``apply_theme(theme)``."""

from .eigen import EigenPanel
from .gradient import GradientPanel
from .hidden import HiddenStatesPanel

__all__ = ["EigenPanel", "GradientPanel", "HiddenStatesPanel"]
