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
from ..records import Record

NAME = "tracer"
HELP = "tracer overhead: plain vs our tracer vs strace -f (two workloads)"

METHODS = ("plain", "tracer", "strace -f", "strace -f --seccomp-bpf -e trace=process")


@dataclasses.dataclass(frozen=True)
class TracerBenchRow(Record):
    workload: str
    method: str
    seconds: tuple[float, ...]
    median_s: float
    ratio: float  # median / median of plain in the same run
    cpu_median_s: float  # user+sys of the whole tree (tracer or strace included)
    cpu_ratio: float
    min_ratio: float  # fastest run / fastest plain run: the least noisy on a shared machine


@dataclasses.dataclass(frozen=True)
class TracerBenchResult(Record):
    rows: tuple[TracerBenchRow, ...]
    runs: int
    stops: dict  # workload -> the tracer's stop counts and bytes read for one run
    children: dict  # workload -> processes created in one traced run
    machine: str


    def table(self) -> str:
        lines = ["| workload | method | wall median (s) | wall ratio | CPU median (s) | CPU ratio | best-run ratio |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r.workload} | {r.method} | {r.median_s:.3f} | {r.ratio:.2f}x | "
                         f"{r.cpu_median_s:.3f} | {r.cpu_ratio:.2f}x | {r.min_ratio:.2f}x |")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Workload(Record):
    name: str
    argv: tuple[str, ...]
    true_runs: int  # exec records of /bin/true one traced run must hold


class TraceCheckFailed(RuntimeError):
    """A traced run's records are not what the workload did: the timing of
    that run would describe a tracer that missed work."""


TRUE = "/bin/true"


def workloads(n_true: int = 500, n_go: int = 200, sleepers: int = 8, *,
              labs: str | os.PathLike) -> tuple[Workload, ...]:
    """The two workloads; the Go one is the course lab ``labs_go/trace_spawnbench``
    of the checkout ``labs``."""
    from ..build import build_go
    from pathlib import Path

    for name, n in (("n_true", n_true), ("n_go", n_go), ("sleepers", sleepers)):
        if isinstance(n, bool) or not isinstance(n, int) or n < (0 if name == "sleepers" else 1):
            raise ValueError(f"{name} must be a positive integer (sleepers may be 0), got {n!r}")
    go = build_go(Path(labs, "labs_go", "trace_spawnbench")).path
    return (
        Workload(f"sh loop of {n_true} {TRUE}", ("/bin/sh", "-c", f"for i in $(seq {n_true}); do {TRUE}; done"),
                 n_true),
        Workload(f"Go: {sleepers} sleepers + {n_go} exec.Command",
                 (go, "-n", str(n_go), "-sleepers", str(sleepers), "-prog", TRUE), n_go),
    )


def check_run(path: str, workload: Workload) -> list[dict]:
    """The records of one traced run of ``workload`` (JSON Lines at ``path``),
    after checking them: a start and an end record with exit status 0,
    exactly ``workload.true_runs`` exec records of /bin/true, and every exec
    record complete (argv and envp read in full). Raises TraceCheckFailed."""
    def fail(what: str) -> TraceCheckFailed:
        return TraceCheckFailed(f"tracer bench, workload {workload.name!r}: {what} (records in {path})")

    with open(path) as f:
        try:
            recs = [json.loads(line) for line in f]
        except json.JSONDecodeError as exc:
            raise fail(f"a line is not JSON: {exc}") from None
    if not recs or recs[0].get("type") != "start" or recs[-1].get("type") != "end":
        raise fail("the records do not run from a start to an end record")
    if recs[-1]["exit_status"] != 0:
        raise fail(f"the traced command exited with {recs[-1]['exit_status']}")
    execs = [r for r in recs if r["type"] == "exec"]
    trues = sum(r["filename"] == TRUE for r in execs)
    if trues != workload.true_runs:
        raise fail(f"{trues} exec records of {TRUE}, the workload runs it {workload.true_runs} times")
    incomplete = [r for r in execs if not r["complete"]]
    if incomplete:
        raise fail(f"{len(incomplete)} of {len(execs)} exec records are incomplete, the first: "
                   f"pid {incomplete[0]['pid']} {incomplete[0]['filename']}")
    return recs


def _commands(cmd: tuple[str, ...], tracer: str, strace: str, out: str) -> dict[str, list[str]]:
    return {
        "plain": list(cmd),
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


def measure(runs: int = 7, n_true: int = 500, n_go: int = 200, sleepers: int = 8, *,
            labs: str | os.PathLike) -> TracerBenchResult:
    """Run both workloads (:func:`workloads`, from the course checkout ``labs``)
    ``runs`` times with every method, alternating."""
    from ..toolchain import find_tool
    from ..trace import tracer_binary

    if runs < 1:
        raise ValueError("runs must be at least 1")
    tracer, strace = tracer_binary(), find_tool("strace").path
    rows, stops, children = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="gorun-kit-bench-") as tmp:
        out = os.path.join(tmp, "trace.jsonl")
        for w in workloads(n_true, n_go, sleepers, labs=labs):
            name = w.name
            cmds = _commands(w.argv, tracer, strace, out)
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
                        if m == "tracer":  # every traced run, outside the timed part
                            recs = check_run(out, w)
            end = recs[-1]
            execs = [r for r in recs if r["type"] == "exec"]
            stops[name] = {"stops": end["stops"], "tracer_cpu_s": end["tracer_cpu_ns"] / 1e9,
                           "mem_read_calls": end["mem_read_calls"],
                           "mem_read_bytes": end["mem_read_bytes"], "records": end["records"],
                           "execs": len(execs), "true_execs": w.true_runs, "checked_runs": runs,
                           "incomplete_execs": 0}
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
    result = measure(runs=args.runs, n_true=args.n_true, n_go=args.n_go, labs=args.labs)
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
