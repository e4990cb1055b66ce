"""Start-up cost of hello world: C (static, dynamic), Go (default, -s -w, cgo),
Python and Java, each run many times, medians reported.

For every run: the time from fork to the child being reaped, its peak
resident set (``ru_maxrss`` from ``wait4``), and the thread count and VmHWM
the program itself read from ``/proc/self/status`` just before exiting. Runs
go through ``labs_c/startup_probe`` (a tiny static C launcher), because a
child's ``ru_maxrss`` includes the address space it had before ``execve``:
forked from this Python process it would report Python's size, not the
program's. The probes run round-robin (one of each, then again), so a burst
of load on the machine hits all of them alike, and under the
``/tmp/gorun-kit-bench.lock`` lock so two benchmarks never overlap.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

from .. import progress, sessions
from ..records import Record
from ..toolchain import JVM_QUIET
from ._lock import LOCK, bench_lock  # noqa: F401  (LOCK is part of this module's API)

NAME = "startup"
HELP = "start-up time, peak RSS and threads of hello world in C, Go, Python, Java"

PYTHON_PROBE = '''\
# Chapter 5's start-up probe in Python: hello world plus the thread count and
# peak RSS from /proc/self/status, in the same format as the C and Go probes.
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print("hello threads=%s hwm_kb=%s" % (status["Threads"].strip(), status["VmHWM"].split()[0]))
'''

JAVA_PROBE = '''\
// Chapter 5's start-up probe in Java: hello world plus the thread count and
// peak RSS from /proc/self/status, in the same format as the C and Go probes.
import java.nio.file.Files;
import java.nio.file.Path;

public class Hello {
    public static void main(String[] args) throws Exception {
        String threads = "?", hwm = "?";
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Threads:")) threads = line.substring(8).trim();
            if (line.startsWith("VmHWM:")) hwm = line.substring(6).trim().split("\\\\s+")[0];
        }
        System.out.println("hello threads=" + threads + " hwm_kb=" + hwm);
    }
}
'''


@dataclasses.dataclass(frozen=True)
class Probe(Record):
    """One hello world to start: its label, the command, or why it is skipped."""

    name: str  # short key: "c-static", "go", ...
    label: str  # what the plot shows
    command: tuple[str, ...]  # empty when skipped
    skipped: str = ""  # the reason, when it cannot run here


@dataclasses.dataclass(frozen=True)
class Run(Record):
    """One start of one probe."""

    probe: str
    elapsed_ns: int  # fork to reaped, measured by the launcher
    maxrss_kb: int  # ru_maxrss from wait4
    threads: int  # Threads: from /proc/self/status, read by the program before exiting
    hwm_kb: int  # VmHWM: from the same read
    status: int


@dataclasses.dataclass(frozen=True)
class Result(Record):
    """All runs of one probe and their medians."""

    probe: Probe
    runs: tuple[Run, ...]

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.status == 0 for r in self.runs)

    @property
    def median_ms(self) -> float:
        return statistics.median(r.elapsed_ns for r in self.runs) / 1e6

    @property
    def median_maxrss_kb(self) -> float:
        return statistics.median(r.maxrss_kb for r in self.runs)

    @property
    def threads(self) -> int:
        """The most common thread count (it is the same in almost every run)."""
        return statistics.mode(r.threads for r in self.runs)

    def to_dict(self) -> dict:
        # the medians only when there are runs to take them of (a skipped probe has none)
        d = {"probe": self.probe.to_dict(), "runs": [r.to_dict() for r in self.runs]}
        if self.runs:
            d.update(median_ms=self.median_ms, median_maxrss_kb=self.median_maxrss_kb, threads=self.threads)
        return d


@dataclasses.dataclass(frozen=True)
class StartupReport(Record):
    results: tuple[Result, ...]
    repeats: int
    stamp: dict

    def result(self, name: str) -> Result:
        for r in self.results:
            if r.probe.name == name:
                return r
        raise KeyError(f"no probe named {name!r}; probes: {[r.probe.name for r in self.results]}")

    def ran(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if not r.probe.skipped)

    def to_dict(self) -> dict:
        # the published layout of benchmarks' JSON: how it was measured before the results
        return {"repeats": self.repeats, "stamp": self.stamp, "results": [r.to_dict() for r in self.results]}

    def table(self) -> str:
        """A Markdown table of the medians (ratios against C static), skipped probes with their reason."""
        base = self.result("c-static").median_ms if "c-static" in {r.probe.name for r in self.ran()} else None
        lines = ["| program | start-up to exit (median) | × C static | peak RSS (median) | threads at end of main |",
                 "|---|---:|---:|---:|---:|"]
        for r in self.results:
            if r.probe.skipped:
                lines.append(f"| {r.probe.label} | skipped: {r.probe.skipped} | | | |")
                continue
            ratio = f"{r.median_ms / base:.1f}" if base else "-"
            lines.append(f"| {r.probe.label} | {r.median_ms:.2f} ms | {ratio} | "
                         f"{r.median_maxrss_kb / 1024:.1f} MiB | {r.threads} |")
        return "\n".join(lines)


# ---------------------------------------------------------------------------



def _write_cached(name: str, text: str) -> Path:
    """Write a generated source into the cache, named by its content, atomically."""
    from ..cache import store_text

    return store_text("startup", name, text)


def _java_probe() -> Probe:
    label = "Java (java Hello)"
    java, javac = shutil.which("java"), shutil.which("javac")
    if not java or not javac:
        missing = "java" if not java else "javac"
        return Probe("java", label, (), f"no {missing} on PATH (apt-get install -y default-jdk-headless)")
    src = _write_cached("Hello.java", JAVA_PROBE)
    cls = src.with_name("Hello.class")
    if not cls.exists():
        with progress.step("javac Hello.java"):
            proc = subprocess.run([javac, *(f"-J{o}" for o in JVM_QUIET), "-d", str(src.parent), str(src)],
                                  capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            return Probe("java", label, (), f"javac failed: {proc.stderr.strip()[:200]}")
    version = subprocess.run([java, *JVM_QUIET, "-version"], capture_output=True, text=True).stderr.splitlines()
    quoted = re.search(r'"([^"]+)"', version[0]) if version else None
    label = f"Java {quoted.group(1)}" if quoted else "Java"
    return Probe("java", label, (os.path.realpath(java), *JVM_QUIET, "-cp", str(src.parent), "Hello"))


def probes(labs: str | os.PathLike) -> tuple[Probe, ...]:
    """Build (from the cache when possible) every probe this machine can run; the
    C and Go ones are the labs of the course checkout ``labs``."""
    from ..build import build_c, build_go

    c_src = Path(labs, "labs_c", "hello_probe", "hello_probe.c")
    go_src = Path(labs, "labs_go", "ch5_hello")
    out = [
        Probe("c-static", "C, static", (build_c(c_src, ldflags=["-static"], name="hello_probe_static").path,)),
        Probe("c-dynamic", "C, dynamic (glibc)", (build_c(c_src).path,)),
        Probe("go", "Go, go build", (build_go(go_src).path,)),
        Probe("go-sw", "Go, -ldflags=-s -w", (build_go(go_src, ldflags="-s -w").path,)),
        Probe("go-cgo", "Go, cgo (dynamic)", (build_go(go_src, cgo=True, tags=("withcgo",)).path,)),
        Probe("python", f"Python {sys.version_info.major}.{sys.version_info.minor}",
              (os.path.realpath(sys.executable), "-I", str(_write_cached("hello_probe.py", PYTHON_PROBE)))),
        _java_probe(),
    ]
    return tuple(out)


_PROBE_LINE = re.compile(r"hello threads=(\d+) hwm_kb=(\d+)")
_LAUNCH_LINE = re.compile(r"elapsed_ns=(\d+) maxrss_kb=(\d+) status=(\d+)")


def launcher(labs: str | os.PathLike) -> str:
    """The static C launcher ``labs_c/startup_probe`` of the course checkout ``labs``, built."""
    from ..build import build_c

    return build_c(Path(labs, "labs_c", "startup_probe", "startup_probe.c"), ldflags=["-static"]).path


def run_once(probe: Probe, launch: str, timeout: float = 60) -> Run:
    """Start ``probe`` once through the launcher and parse both lines."""
    # The session kills the launcher *and* the program it started together on a
    # time-out (killing the launcher alone would orphan the program).
    done = sessions.run_tool([launch, *probe.command], timeout=timeout)
    if done.timed_out:
        raise subprocess.TimeoutExpired([launch, *probe.command], timeout)
    stdout, stderr = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    prog, meas = _PROBE_LINE.search(stdout), _LAUNCH_LINE.search(stderr)
    if meas is None or prog is None:
        raise RuntimeError(f"probe {probe.name} ({' '.join(probe.command)}) did not report: "
                           f"stdout={stdout!r} stderr={stderr!r}")
    return Run(probe.name, int(meas.group(1)), int(meas.group(2)), int(prog.group(1)), int(prog.group(2)),
               int(meas.group(3)))


def measure(repeats: int = 15, *, labs: str | os.PathLike, only: Sequence[str] | None = None, lock: bool = True,
            on_round: Callable[[int], None] | None = None) -> StartupReport:
    """Run every probe ``repeats`` times, round-robin, holding the benchmark lock.
    The C and Go programs are labs of the course checkout ``labs``.

    ``lock=False`` when an outer ``flock /tmp/gorun-kit-bench.lock`` already
    holds it (a second flock from this process would wait for it forever).
    """
    from ..toolchain import version_stamp

    if repeats < 1:
        raise ValueError(f"repeats={repeats}: need at least one run per probe")
    all_probes = probes(labs)
    if only:
        unknown = set(only) - {p.name for p in all_probes}
        if unknown:
            raise ValueError(f"unknown probe(s) {sorted(unknown)}; known: {[p.name for p in all_probes]}")
        all_probes = tuple(p for p in all_probes if p.name in only)
    launch = launcher(labs)
    runs: dict[str, list[Run]] = {p.name: [] for p in all_probes}
    live = [p for p in all_probes if not p.skipped]
    held = bench_lock() if lock else contextlib.nullcontext()
    with held, progress.step(f"start-up benchmark: {len(live)} programs x {repeats} runs"):
        for p in live:  # one warm-up each: page cache, JIT class-data archive, ...
            run_once(p, launch)
        for i in range(repeats):
            for p in live:
                runs[p.name].append(run_once(p, launch))
            if on_round:
                on_round(i)
    results = tuple(Result(p, tuple(runs[p.name])) for p in all_probes)
    return StartupReport(results, repeats, version_stamp())


# ---------------------------------------------------------------------------
# gorun-kit bench startup

def add_arguments(parser) -> None:
    parser.add_argument("--repeats", type=int, default=15, help="runs per program (default 15)")
    parser.add_argument("--only", nargs="+", metavar="PROBE",
                        help="only these probes (c-static c-dynamic go go-sw go-cgo python java)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--no-lock", action="store_true",
                        help="do not take /tmp/gorun-kit-bench.lock (an outer flock holds it)")


def run(args) -> int:
    try:
        report = measure(args.repeats, labs=args.labs, only=args.only, lock=not args.no_lock)
    except (ValueError, RuntimeError) as exc:
        print(f"gorun-kit bench startup: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("measured with: " + " | ".join(f"{k} {v}" for k, v in report.stamp.items()))
        print(f"{report.repeats} runs each, medians\n")
        print(report.table())
    return 0
