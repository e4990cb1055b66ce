#!/usr/bin/env python3
"""Start-up cost of hello world in C, Go, Python and Java (chapter 5).

Runs gorun_kit.bench.startup.measure: every probe once to warm up, then
--repeats rounds of one run each, round-robin; writes
  benchmarks/results/startup.json  every run and the medians
  benchmarks/results/startup.png   the plot
and prints the Markdown table recorded in benchmarks/README.md.

It takes /tmp/gorun-kit-bench.lock itself; under an outer
`flock /tmp/gorun-kit-bench.lock ...` pass --no-lock. Takes a few seconds
(Java dominates: ~0.1 s a run).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gorun_kit.bench import startup
from gorun_kit.course.layout import course_root
from gorun_kit.viz.startup import startup_figure

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=31)
    ap.add_argument("--out", default=str(HERE / "results"), help="directory for the JSON and PNG")
    ap.add_argument("--no-lock", action="store_true", help="do not take the benchmark lock (an outer flock holds it)")
    args = ap.parse_args(argv)
    report = startup.measure(args.repeats, labs=course_root(), lock=not args.no_lock)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps(report.to_dict(), indent=1))
    startup_figure(report).savefig(out / "startup.png", dpi=100)
    print("measured with: " + " | ".join(f"{k} {v}" for k, v in report.stamp.items()))
    print(f"{report.repeats} runs each after one warm-up, round-robin; medians\n")
    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
