"""Run one of the course's benchmarks (every module of gorun_kit.bench is one)."""
from __future__ import annotations

import importlib
import pkgutil

NAME = "bench"
HELP = "measure spawn latency, tracer overhead, start-up cost"


def _modules():
    from .. import bench

    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"gorun_kit.bench.{info.name}")
            if hasattr(module, "run") and hasattr(module, "NAME"):
                yield module


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="BENCHMARK")
    sub.required = True
    for module in _modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_bench_run=module.run)


def run(args) -> int:
    return int(args._bench_run(args) or 0)
