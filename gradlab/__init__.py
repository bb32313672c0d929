"""gradlab: watch gradients vanish and explode in recurrent networks.

The core (this package, without ``gradlab.app``) never imports Qt. Public API: Params,
init_params, from_torch, to_torch, forward, backward, step_jacobians, jacobian_spectrum,
lyapunov_spectrum, clipping, attention, readouts and losses, LabConfig, Lab, Snapshot.
"""

from .attention import attend, attend_backward, attention_params
from .clip import clip_by_global_norm, clip_by_value, global_norm
from .config import LabConfig
from .init import init_params, matrix_from_eigenvalues, recurrent_matrix
from .lab import Lab, Snapshot
from .ops import backward, forward, step_jacobians
from .params import Params, from_torch, to_torch
from .readout import cross_entropy, mean_squared_error, readout_params
from .spectra import jacobian_spectrum, lyapunov_spectrum
from .trace import Grads, Trace

__all__ = [
    "Grads", "Lab", "LabConfig", "Params", "Snapshot", "Trace", "attend", "attend_backward",
    "attention_params", "backward", "clip_by_global_norm", "clip_by_value", "cross_entropy",
    "forward", "from_torch", "global_norm", "init_params", "jacobian_spectrum",
    "lyapunov_spectrum", "matrix_from_eigenvalues", "mean_squared_error", "readout_params",
    "recurrent_matrix", "step_jacobians", "to_torch",
]
