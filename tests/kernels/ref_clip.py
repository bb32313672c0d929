"""Slow, obvious twin of kernels/clip.py and gradlab/clip.py, for tests only.

Pascanu, Mikolov and Bengio (2013), Algorithm 1, written out:
    g = all gradients as one vector;  if ||g|| > threshold: g <- threshold / ||g|| * g
"""

import numpy as np


def global_norm(grads):
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2)
                             for g in grads.values())))


def clip_by_global_norm(grads, threshold):
    norm = global_norm(grads)
    if norm > threshold:
        return {k: g * (threshold / norm) for k, g in grads.items()}, True
    return {k: g.copy() for k, g in grads.items()}, False


def clip_by_value(grads, limit):
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}
