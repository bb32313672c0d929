"""Themes for the lab: colours, colour maps and font sizes for a projector (dark) or print (light).

A Theme is a frozen value; nothing here touches Qt or pyqtgraph state at import time.
Panels read a Theme in ``apply_theme(theme)`` and restyle their existing items in place.
Sizes are in points and were chosen at 1280x720 (the video export size) for the back row;
``Theme.scaled(factor)`` gives the sizes for a larger window or a zoomed one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette


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
    subtitle_pt: int = 13
    summary_pt: int = 19
    control_pt: int = 13
    rho_pt: int = 34
    help_pt: int = 15  # the ? overlay's text
    help_title_pt: int = 22
    menu_pt: int = 12
    line_width: float = 4.0
    ref_width: float = 3.0
    grid_alpha: float = 0.25

    def scaled(self, factor: float) -> Theme:
        """The same theme with every font size (and line width) times ``factor``: type
        follows the window's size and the presenter's Ctrl+/Ctrl- zoom."""
        sizes = {f.name: max(6, round(getattr(self, f.name) * factor))
                 for f in dataclasses.fields(self) if f.name.endswith("_pt")}
        widths = {k: max(1.0, getattr(self, k) * min(factor, 2.0))
                  for k in ("line_width", "ref_width")}
        return dataclasses.replace(self, **sizes, **widths)


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


def rgba(color: str, alpha: float) -> str:
    """'rgba(r, g, b, a)' for a '#rrggbb' colour and alpha in [0, 1] (Qt reads '#aarrggbb',
    not '#rrggbbaa', and wants a in 0..255)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {round(255 * alpha)})"


def stylesheet(t: Theme) -> str:
    """Qt style sheet for the window chrome and the control column (plots style themselves).

    Input widgets keep the Fusion look (with their arrows) and take colours from ``palette``;
    the sheet only sets text sizes and the labels' colours.
    """
    return f"""
    QMainWindow, QWidget#central {{ background: {t.background}; }}
    QScrollArea#controls_scroll, QWidget#controls {{ background: {t.panel}; border: none; }}
    QWidget#controls QLabel {{ color: {t.foreground}; font-size: {t.control_pt}pt; }}
    QWidget#controls QLabel:disabled {{ color: {t.muted}; }}
    QWidget#controls QLabel#rho_title {{ color: {t.muted}; font-size: {t.control_pt}pt; }}
    QWidget#controls QLabel#rho_value {{ color: {t.accent}; font-size: {t.rho_pt}pt;
        font-weight: bold; }}
    QWidget#controls QLabel#value {{ min-width: {3 * t.control_pt}px; }}
    QWidget#controls QLabel#note {{ color: {t.muted}; font-size: {t.control_pt - 2}pt; }}
    QWidget#controls QLabel#help {{ color: {t.muted}; font-size: {t.control_pt - 2}pt; }}
    QComboBox#layout {{ font-size: {t.control_pt + 1}pt; font-weight: bold; }}
    QLabel#caption {{ color: {t.foreground}; background: {t.panel};
        font-size: {t.caption_pt}pt; font-weight: bold; padding: 6px 14px; }}
    QLabel#summary {{ color: {t.foreground}; font-size: {t.summary_pt}pt; padding: 2px 10px; }}
    QLabel#overlay {{ color: {t.foreground}; background: {t.background};
        font-size: {t.help_pt}pt; padding: 18px 28px; border: 2px solid {t.accent}; }}
    QComboBox, QSpinBox, QDoubleSpinBox, QPushButton {{ font-size: {t.control_pt}pt; }}
    QMenuBar {{ font-size: {t.menu_pt}pt; background-color: {t.panel}; color: {t.foreground}; }}
    QMenu {{ font-size: {t.menu_pt}pt; background-color: {t.panel}; color: {t.foreground}; }}
    QMenuBar::item:selected, QMenu::item:selected {{ background: {t.accent};
        color: {t.background}; }}
    QSlider {{ min-height: {max(24, 2 * t.control_pt)}px; }}
    QSlider::groove:horizontal {{ height: 8px; background: {t.muted}; border-radius: 4px; }}
    QSlider::handle:horizontal {{ background: {t.accent}; width: {max(18, t.control_pt + 8)}px;
        margin: -8px 0; border-radius: {max(9, (t.control_pt + 8) // 2)}px; }}
    QSlider::handle:horizontal:disabled {{ background: {t.muted}; }}
    QStatusBar, QStatusBar QLabel {{ color: {t.muted}; background: {t.panel};
        font-size: {t.control_pt - 2}pt; }}
    """


def palette(t: Theme):
    """A QPalette in the theme's colours for the input widgets (Fusion style draws with it)."""
    p = QPalette()
    role = QPalette.ColorRole
    for r, c in ((role.Window, t.panel), (role.WindowText, t.foreground),
                 (role.Base, t.background), (role.AlternateBase, t.panel),
                 (role.Text, t.foreground), (role.Button, t.panel),
                 (role.ButtonText, t.foreground), (role.Highlight, t.accent),
                 (role.HighlightedText, t.background), (role.ToolTipBase, t.panel),
                 (role.ToolTipText, t.foreground), (role.PlaceholderText, t.muted),
                 (role.Mid, t.muted), (role.Dark, t.muted), (role.Light, t.panel)):
        p.setColor(r, QColor(c))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(t.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(t.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(t.muted))
    return p


def superscript_power(k: int) -> str:
    """'10⁻⁸' for k = -8, '1' for k = 0 (log-axis tick labels)."""
    if k == 0:
        return "1"
    if k == 1:
        return "10"
    return "10" + str(k).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


# -- pyqtgraph styling helpers (restyle existing items; create nothing per frame) -----------

def pen(color: str, width: float, dashed: bool = False):
    """A cosmetic pen; dashed pens use long dashes that stay visible on a projector."""
    p = pg.mkPen(color, width=width)
    if dashed:
        p.setStyle(Qt.PenStyle.CustomDashLine)
        p.setDashPattern([3.0, 2.0])
    return p


def qfont(t: Theme, pt: int, bold: bool = False) -> QFont:
    font = QFont(t.font, pt)
    font.setBold(bold)
    return font


def tick_font(t: Theme) -> QFont:
    return qfont(t, t.tick_pt)


def style_axis(axis, t: Theme, label: str | None = None) -> None:
    """Large tick labels, theme colours, optional axis label."""
    axis.setPen(pg.mkPen(t.foreground, width=1.5))
    axis.setTextPen(pg.mkPen(t.foreground))
    axis.setStyle(tickFont=tick_font(t), tickTextOffset=6, tickLength=-8)
    if label is not None:
        axis.setLabel(label, color=t.foreground, **{"font-size": f"{t.label_pt}pt"})


def style_plot(plot, t: Theme, *, title: str, x: str, y: str) -> None:
    """Title, both axis labels, tick fonts and grid of a PlotItem in theme ``t``."""
    plot.setTitle(title, color=t.foreground, size=f"{t.title_pt}pt")
    style_axis(plot.getAxis("bottom"), t, x)
    style_axis(plot.getAxis("left"), t, y)
    plot.showGrid(x=True, y=True, alpha=t.grid_alpha)


def style_legend(legend, t: Theme) -> None:
    legend.setLabelTextColor(t.foreground)
    legend.setLabelTextSize(f"{t.legend_pt}pt")
    legend.setBrush(pg.mkBrush(t.panel + "d0"))
    legend.setPen(pg.mkPen(t.muted, width=1))
    for _, label in legend.items:  # LabelItem only re-renders on setText
        label.setText(label.text)
