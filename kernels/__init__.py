"""Numba kernels for recurrent networks: arrays in, arrays out.

Layer rule: this package imports numpy, numba and scipy only -- never ``gradlab``
and never Qt. Every kernel has a slow, obvious NumPy twin under ``tests/kernels/``.
"""
