"""Lecture scene: sweep the spectral radius of a tanh RNN from 0.8 to 1.2, then redo it linear.

Run it live with ``gradlab play scenes/vanishing_exploding.py`` or render it with
``gradlab render scenes/vanishing_exploding.py -o out.mp4`` (about 25 s at 30 fps).

What it shows: backpropagating l steps multiplies the gradient by l step Jacobians
diag(phi'(.)) W, so its size goes roughly like rho(W)^l: it vanishes below radius 1 and
explodes above. With tanh, saturated units (phi' < 1) damp the growth; with a linear
activation the gradient follows the rho^l reference line exactly.
"""

from gradlab.config import LabConfig
from gradlab.scene import Scene


class VanishingExploding(Scene):
    """0.8 -> 1.0 -> 1.2 with tanh, then 1.2 -> 0.8 with a linear activation."""

    config = LabConfig(cell="rnn", activation="tanh", hidden=32, steps=60,
                       init="orthogonal", spectral_radius=0.8)
    seed = 0
    fps = 30
    size = (1280, 720)

    def construct(self):
        # captions: one line at 1280x720 in the lab's caption font (<= 55 characters)
        self.caption("Each step back applies the step Jacobian diag(φ′)·W")
        self.wait(2.5)
        self.caption("So at lag l it scales like ρˡ (ρ: spectral radius of W)")
        self.wait(2.5)
        self.caption("ρ = 0.8 < 1: it shrinks geometrically and vanishes")
        self.wait(2)
        self.caption("Lecture example: 0.5¹⁰ ≈ 0.00098 after just ten steps")
        self.wait(2)

        self.caption("Raise ρ to 1: the gradient survives many steps back")
        self.animate(duration=2.5, spectral_radius=1.0)
        self.caption("Past ρ = 1 the gradient from far back starts to grow")
        self.animate(duration=2.5, spectral_radius=1.2)
        self.caption("Lecture example: 1.5¹⁰ ≈ 57.7, ten steps amplify ~58×")
        self.wait(2)
        self.caption("tanh saturates (φ′ < 1) and holds growth below ρˡ")
        self.wait(2)

        self.set(activation="linear")
        self.caption("Linear activation, φ′ = 1: the gradient follows ρˡ")
        self.wait(2)
        self.animate(duration=2.5, spectral_radius=0.8)
        self.caption("ρ > 1 explodes, ρ < 1 vanishes, ρ ≈ 1 keeps memory")
        self.wait(2)
