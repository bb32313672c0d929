"""The "?" overlay: what the quantities in the lab mean, with their formulas, in large type.

``help_html(theme)`` returns rich text for a QLabel: a heading, three columns of short
explanations (the loss and the lag; why gradients vanish or explode; what the gated and leaky
cells, the spectra and clipping change) and the keys. The mathematics follows the lecture
notes; the wording is the lab's own.
"""

from __future__ import annotations

from .theme import Theme

SECTIONS = (
    (
        ("What L is",
         "The loss the lab differentiates: L = g·h<sub>T</sub> (loss on the last step) or "
         "L = Σ<sub>t</sub> g·h<sub>t</sub> (every step), g a fixed random direction."),
        ("What a lag is",
         "How far back from the end: lag l is the state h<sub>T−l</sub>. The gradient view "
         "draws ‖∂L/∂h<sub>T−l</sub>‖ against l on a log scale, so steady decay is a "
         "straight line."),
        ("Backpropagation through time",
         "Each step back multiplies by the step Jacobian J<sub>t</sub> = ∂h<sub>t</sub>/∂h"
         "<sub>t−1</sub> = diag(φ′(a<sub>t</sub>))·W; l steps back: a product of l of them."),
    ),
    (
        ("ρ<sup>l</sup>",
         "With φ linear every factor is W, and W<sup>l</sup> = QΛ<sup>l</sup>Q<sup>−1</sup>: "
         "directions with |λ| &lt; 1 vanish, |λ| &gt; 1 explode. ρ = max|λ| sets the rate: "
         "0.5<sup>10</sup> ≈ 0.001, 1.5<sup>10</sup> ≈ 58."),
        ("Why tanh and relu fall below ρ<sup>l</sup>",
         "φ′ ≤ 1 (tanh′ = 1 − tanh², relu′ is 0 or 1): every step back also multiplies by a "
         "diagonal of numbers at most 1, so saturated or dead units shrink the gradient "
         "further at each step."),
        ("Clipping",
         "If ‖g‖ &gt; v then g ← v·g/‖g‖: the direction is kept and an exploding update is "
         "tamed, but a gradient that has vanished is not brought back."),
    ),
    (
        ("LSTM: the forget-gate product",
         "c<sub>t</sub> = f<sub>t</sub>⊙c<sub>t−1</sub> + i<sub>t</sub>⊙g<sub>t</sub>, so "
         "∂c<sub>t</sub>/∂c<sub>t−1</sub> = diag(f<sub>t</sub>): l steps back give "
         "f<sub>T</sub>⋯f<sub>T−l+1</sub>. At σ(0) = 0.5 that halves each step; a forget "
         "bias pushes f towards 1 and the highway reaches further (GRU: the update gate z)."),
        ("Leaky units",
         "h<sub>t</sub> = (1 − a)h<sub>t−1</sub> + a·φ(Wh<sub>t−1</sub> + Ux<sub>t</sub>), "
         "a = 1/γ. The linear step (1 − a)I + aW has eigenvalues 1 − a + aλ: a small leak "
         "pulls them towards 1, and memory lasts about 1/a times longer."),
        ("Singular values of the Jacobian",
         "σ<sub>1</sub> ≥ σ<sub>2</sub> ≥ … of ∂h<sub>T</sub>/∂h<sub>T−l</sub>: how much "
         "each direction is stretched over l steps; σ<sub>1</sub> ≤ ∏ σ<sub>max</sub>(D<sub>k"
         "</sub>)·σ<sub>max</sub>(W). Lyapunov exponents: the average log stretch per step."),
    ),
)

KEYS = ("← → [ ] ρ ± 0.01 · ↑ ↓ PgUp PgDn ρ ± 0.05 · 1–7 topic · A animate · "
        "G or Space train (attention: ↑ ↓ step the decoding) · "
        "T theme · R reset · H hide controls · F full screen · Ctrl+ / Ctrl− type size · "
        "Ctrl+S save · Ctrl+O open · Ctrl+E export · ? or Esc closes this")


def help_html(theme: Theme) -> str:
    """The overlay's rich text in ``theme``'s colours and sizes."""
    head = (f"<div style='font-size:{theme.help_title_pt}pt; font-weight:bold; "
            f"color:{theme.accent}'>What the lab shows</div>")
    cols = []
    for column in SECTIONS:
        parts = [f"<p style='margin-bottom:10px'><span style='color:{theme.accent}; "
                 f"font-weight:bold'>{title}</span><br>{text}</p>" for title, text in column]
        cols.append(f"<td width='33%' valign='top' style='padding-right:22px'>"
                    f"{''.join(parts)}</td>")
    table = (f"<table width='100%' cellspacing='0' style='font-size:{theme.help_pt}pt'>"
             f"<tr>{''.join(cols)}</tr></table>")
    keys = (f"<div style='color:{theme.muted}; font-size:{max(8, theme.help_pt - 3)}pt'>"
            f"{KEYS}</div>")
    return head + table + keys
