"""Lecture scene: leaky units keep a share of their past and remember longer.

Run it live with ``gradlab play scenes/leaky_units.py`` or render it with
``gradlab render scenes/leaky_units.py -o leaky.mp4``.

What it shows: a leaky unit updates h_t = (1 − a) h_{t−1} + a φ(W h_{t−1} + U x_t), with
time constant γ = 1/a. Its linearised step is (1 − a) I + a W diag(φ′), whose eigenvalues
1 − a + a λ move towards 1 as a shrinks, so the gradient decays more slowly and the memory
horizon (where it has fallen a thousandfold) moves further back.
"""

from gradlab.config import LabConfig
from gradlab.scene import Scene


class LeakyUnits(Scene):
    """Leak 1 -> 0.05 at radius 0.8, then a spread of time constants."""

    config = LabConfig(cell="rnn", hidden=32, steps=200, spectral_radius=0.8, leak=1.0)
    layout = "leaky"
    seed = 0

    def construct(self):
        self.caption("Leaky unit: hₜ = (1 − a) hₜ₋₁ + a φ(·), γ = 1/a")
        self.wait(2.5)
        self.caption("a = 1 is the plain RNN: at ρ = 0.8 memory is short")
        self.wait(2.5)
        self.caption("Lower the leak: eigenvalues 1 − a + aλ slide towards 1")
        self.animate(duration=4.0, leak=0.05)
        self.caption("The memory horizon moves far back")
        self.wait(2.5)
        self.set(leak_spread="log-uniform")
        self.caption("A spread of time constants: fast and slow units together")
        self.wait(3.0)
