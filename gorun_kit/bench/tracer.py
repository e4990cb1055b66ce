"""Tracer overhead: the same workload plain, under our tracer (events mode),
under ``strace -f`` and under ``strace -f --seccomp-bpf -e trace=process``.

Two workloads (issue 3): a shell loop running /bin/true 500 times, and a Go
program (labs_go/trace_spawnbench) with 8 goroutines blocked in nanosleep
running /bin/true 200 times through os/exec. The methods alternate inside
each round (the starting method rotates from round to round), and each
ratio is the median of one method over the median of plain, measured in the
same run. Our tracer writes its records to a real file, so the cost of
reading and writing every argv/envp is included; its stop counts come from
its own ``end`` record, so the time can be explained per child.
"""
from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import tempfile
import time

from .. import progress

NAME = "tracer"
HELP = "tracer overhead: plain vs our tracer vs strace -f (two workloads)"

METHODS = ("plain", "tracer", "strace -f", "strace -f --seccomp-bpf -e trace=process")


@dataclasses.dataclass(frozen=True)
class TracerBenchRow:
    workload: str
    method: str
    seconds: tuple[float, ...]
    median_s: float
    ratio: float  # median / median of plain in the same run
    cpu_median_s: float  # user+sys of the whole tree (tracer or strace included)
    cpu_ratio: float
    min_ratio: float  # fastest run / fastest plain run: the least noisy on a shared machine

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TracerBenchResult:
    rows: tuple[TracerBenchRow, ...]
    runs: int
    stops: dict  # workload -> the tracer's stop counts and bytes read for one run
    children: dict  # workload -> processes created in one traced run
    machine: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def table(self) -> str:
        lines = ["| workload | method | wall median (s) | wall ratio | CPU median (s) | CPU ratio | best-run ratio |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r.workload} | {r.method} | {r.median_s:.3f} | {r.ratio:.2f}x | "
                         f"{r.cpu_median_s:.3f} | {r.cpu_ratio:.2f}x | {r.min_ratio:.2f}x |")
        return "\n".join(lines)


def workloads(n_true: int = 500, n_go: int = 200, sleepers: int = 8) -> dict[str, list[str]]:
    from ..build import build_go
    from pathlib import Path

    go = build_go(Path(__file__).resolve().parents[2] / "labs_go" / "trace_spawnbench").path
    return {
        f"sh loop of {n_true} /bin/true": ["/bin/sh", "-c", f"for i in $(seq {n_true}); do /bin/true; done"],
        f"Go: {sleepers} sleepers + {n_go} exec.Command": [go, "-n", str(n_go), "-sleepers", str(sleepers)],
    }


def _commands(cmd: list[str], tracer: str, strace: str, out: str) -> dict[str, list[str]]:
    return {
        "plain": cmd,
        "tracer": [tracer, "--output", out, "--", *cmd],
        "strace -f": [strace, "-f", "-o", "/dev/null", "--", *cmd],
        "strace -f --seccomp-bpf -e trace=process": [strace, "-f", "--seccomp-bpf", "-e", "trace=process", "-o",
                                                     "/dev/null", "--", *cmd],
    }


def _time(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys of the whole tree, tracer included).

    The CPU time comes from wait4's rusage: every process's time is added to
    its parent's when it is reaped, so the top process carries the tree's."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({p.returncode}): {err.read().decode()[-500:]}")
    return dt, ru.ru_utime + ru.ru_stime


def measure(runs: int = 7, n_true: int = 500, n_go: int = 200, sleepers: int = 8) -> TracerBenchResult:
    """Run both workloads ``runs`` times with every method, alternating."""
    from ..toolchain import find_tool
    from ..trace import tracer_binary

    if runs < 1:
        raise ValueError("runs must be at least 1")
    tracer, strace = tracer_binary(), find_tool("strace").path
    rows, stops, children = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="gorun-kit-bench-") as tmp:
        out = os.path.join(tmp, "trace.jsonl")
        for name, cmd in workloads(n_true, n_go, sleepers).items():
            cmds = _commands(cmd, tracer, strace, out)
            _time(cmds["plain"])  # warm the page cache
            times: dict[str, list[float]] = {m: [] for m in METHODS}
            cpu: dict[str, list[float]] = {m: [] for m in METHODS}
            with progress.step(f"tracer bench: {name} ({runs} rounds)"):
                for i in range(runs):
                    order = METHODS[i % len(METHODS):] + METHODS[:i % len(METHODS)]
                    for m in order:
                        wall, used = _time(cmds[m])
                        times[m].append(wall)
                        cpu[m].append(used)
            with open(out) as f:
                recs = [json.loads(line) for line in f]
            end = recs[-1]
            execs = [r for r in recs if r["type"] == "exec"]
            stops[name] = {"stops": end["stops"], "tracer_cpu_s": end["tracer_cpu_ns"] / 1e9,
                           "mem_read_calls": end["mem_read_calls"],
                           "mem_read_bytes": end["mem_read_bytes"], "records": end["records"],
                           "execs": len(execs), "incomplete_execs": sum(not r["complete"] for r in execs)}
            children[name] = sum(1 for r in recs if r["type"] == "spawn" and not r["is_thread"])
            base, cbase = statistics.median(times["plain"]), statistics.median(cpu["plain"])
            for m in METHODS:
                med, cmed = statistics.median(times[m]), statistics.median(cpu[m])
                rows.append(TracerBenchRow(name, m, tuple(times[m]), med, med / base, cmed, cmed / cbase,
                                           min(times[m]) / min(times["plain"])))
    machine = f"{os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs"
    return TracerBenchResult(tuple(rows), runs, stops, children, machine)


def add_arguments(parser) -> None:
    parser.add_argument("--runs", type=int, default=7, help="rounds per workload (median of these), default 7")
    parser.add_argument("--n-true", type=int, default=500, help="iterations of the shell loop")
    parser.add_argument("--n-go", type=int, default=200, help="exec.Command runs in the Go workload")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")


def run(args) -> int:
    result = measure(runs=args.runs, n_true=args.n_true, n_go=args.n_go)
    print(f"tracer overhead, median of {result.runs} alternating rounds ({result.machine})")
    print(result.table())
    for name, s in result.stops.items():
        n = max(result.children[name], 1)
        per = {k: round(v / n, 2) for k, v in s["stops"].items() if v}
        print(f"\n{name}: {result.children[name]} processes; our stops per process: {per}; "
              f"tracer's own CPU {s['tracer_cpu_s']:.3f} s; "
              f"memory reads {s['mem_read_calls']} calls / {s['mem_read_bytes']} bytes; "
              f"{s['execs']} exec records, {s['incomplete_execs']} incomplete")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result.to_dict(), f, indent=2)
    return 0
