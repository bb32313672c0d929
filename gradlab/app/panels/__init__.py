"""The lab's views: one module per panel, each a ``Panel`` (see ``base``), and ``PANELS``,
the registry that maps a panel's name (as used by ``gradlab.layouts``) to its class."""

from types import MappingProxyType

from .base import Panel

PANELS: MappingProxyType = MappingProxyType({})  # filled as panels are ported


def get_panel(name: str) -> type[Panel]:
    if name not in PANELS:
        raise ValueError(f"panel {name!r} is not one of {list(PANELS)}")
    return PANELS[name]


__all__ = ["PANELS", "Panel", "get_panel"]
