"""Themes for the lab: colours, colour maps and font sizes for a projector (dark) or print (light).

A Theme is a frozen value; nothing here touches Qt or pyqtgraph state at import time.
Panels read a Theme in ``apply_theme(theme)`` and restyle their existing items in place.
Sizes are in points and were chosen at 1280x720 (the video export size) for the back row.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """Colours (hex strings) and font sizes (points) shared by every panel and the controls."""

    name: str
    background: str  # plot and window background
    panel: str  # control column background
    foreground: str  # axes, ticks, text
    muted: str  # secondary text, grid, unit circle
    grad: str  # the measured gradient-norm curve
    reference: str  # the rho^l line and the |lambda| = rho circle
    eig: str  # eigenvalue markers
    overflow: str  # inf/nan: heatmap cells, overflow line and label
    accent: str  # the large rho readout and the slider handle
    cmap: str  # diverging pyqtgraph colour map name (CET set, bundled with pyqtgraph)
    font: str = "DejaVu Sans"
    tick_pt: int = 15
    label_pt: int = 17
    title_pt: int = 19
    legend_pt: int = 16
    caption_pt: int = 26
    summary_pt: int = 19
    control_pt: int = 13
    rho_pt: int = 34
    line_width: float = 4.0
    ref_width: float = 3.0
    grid_alpha: float = 0.25


DARK = Theme(
    name="dark",
    background="#101318",
    panel="#181c23",
    foreground="#e9edf2",
    muted="#8a94a3",
    grad="#4fc3f7",
    reference="#ffb74d",
    eig="#4fc3f7",
    overflow="#ffe600",
    accent="#ffb74d",
    cmap="CET-D4",  # blue - black - red: zero blends into the dark background
)

LIGHT = Theme(
    name="light",
    background="#ffffff",
    panel="#f1f3f6",
    foreground="#15191f",
    muted="#6b7480",
    grad="#0d47a1",
    reference="#d84315",
    eig="#0d47a1",
    overflow="#00c853",
    accent="#d84315",
    cmap="CET-D1",  # blue - white - red: zero is the paper colour
)

THEMES = {"dark": DARK, "light": LIGHT}


def get_theme(name: str) -> Theme:
    """The Theme called ``name`` ('dark' or 'light'); ValueError otherwise."""
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"theme={name!r} is not one of {sorted(THEMES)}") from None


def other(name: str) -> str:
    """The theme a toggle switches to."""
    return "light" if name == "dark" else "dark"


def stylesheet(t: Theme) -> str:
    """Qt style sheet for the window chrome and the control column (plots style themselves)."""
    return f"""
    QMainWindow, QWidget#central {{ background: {t.background}; }}
    QWidget#controls {{ background: {t.panel}; }}
    QWidget#controls QLabel, QWidget#controls QCheckBox {{
        color: {t.foreground}; font-size: {t.control_pt}pt; }}
    QLabel#rho_value {{ color: {t.accent}; font-size: {t.rho_pt}pt; font-weight: bold; }}
    QLabel#leak_value {{ color: {t.foreground}; font-size: {t.control_pt + 2}pt; }}
    QLabel#help {{ color: {t.muted}; font-size: {t.control_pt - 2}pt; }}
    QLabel#caption {{ color: {t.foreground}; background: {t.panel};
        font-size: {t.caption_pt}pt; font-weight: bold; padding: 6px 14px; }}
    QLabel#summary {{ color: {t.foreground}; font-size: {t.summary_pt}pt; padding: 2px 10px; }}
    QComboBox, QSpinBox, QDoubleSpinBox, QPushButton {{
        color: {t.foreground}; background: {t.background}; border: 1px solid {t.muted};
        border-radius: 4px; padding: 3px 6px; font-size: {t.control_pt}pt; min-height: 1.6em; }}
    QComboBox QAbstractItemView {{ color: {t.foreground}; background: {t.background};
        selection-background-color: {t.muted}; }}
    QPushButton:hover {{ border-color: {t.accent}; }}
    QSlider::groove:horizontal {{ height: 8px; background: {t.muted}; border-radius: 4px; }}
    QSlider::handle:horizontal {{ background: {t.accent}; width: 22px; margin: -8px 0;
        border-radius: 11px; }}
    QStatusBar {{ color: {t.muted}; background: {t.panel}; font-size: {t.control_pt - 1}pt; }}
    QToolTip {{ color: {t.foreground}; background: {t.panel}; border: 1px solid {t.muted};
        font-size: {t.control_pt}pt; }}
    """
