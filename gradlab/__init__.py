"""gradlab: watch gradients vanish and explode in recurrent networks.

The core (this package, without ``gradlab.app``) never imports Qt. Public API:
Params, init_params, from_torch, to_torch, forward, backward, step_jacobians,
LabConfig, Lab, Snapshot.
"""

from .config import LabConfig
from .init import init_params, recurrent_matrix
from .lab import Lab, Snapshot
from .ops import Grads, Trace, backward, forward, step_jacobians
from .params import Params, from_torch, to_torch

__all__ = [
    "Grads", "Lab", "LabConfig", "Params", "Snapshot", "Trace", "backward", "forward",
    "from_torch", "init_params", "recurrent_matrix", "step_jacobians", "to_torch",
]
