"""Tracer overhead: the same workload plain, under our tracer (events mode,
``--env delta``), under ``strace -f`` and under ``strace -f --seccomp-bpf -e
trace=process``; optionally also under an older build of the tracer
(``baseline``), so that before and after are measured in the same run.

Two workloads: a shell loop running /bin/true 500 times, and a Go program
(labs_go/trace_spawnbench) with 8 goroutines blocked in nanosleep running
/bin/true 200 times through os/exec. Both run with a 25 KB environment (ours
padded with variables), the size that makes reading and writing envp
matter. The methods alternate inside each round (the starting method
rotates from round to round), and each ratio is the median of one method
over the median of plain, measured in the same run. Our tracer writes its
records to a real file, so the cost of reading and writing every argv/envp
is included; its stop counts come from its own ``end`` record, so the time
can be explained per child. Every traced run is checked (``check_run``),
and one more run per workload, untimed, runs with ``--verify``.

``floor``: also the course checkout's ``benchmarks/null_tracer.c``, a tracer
that takes the same stops as ours and does nothing at them but resume, in
the variants of ``FLOOR``: what the stops cost by themselves, the least any
tracer with this stop set can cost. Their stop counts come from one more
untimed run each (``--count``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from .. import progress
from ..records import Record

NAME = "tracer"
HELP = "tracer overhead: plain vs our tracer vs strace -f (two workloads)"

METHODS = ("plain", "tracer", "strace -f", "strace -f --seccomp-bpf -e trace=process")
BASELINE = "tracer (baseline)"  # the method of an older tracer build, when measure() is given one
ENV_BYTES = 25 * 1024  # the size of the environment the workloads run with
PAD = "GORUN_KIT_BENCH_PAD"
# method -> the null tracer's --stops (see benchmarks/null_tracer.c), when measure() is given floor=True
FLOOR = {
    "null tracer": "full",  # our options, filter and stops; only the resume at each stop
    "null tracer + requests": "requests",  # and our ptrace requests at each stop, results unused
    "null tracer, no exec entry stop": "no-entry",  # no seccomp filter
    "null tracer, spawn stops only": "spawn-only",  # nor PTRACE_O_TRACEEXEC
}
NULL_TRACER = ("benchmarks", "null_tracer.c")  # its source, in the course checkout
CFLAGS = ("-O2", "-g", "-Wall", "-Wextra", "-std=gnu11")  # the tracer's own (gorun_kit.trace.runner)


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
    stops: dict  # workload -> the tracer's stop counts, bytes read, output size ("baseline": the same of it)
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
    env: tuple[str, ...] = ()  # "NAME=value" the run gets (() : ours); its PAD variables reach every /bin/true


def bench_env(size: int = ENV_BYTES) -> tuple[str, ...]:
    """Our environment, padded with PAD<i> variables to about ``size`` bytes
    (each string and its NUL counted)."""
    env = [f"{k}={v}" for k, v in os.environ.items() if not k.startswith(PAD)]
    total, i = sum(len(os.fsencode(e)) + 1 for e in env), 0
    while total < size:
        pad = f"{PAD}{i}=" + "x" * min(200, max(1, size - total - 30))
        env.append(pad)
        total += len(pad) + 1
        i += 1
    return tuple(env)


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
    env = bench_env()
    return (
        Workload(f"sh loop of {n_true} {TRUE}", ("/bin/sh", "-c", f"for i in $(seq {n_true}); do {TRUE}; done"),
                 n_true, env),
        Workload(f"Go: {sleepers} sleepers + {n_go} exec.Command",
                 (go, "-n", str(n_go), "-sleepers", str(sleepers), "-prog", TRUE), n_go, env),
    )


def check_run(path: str, workload: Workload, *, with_env: bool = False) -> list[dict]:
    """The records of one traced run of ``workload`` (JSON Lines at ``path``),
    after checking them: a start and an end record with exit status 0,
    exactly ``workload.true_runs`` exec records of /bin/true, and every exec
    record complete (argv and envp read in full); then the envp of every
    exec rebuilt (``gorun_kit.trace``, also from delta records). ``with_env``
    (the run was started with ``workload.env``): each /bin/true got argv
    ["/bin/true"] and every PAD variable of ``workload.env``, byte for byte.
    Raises TraceCheckFailed."""
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
    from ..trace import TraceFormatError, from_lines

    try:
        t = from_lines(json.dumps(r) for r in recs)
    except TraceFormatError as exc:
        raise fail(f"the envp of the records cannot be rebuilt: {exc}") from None
    pads = {e for e in workload.env if e.startswith(PAD)} if with_env else set()
    for e in t.execs:
        if e.filename == TRUE and (e.argv != (TRUE,) or not pads <= set(e.envp)):
            raise fail(f"the exec of {TRUE} in pid {e.pid} has argv {list(e.argv)!r} and "
                       f"{len(pads - set(e.envp))} of the {len(pads)} padding variables missing from its envp")
    return recs


def build_null_tracer(labs: str | os.PathLike, into: str | os.PathLike) -> str:
    """Compile the course checkout ``labs``'s null tracer (``NULL_TRACER``)
    with the tracer's flags into the directory ``into``; its path. Raises
    FileNotFoundError when ``labs`` has no such source, BuildError with the
    compiler's messages when it does not compile."""
    from ..build import BuildError
    from ..toolchain import find_tool

    src = os.path.join(labs, *NULL_TRACER)
    if not os.path.isfile(src):
        raise FileNotFoundError(f"the null tracer's source {src} is missing: pass labs= a course checkout "
                                f"(it holds {'/'.join(NULL_TRACER)})")
    exe = os.path.join(into, "null_tracer")
    cmd = [find_tool("cc").path, *CFLAGS, "-o", exe, src]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(src, cmd, proc.stderr + proc.stdout)
    return exe


def floor_stops(null_tracer: str, stops: str, w: Workload) -> dict:
    """One untimed run of ``w`` under ``null_tracer --stops STOPS --count``: the
    stops it took and its waitpid reports (its own JSON line on stderr)."""
    p = subprocess.run([null_tracer, "--stops", stops, "--count", "--", *w.argv], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(e.split("=", 1) for e in w.env) or None)
    if p.returncode != 0:
        raise RuntimeError(f"null tracer --stops {stops}, workload {w.name!r}: exit status {p.returncode}: "
                           f"{p.stderr[-500:]}")
    return json.loads(p.stderr.strip().splitlines()[-1])


def _commands(cmd: tuple[str, ...], tracer: str, strace: str, out: str, baseline: str | None = None,
              baseline_out: str = "", null_tracer: str | None = None) -> dict[str, list[str]]:
    return {
        "plain": list(cmd),
        "tracer": [tracer, "--env", "delta", "--output", out, "--", *cmd],
        **({BASELINE: [baseline, "--output", baseline_out, "--", *cmd]} if baseline else {}),
        **({m: [null_tracer, "--stops", stops, "--", *cmd] for m, stops in FLOOR.items()} if null_tracer else {}),
        "strace -f": [strace, "-f", "-o", "/dev/null", "--", *cmd],
        "strace -f --seccomp-bpf -e trace=process": [strace, "-f", "--seccomp-bpf", "-e", "trace=process", "-o",
                                                     "/dev/null", "--", *cmd],
    }


def _time(argv: list[str], env: tuple[str, ...] = ()) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys of the whole tree, tracer included).

    The CPU time comes from wait4's rusage: every process's time is added to
    its parent's when it is reaped, so the top process carries the tree's."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                             env=dict(e.split("=", 1) for e in env) if env else None)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({p.returncode}): {err.read().decode()[-500:]}")
    return dt, ru.ru_utime + ru.ru_stime


def _tracer_stats(recs: list[dict], path: str, cpu_ns: list[int], runs: int, w: Workload) -> dict:
    """What one tracer's checked runs say: stop counts, reads, output size (of the last run), its own CPU
    (median over the runs)."""
    end = recs[-1]
    return {"stops": end["stops"], "tracer_cpu_s": statistics.median(cpu_ns) / 1e9,
            "mem_read_calls": end["mem_read_calls"], "mem_read_bytes": end["mem_read_bytes"],
            "records": end["records"], "output_bytes": os.path.getsize(path),
            "execs": sum(r["type"] == "exec" for r in recs), "true_execs": w.true_runs, "checked_runs": runs,
            "incomplete_execs": 0}


def verify_run(tracer: str, w: Workload, out: str) -> dict:
    """One run of ``w`` under ``tracer --verify`` (untimed): the end record's
    "verify" and the envp rebuilt here, checked against /proc's checksums.
    Raises TraceCheckFailed on any mismatch."""
    from ..trace import load

    subprocess.run([tracer, "--env", "delta", "--verify", "--output", out, "--", *w.argv], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=dict(e.split("=", 1) for e in w.env) or None)
    check_run(out, w, with_env=True)
    v = load(out).stats["verify"]
    if v["mismatches"] or v["rebuilt_checked"] != v["execs"]:
        raise TraceCheckFailed(f"tracer bench, workload {w.name!r}: --verify found {v['mismatches']} mismatches "
                               f"({v['first']})")
    return v


def measure(runs: int = 7, n_true: int = 500, n_go: int = 200, sleepers: int = 8, *,
            labs: str | os.PathLike, baseline: str | None = None, floor: bool = False) -> TracerBenchResult:
    """Run both workloads (:func:`workloads`, from the course checkout ``labs``)
    ``runs`` times with every method, alternating. ``baseline``: the path of
    another tracer build (e.g. an older one), measured as one more method
    (``BASELINE``), its runs checked the same way. ``floor``: the null tracer
    of ``labs`` (:func:`build_null_tracer`, built into a temporary directory)
    in each variant of ``FLOOR``, as more methods; ``stops[workload]["floor"]``
    holds each variant's stop counts."""
    from ..toolchain import find_tool
    from ..trace import tracer_binary

    if runs < 1:
        raise ValueError("runs must be at least 1")
    tracer, strace = tracer_binary(), find_tool("strace").path
    methods = METHODS[:2] + ((BASELINE,) if baseline else ()) + (tuple(FLOOR) if floor else ()) + METHODS[2:]
    rows, stops, children = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="gorun-kit-bench-") as tmp:
        out, bout = os.path.join(tmp, "trace.jsonl"), os.path.join(tmp, "baseline.jsonl")
        null_tracer = build_null_tracer(labs, tmp) if floor else None
        for w in workloads(n_true, n_go, sleepers, labs=labs):
            name = w.name
            cmds = _commands(w.argv, tracer, strace, out, baseline, bout, null_tracer)
            _time(cmds["plain"], w.env)  # warm the page cache
            times: dict[str, list[float]] = {m: [] for m in methods}
            cpu: dict[str, list[float]] = {m: [] for m in methods}
            tracer_ns: dict[str, list[int]] = {"tracer": [], BASELINE: []}
            with progress.step(f"tracer bench: {name} ({runs} rounds)"):
                for i in range(runs):
                    order = methods[i % len(methods):] + methods[:i % len(methods)]
                    for m in order:
                        wall, used = _time(cmds[m], w.env)
                        times[m].append(wall)
                        cpu[m].append(used)
                        if m == "tracer":  # every traced run, outside the timed part
                            recs = check_run(out, w, with_env=True)
                            tracer_ns[m].append(recs[-1]["tracer_cpu_ns"])
                        elif m == BASELINE:
                            brecs = check_run(bout, w, with_env=True)
                            tracer_ns[m].append(brecs[-1]["tracer_cpu_ns"])
            stops[name] = _tracer_stats(recs, out, tracer_ns["tracer"], runs, w)
            if baseline:
                stops[name]["baseline"] = _tracer_stats(brecs, bout, tracer_ns[BASELINE], runs, w)
            stops[name]["verify"] = verify_run(tracer, w, out)
            if null_tracer:
                stops[name]["floor"] = {m: floor_stops(null_tracer, s, w) for m, s in FLOOR.items()}
            children[name] = sum(1 for r in recs if r["type"] == "spawn" and not r["is_thread"])
            base, cbase = statistics.median(times["plain"]), statistics.median(cpu["plain"])
            for m in methods:
                med, cmed = statistics.median(times[m]), statistics.median(cpu[m])
                rows.append(TracerBenchRow(name, m, tuple(times[m]), med, med / base, cmed, cmed / cbase,
                                           min(times[m]) / min(times["plain"])))
    machine = f"{os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs"
    return TracerBenchResult(tuple(rows), runs, stops, children, machine)


def floor_table(result: TracerBenchResult) -> str:
    """A Markdown table of every method of ``result`` against plain, per
    process created: the extra wall time (median minus plain's median), the
    share of ``strace --seccomp-bpf``'s wall time, and the stops (and waitpid
    reports) of the null tracer's variants."""
    lines = ["| workload | method | wall ratio | ÷ strace --seccomp-bpf | extra wall per process (µs) "
             "| stops per process | waits per process |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name in dict.fromkeys(r.workload for r in result.rows):
        rows = {r.method: r for r in result.rows if r.workload == name}
        n, plain, strace = max(result.children[name], 1), rows["plain"], rows.get(METHODS[3])
        floor = result.stops.get(name, {}).get("floor", {})
        for m, r in rows.items():
            if m == "plain":
                continue
            vs = f"{r.median_s / strace.median_s:.2f}" if strace else "-"
            st = floor.get(m) or (result.stops[name]["stops"] if m == "tracer" else None)
            nstops = f"{sum(v for k, v in st.items() if k != 'waits') / n:.2f}" if st else ""
            waits = f"{st['waits'] / n:.2f}" if st and "waits" in st else ""
            lines.append(f"| {name} | {m} | {r.ratio:.2f}x | {vs} | {(r.median_s - plain.median_s) / n * 1e6:.0f} "
                         f"| {nstops} | {waits} |")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--runs", type=int, default=7, help="rounds per workload (median of these), default 7")
    parser.add_argument("--n-true", type=int, default=500, help="iterations of the shell loop")
    parser.add_argument("--n-go", type=int, default=200, help="exec.Command runs in the Go workload")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--baseline", metavar="TRACER",
                        help="another tracer executable (e.g. built from an older tracer.c) to measure as well")
    parser.add_argument("--floor", action="store_true",
                        help="also measure benchmarks/null_tracer.c: our stops with nothing done at them, "
                             "and variants with fewer stops")


def run(args) -> int:
    if args.baseline is not None and not (os.path.isfile(args.baseline) and os.access(args.baseline, os.X_OK)):
        print(f"gorun-kit bench tracer: --baseline {args.baseline!r} is not an executable file; "
              f"build the tracer to compare with and give its path", file=sys.stderr)
        return 2
    result = measure(runs=args.runs, n_true=args.n_true, n_go=args.n_go, labs=args.labs, baseline=args.baseline,
                     floor=args.floor)
    print(f"tracer overhead, median of {result.runs} alternating rounds ({result.machine})")
    print(result.table())
    for name, s in result.stops.items():
        n = max(result.children[name], 1)
        print(f"\n{name}: {result.children[name]} processes, {s['execs']} exec records checked in each traced "
              f"run, {s['verify']['execs']} verified against /proc ({s['verify']['mismatches']} mismatches)")
        for label, st in (("tracer", s), ("baseline", s.get("baseline"))):
            if st is None:
                continue
            per = {k: round(v / n, 2) for k, v in st["stops"].items() if v}
            print(f"  {label}: stops per process {per}; own CPU {st['tracer_cpu_s'] / n * 1e6:.0f} us per process "
                  f"(median); memory reads {st['mem_read_calls'] / n:.2f} calls / {st['mem_read_bytes'] / n / 1024:.1f} "
                  f"KiB per process; output {st['output_bytes'] / 1024:.1f} KiB")
    if args.floor:
        print("\n" + floor_table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result.to_dict(), f, indent=2)
    return 0
