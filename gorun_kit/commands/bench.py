"""Run one of the course's benchmarks (every module of gorun_kit.bench is one)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

NAME = "bench"
HELP = "measure spawn latency, tracer overhead, start-up cost"

# benchmark -> the gorun_kit.viz function that draws its records, for --plot
# (the benchmarks measure; pictures are drawn here, above them)
_PLOTS = {"spawn": ("gorun_kit.viz.spawn", "latency_plot")}


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
        p.add_argument("--labs", metavar="DIR",
                       help="the course checkout whose labs_c/ and labs_go/ hold the programs measured "
                            "(default: the checkout gorun_kit is installed from)")
        module.add_arguments(p)
        if module.NAME in _PLOTS:
            p.add_argument("--plot", help="write the plot to this image file (png/svg)")
        p.set_defaults(_bench_run=module.run)


def _course_labs(name: str) -> Path | None:
    """The checkout the kit is installed from, or None after saying what to pass."""
    from ..course.layout import course_root

    try:
        return course_root()
    except FileNotFoundError:
        print(f"gorun-kit bench {name}: measures the course's lab programs, which are not part of an "
              "installed kit; pass --labs DIR, DIR being a course checkout (it holds labs_c/ and labs_go/)",
              file=sys.stderr)
        return None


def run(args) -> int:
    if args.labs is None:
        args.labs = _course_labs(args.bench)
        if args.labs is None:
            return 2
    elif not (Path(args.labs, "labs_c").is_dir() and Path(args.labs, "labs_go").is_dir()):
        print(f"gorun-kit bench {args.bench}: --labs {args.labs!r} is not a course checkout "
              "(it has no labs_c/ and labs_go/)", file=sys.stderr)
        return 2
    if getattr(args, "plot", None):
        return int(args._bench_run(args, plot=lambda records: _save_plot(args.bench, records, args.plot)) or 0)
    return int(args._bench_run(args) or 0)


def _save_plot(bench: str, records, path: str) -> None:
    """Draw ``records`` of benchmark ``bench`` with its viz function into the image file ``path``."""
    module, func = _PLOTS[bench]
    figure = getattr(importlib.import_module(module), func)(records)
    figure.savefig(path, dpi=120, bbox_inches="tight")
