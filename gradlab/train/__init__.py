"""Training: a generic minibatch trainer (SGD with momentum, Adam, clipping, snapshots),
``task_trainer`` (task + encoder-decoder + trainer in one call) and the ``gradlab train``
command (``cli``). See ``trainer`` for the model interface."""

from .optim import SGD, Adam, make_optimizer
from .setup import TaskRun, task_trainer
from .trainer import Trainer, TrainResult, TrainSnapshot

__all__ = ["SGD", "Adam", "TaskRun", "TrainResult", "TrainSnapshot", "Trainer",
           "make_optimizer", "task_trainer"]
