"""Lecture scene: clipping caps the step but does nothing for vanishing gradients.

Run it live with ``gradlab play scenes/clipping.py`` or render it with
``gradlab render scenes/clipping.py -o clipping.mp4``.

What it shows: clipping by global norm rescales the whole gradient, g ← g · min(1, c/‖g‖).
An exploding gradient (radius above 1) is cut down to norm c in the same direction; a
vanishing one is far below any threshold and passes untouched, still vanished.
"""

from gradlab.config import LabConfig
from gradlab.scene import Scene


class Clipping(Scene):
    """Exploding RNN with the threshold lowered, then the vanishing regime."""

    config = LabConfig(cell="rnn", hidden=32, steps=60, spectral_radius=1.3, clip=0.0)
    layout = "clipping"
    seed = 0

    def construct(self):
        self.caption("ρ = 1.3: the gradient explodes with the lag")
        self.wait(2.5)
        self.caption("Clip by global norm: g ← g · min(1, c / ‖g‖)")
        self.animate(duration=3.0, clip=5.0)
        self.caption("The step is capped; its direction is kept")
        self.wait(2.5)
        self.caption("ρ = 0.8: vanishing gradients are below any threshold")
        self.animate(duration=3.0, spectral_radius=0.8)
        self.caption("Clipping cannot bring them back")
        self.wait(2.5)
