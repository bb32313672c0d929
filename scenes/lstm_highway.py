"""Lecture scene: the LSTM's forget gate opens a highway for the gradient.

Run it live with ``gradlab play scenes/lstm_highway.py`` or render it with
``gradlab render scenes/lstm_highway.py -o highway.mp4``.

What it shows: along the cell state the LSTM's step Jacobian is (mostly) diag(f_t), so a
gradient l steps back is scaled by the product of the forget gates on the way. At the
usual start the forget bias is 0 and f sits near sigmoid(0) = 0.5: the product halves
every step and the LSTM forgets faster than a tanh RNN at radius 1. Raising the forget
bias pushes f towards 1 and the gradient reaches far back. (Not all the way: with f at
sigma(6) = 0.998 the cell state piles up to |c| of 30 and more, tanh(c) saturates, and the
path from h into c closes again; around sigma(3) = 0.95 the highway is open.)
"""

from gradlab.config import LabConfig
from gradlab.scene import Scene


class LSTMHighway(Scene):
    """Forget bias 0 -> 2 -> 3 in the gates layout."""

    config = LabConfig(cell="lstm", hidden=32, steps=100, spectral_radius=1.0, gate_bias=0.0)
    layout = "gates"
    seed = 0

    def construct(self):
        self.caption("LSTM: the cell state carries cₜ = fₜ cₜ₋₁ + iₜ gₜ")
        self.wait(2.5)
        self.caption("Back along c, each step multiplies by the forget gate f")
        self.wait(2.5)
        self.caption("Forget bias 0: f ≈ σ(0) = 0.5, so the gradient halves")
        self.wait(2.5)
        self.caption("Raise the forget bias: f → 1 opens the highway")
        self.animate(duration=3.0, gate_bias=2.0)
        self.wait(1.5)
        self.animate(duration=2.0, gate_bias=3.0)
        self.caption("Bias 3: f ≈ 0.95, the gradient reaches 100 steps back")
        self.wait(2.5)
