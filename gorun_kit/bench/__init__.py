"""Measurements: one module per benchmark (spawn latency, tracer overhead,
start-up cost, build times). Each module defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int`` for ``gorun-kit bench NAME``,
plus the library function a notebook calls. Results are records, never
asserted as timings in tests."""
