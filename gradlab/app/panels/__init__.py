"""The lab's views: one module per panel, each a ``Panel`` (see ``base``), and ``PANELS``,
the registry that maps a panel's name (as used by ``gradlab.layouts``) to its class.

Adding a view: one measure under ``gradlab/measures/``, one module here that defines
``PANEL = YourPanel``, and its name in ``_MODULES``.
"""

from importlib import import_module
from types import MappingProxyType

from .base import Panel

_MODULES = ("gradient", "flow", "states", "gates", "eigen", "spectrum", "leaky", "cells",
            "alignment", "training", "encgrad", "cliff", "descent", "clipnorm")


def _registry() -> MappingProxyType:
    panels = {}
    for module in _MODULES:
        try:
            cls = import_module(f".{module}", __name__).PANEL
        except (ModuleNotFoundError, AttributeError):  # not ported yet (transition only)
            continue
        panels[cls.name] = cls
    return MappingProxyType(panels)


PANELS: MappingProxyType = _registry()


def get_panel(name: str) -> type[Panel]:
    if name not in PANELS:
        raise ValueError(f"panel {name!r} is not one of {list(PANELS)}")
    return PANELS[name]


__all__ = ["PANELS", "Panel", "get_panel"]
