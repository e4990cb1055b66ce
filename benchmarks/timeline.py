#!/usr/bin/env python3
"""What a joined timeline costs, next to a plain run of the same program.

Runs ``labs_go/timeline_demo 10 50`` (10 goroutines locked to their threads,
50 /bin/true children between them) in alternating rounds:

  plain      the hooked binary run directly, no variable set (the hook and
             the execution trace stay off: the program runs as if unpatched)
  timeline   gorun_kit.timeline.run: the same binary under the course's tracer
             with the hook's records and the runtime's execution trace on,
             the trace read by `go tool trace`, the three joined and checked

The build is done once beforehand (the timeline's own build is then a cache
hit, which its time includes). Reports medians, the timeline's parts (the
cached build, the traced run, `go tool trace`, the join, writing the JSON),
and the output sizes:
the execution trace, the hook's records, the Chrome JSON. Writes
benchmarks/results/timeline.json and prints the Markdown table of
benchmarks/README.md. Takes /tmp/gorun-kit-bench.lock unless --no-lock.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gorun_kit import threads, timeline
from gorun_kit.bench._lock import bench_lock
from gorun_kit.course.layout import course_root
from gorun_kit.timeline import chrome
from gorun_kit.toolchain import version_stamp

HERE = Path(__file__).resolve().parent


def _plain(binary: str, args: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k not in (threads.ENV, threads.EXECTRACE_ENV)}
    t0 = time.perf_counter()
    subprocess.run([binary, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _timeline(program: Path, args: list[str], out: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    got = timeline.run(program, args)
    t1 = time.perf_counter()
    chrome.write(got.timeline, out)
    t2 = time.perf_counter()
    tl = got.timeline
    sizes = {"phases_s": dict(got.phases), "exectrace_bytes": got.exectrace_bytes, "chrome_json_bytes": out.stat().st_size,
             "spans": len(tl.spans), "marks": len(tl.marks), "arrows": len(tl.arrows), "threads": len(tl.threads),
             "processes": sum(1 for s in tl.spans if s.category == "process"), "write_s": t2 - t1}
    return t2 - t0, sizes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--children", type=int, default=50)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--no-lock", action="store_true", help="do not take the benchmark lock (an outer flock holds it)")
    args = ap.parse_args(argv)
    program = course_root() / "labs_go" / "timeline_demo"
    prog_args = [str(args.threads), str(args.children)]
    binary = threads.build(program, extension=threads.CALLERS_EXTENSION.read_text()).path
    plain, traced, sizes = [], [], []
    lock = contextlib.nullcontext() if args.no_lock else bench_lock()
    with lock, tempfile.TemporaryDirectory() as tmp:
        _plain(binary, prog_args)  # warm-up: page cache, binary loaded once
        for _ in range(args.rounds):
            plain.append(_plain(binary, prog_args))
            took, size = _timeline(program, prog_args, Path(tmp) / "t.json")
            traced.append(took)
            sizes.append(size)
    last = sizes[-1]
    steps = {"the cached build (the go command checks that nothing changed)": "build",
             "the traced run, with the hook and the execution trace on": "traced run",
             "`go tool trace -d=parsed`": "go tool trace", "the join and its checks": "join"}
    step_medians = {label: statistics.median(s["phases_s"][key] for s in sizes) for label, key in steps.items()}
    step_medians["writing the Chrome JSON"] = statistics.median(s["write_s"] for s in sizes)
    result = {
        "stamp": version_stamp(), "machine": platform.machine(), "cpus": os.cpu_count(), "rounds": args.rounds,
        "program": f"labs_go/timeline_demo {' '.join(prog_args)}",
        "plain_s": plain, "timeline_s": traced,
        "plain_median_s": statistics.median(plain), "timeline_median_s": statistics.median(traced),
        "step_medians_s": step_medians, "rounds_detail": sizes, "sizes": last,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "timeline.json").write_text(json.dumps(result, indent=1) + "\n")
    plain_ms = result["plain_median_s"] * 1e3
    print(" | ".join(f"{k} {v}" for k, v in result["stamp"].items()))
    print("| run | median wall time | × plain |")
    print("|---|---:|---:|")
    print(f"| plain (hook and trace off) | {plain_ms:.1f} ms | 1.0 |")
    print(f"| `gorun-kit timeline`, all five steps | {result['timeline_median_s'] * 1e3:.1f} ms | "
          f"{result['timeline_median_s'] * 1e3 / plain_ms:.1f} |")
    for label, med in step_medians.items():
        ratio = f"{med * 1e3 / plain_ms:.1f}" if steps.get(label) == "traced run" else ""
        print(f"| - {label} | {med * 1e3:.1f} ms | {ratio} |")
    print()
    print("| output | size |")
    print("|---|---:|")
    print(f"| the runtime's execution trace | {last['exectrace_bytes'] / 1024:.1f} KiB |")
    print(f"| the Chrome Trace Event JSON | {last['chrome_json_bytes'] / 1024:.1f} KiB: {last['spans']:,} spans, "
          f"{last['marks']} marks, {last['arrows']} arrows; {last['threads']} threads, {last['processes']} processes |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
