#!/usr/bin/env python3
"""Wall time of `gorun-kit course grade-class` on a generated class of 30, with 1 and 2 workers.

The class is the one tests/test_course_grade_class.py grades
(tests/class_submissions.py: the fixture course's Python exercise, handed in
correct, wrong, visible-checks-only, untouched, unreadable, empty, misnamed,
as a link, twice; with --hostile, four students who attack the grader: an
endless loop, killing the grader's process, a setsid daemon, a fork bomb).
Each round grades the class from scratch into a fresh OUT, once per worker
count, alternating; the command runs as a child process, timed from start
to exit. Writes benchmarks/results/grade_class.json (grade_class_hostile.json
with --hostile) and prints the Markdown table recorded in benchmarks/README.md.

It takes /tmp/gorun-kit-bench.lock itself; under an outer
`flock /tmp/gorun-kit-bench.lock ...` pass --no-lock.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from class_submissions import EXERCISE, FIXTURE, make_class  # noqa: E402

from gorun_kit.bench._lock import bench_lock  # noqa: E402
from gorun_kit.toolchain import version_stamp  # noqa: E402


def grade_once(subs: Path, out: Path, workers: int, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "gorun_kit", "course", "grade-class", str(subs), "-o", str(out),
           "--source", str(FIXTURE), "--exercise", EXERCISE, "--workers", str(workers), "--timeout", str(timeout)]
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit(f"grade-class failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rows = (out / "gradebook.csv").read_text().splitlines()[1:]
    return {"workers": workers, "seconds": round(seconds, 2), "students": len(rows),
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="times each worker count grades the class")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per notebook (the endless loop uses it all)")
    ap.add_argument("--hostile", action="store_true", help="four of the 30 attack the grader")
    ap.add_argument("--out", default=str(HERE / "results"), help="directory for the JSON")
    ap.add_argument("--no-lock", action="store_true", help="do not take the benchmark lock (an outer flock holds it)")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="gorun-kit-bench-class-") as tmp, \
            (contextlib.nullcontext() if args.no_lock else bench_lock()):
        subs = Path(tmp) / "submissions"
        make_class(subs, hostile=args.hostile)
        runs = []
        for n in range(args.rounds):
            for workers in counts:
                out = Path(tmp) / f"out-{workers}-{n}"
                runs.append(grade_once(subs, out, workers, args.timeout))
                shutil.rmtree(out)
                print(f"round {n + 1}: {workers} worker(s): {runs[-1]['seconds']:.1f} s "
                      f"(load {runs[-1]['load_before']} -> {runs[-1]['load_after']})", file=sys.stderr)
    medians = {w: statistics.median(r["seconds"] for r in runs if r["workers"] == w) for w in counts}
    report = {"stamp": {**version_stamp(), "cpus": len(os.sched_getaffinity(0))}, "hostile": args.hostile,
              "timeout": args.timeout, "rounds": args.rounds, "runs": runs,
              "median_seconds": {str(w): s for w, s in medians.items()}}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ("grade_class_hostile.json" if args.hostile else "grade_class.json")).write_text(
        json.dumps(report, indent=1) + "\n")
    print("measured with: " + " | ".join(f"{k} {v}" for k, v in report["stamp"].items()))
    print(f"30 students{' (4 hostile)' if args.hostile else ''}, {args.rounds} round(s) per worker count, "
          f"medians\n")
    print("| workers | wall time (median) | per student | speed-up over 1 worker |")
    print("|---:|---:|---:|---:|")
    base = medians.get(1)
    for w in counts:
        speedup = f"{base / medians[w]:.2f}" if base else "-"
        print(f"| {w} | {medians[w]:.1f} s | {medians[w] / 30:.2f} s | {speedup} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
