#!/usr/bin/env python3
"""Spawn latency vs. the parent's resident memory (chapter 3).

Runs gorun_kit.bench.spawn.measure over 0, 256 MiB, 1 GiB and 4 GiB of
touched memory, every spawn method, 3 driver runs x 10 spawns each, and
writes:
  benchmarks/results/spawn_latency.json  the points (the notebook shows them)
  benchmarks/results/spawn_latency.png   the plot
and prints the Markdown table recorded in benchmarks/README.md.

It takes /tmp/gorun-kit-bench.lock itself; under an outer
`flock /tmp/gorun-kit-bench.lock ...` pass --no-lock (a second flock on the
same file from this process would wait for the outer one forever).
Needs about 4.5 GiB of free memory and under a minute on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from gorun_kit.bench import spawn
from gorun_kit.course.layout import course_root
from gorun_kit.toolchain import version_stamp

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0,256M,1G,4G")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results"), help="directory for the JSON and PNG")
    ap.add_argument("--no-lock", action="store_true", help="do not take the benchmark lock (an outer flock holds it)")
    args = ap.parse_args(argv)
    sizes = [spawn.parse_size(s) for s in args.sizes.split(",")]
    points = spawn.measure(sizes, labs=course_root(), reps=args.reps, runs=args.runs, lock=not args.no_lock)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"stamp": version_stamp(), "machine": platform.machine(), "reps": args.reps, "runs": args.runs,
            "cpus": __import__("os").cpu_count()}
    (out / "spawn_latency.json").write_text(json.dumps({"meta": meta, "points": [p.to_dict() for p in points]},
                                                      indent=1) + "\n")
    from gorun_kit.viz.spawn import latency_plot

    latency_plot(points).savefig(out / "spawn_latency.png", dpi=110, bbox_inches="tight")
    print(" | ".join(f"{k} {v}" for k, v in meta["stamp"].items()))
    print(spawn.markdown_table(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
