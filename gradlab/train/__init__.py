"""Training: a generic minibatch trainer (SGD with momentum, Adam, clipping, snapshots)
and the ``gradlab train`` command. See ``trainer`` for the model interface."""

from .optim import SGD, Adam, make_optimizer
from .trainer import Trainer, TrainResult, TrainSnapshot

__all__ = ["SGD", "Adam", "TrainResult", "TrainSnapshot", "Trainer", "make_optimizer"]
