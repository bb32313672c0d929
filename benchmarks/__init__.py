"""gradlab's benchmarks: the benchmark command (``python -m benchmarks``, ``make bench``) and
the PyTorch and JAX reference cells. Never imported by the library (gradlab, kernels)."""
