"""``python -m benchmarks``: run the benchmark command (see ``benchmarks.bench``)."""

from .bench import main

raise SystemExit(main())
