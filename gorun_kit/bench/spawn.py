"""Spawn latency: how long starting and reaping /bin/true takes for each spawn
method, as the parent's resident memory grows.

fork copies the parent's page tables (the memory itself is shared
copy-on-write), so its cost grows with resident memory; vfork, posix_spawn
and Go's clone(CLONE_VM|CLONE_VFORK) share the address space and copy
nothing, so theirs stays flat. The drivers (labs_c/spawn_methods ``bench``
and labs_go/spawn_bench) touch N bytes of private memory, then time M
spawn+reap rounds per method with a monotonic clock; this module runs them,
repeats, and reports medians.

Every measurement holds ``/tmp/gorun-kit-bench.lock`` (flock) so two
benchmarks never share the 2-core machine.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .. import progress, sessions
from ..records import Record
from ._lock import LOCK, bench_lock  # noqa: F401  (LOCK is part of this module's API)

NAME = "spawn"
HELP = "spawn+reap latency of /bin/true per method vs. the parent's resident memory"

MiB = 1 << 20
GiB = 1 << 30
DEFAULT_SIZES = (0, 256 * MiB, 1 * GiB, 4 * GiB)
C_METHODS = ("fork", "vfork", "posix_spawn", "posix_spawnp", "system", "clone_stack", "clone_vm_raw")
GO_METHODS = ("go_exec_command", "go_startprocess")


@dataclasses.dataclass(frozen=True)
class LatencyPoint(Record):
    """One method at one memory size: the median over every timed spawn of every run."""

    method: str
    touched_bytes: int
    rss_kib: int  # the driver's resident set while timing (last run)
    median_ns: float
    run_medians_ns: tuple[float, ...]  # one per driver run, to show the spread
    samples: int

    @property
    def median_ms(self) -> float:
        return self.median_ns / 1e6


def drivers(labs: str | os.PathLike) -> tuple[str, str]:
    """Build (cached) the C and Go drivers, the labs ``labs_c/spawn_methods`` and
    ``labs_go/spawn_bench`` of the course checkout ``labs``; returns their paths."""
    from ..build import build_c, build_go

    d = Path(labs, "labs_c", "spawn_methods")
    c = build_c([d / "main.c", d / "spawn.c"], cflags=["-O2", "-std=gnu11"], name="spawn_methods").path
    go = build_go(Path(labs, "labs_go", "spawn_bench")).path
    return c, go


def _run_driver(cmd: Sequence[str], timeout: float) -> list[dict]:
    done = sessions.run_tool(cmd, timeout=timeout)  # kills and reaps the driver's tree on a time-out or ^C
    if done.timed_out:
        raise subprocess.TimeoutExpired(list(cmd), timeout)
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"spawn benchmark driver {' '.join(cmd)} failed ({done.returncode}): {err.strip()}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def measure(sizes: Iterable[int] = DEFAULT_SIZES, *, labs: str | os.PathLike, reps: int = 10, runs: int = 3,
            methods: Sequence[str] = C_METHODS + GO_METHODS, lock: bool = True,
            timeout: float = 300.0) -> list[LatencyPoint]:
    """Time every method at every size: ``runs`` driver runs of ``reps`` spawns each
    (the drivers come from the course checkout ``labs``: :func:`drivers`)."""
    sizes = list(sizes)
    unknown = [m for m in methods if m not in C_METHODS + GO_METHODS]
    if unknown:
        raise ValueError(f"unknown spawn methods {unknown}; choose from {list(C_METHODS + GO_METHODS)}")
    if reps < 1 or runs < 1:
        raise ValueError(f"reps={reps} and runs={runs} must both be at least 1")
    bad = [s for s in sizes if not isinstance(s, int) or s < 0]
    if bad:
        raise ValueError(f"memory sizes {bad} must be non-negative byte counts")
    c_exe, go_exe = drivers(labs)
    c_methods = [m for m in methods if m in C_METHODS]
    go_wanted = [m for m in methods if m in GO_METHODS]
    samples: dict[tuple[str, int], list[list[int]]] = {}
    rss: dict[tuple[str, int], int] = {}
    with (bench_lock() if lock else contextlib.nullcontext()):
        for size in sizes:
            for run in range(runs):
                with progress.step(f"spawn latency: {size // MiB} MiB, run {run + 1}/{runs}"):
                    results = []
                    if c_methods:
                        results += _run_driver([c_exe, "bench", str(size), str(reps), *c_methods], timeout)
                    if go_wanted:
                        results += [r for r in _run_driver([go_exe, str(size), str(reps)], timeout)
                                    if r["method"] in go_wanted]
                for r in results:
                    key = (r["method"], size)
                    samples.setdefault(key, []).append(r["ns"])
                    rss[key] = r["rss_kib"]
    points = []
    for m in methods:
        for size in sizes:
            runs_ns = samples[(m, size)]
            flat = [x for run in runs_ns for x in run]
            points.append(LatencyPoint(m, size, rss[(m, size)], float(statistics.median(flat)),
                                       tuple(float(statistics.median(r)) for r in runs_ns), len(flat)))
    return points


def ratio(points: Sequence[LatencyPoint], method: str, big: int, small: int = 0) -> float:
    """median(method at ``big`` bytes) / median(method at ``small``), from the same run."""
    by = {(p.method, p.touched_bytes): p.median_ns for p in points}
    try:
        return by[(method, big)] / by[(method, small)]
    except KeyError:
        raise KeyError(f"no measurement of {method!r} at {big} and {small} bytes in these points") from None


def markdown_table(points: Sequence[LatencyPoint]) -> str:
    """Methods as rows, sizes as columns, medians in ms."""
    sizes = sorted({p.touched_bytes for p in points})
    methods = list(dict.fromkeys(p.method for p in points))
    by = {(p.method, p.touched_bytes): p for p in points}
    head = "| method | " + " | ".join(_size_label(s) for s in sizes) + f" | ratio {_size_label(sizes[-1])}/0 |"
    lines = [head, "|---|" + "---:|" * (len(sizes) + 1)]
    for m in methods:
        cells = [f"{by[(m, s)].median_ms:.3f}" if (m, s) in by else "" for s in sizes]
        r = f"{ratio(points, m, sizes[-1], sizes[0]):.1f}x" if len(sizes) > 1 else ""
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {r} |")
    return "\n".join(lines)


def _size_label(n: int) -> str:
    if n == 0:
        return "0"
    if n % GiB == 0:
        return f"{n // GiB} GiB"
    return f"{n // MiB} MiB"


def parse_size(text: str) -> int:
    """'0', '256M', '1G', '4GiB' or a byte count -> bytes."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    mult = {"K": 1 << 10, "M": MiB, "G": GiB}.get(t[-1:], 1)
    num = t[:-1] if t[-1:] in "KMG" else t
    try:
        return int(float(num) * mult)
    except ValueError:
        raise ValueError(f"memory size {text!r}: write a byte count or a number with K/M/G (e.g. 256M, 4G)") from None


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", default="0,256M,1G,4G", help="touched memory sizes (default: 0,256M,1G,4G)")
    parser.add_argument("--reps", type=int, default=10, help="timed spawns per method per run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="driver runs per size (default 3)")
    parser.add_argument("--methods", default=",".join(C_METHODS + GO_METHODS), help="comma-separated methods")
    parser.add_argument("--json", help="write the points to this JSON file")


def run(args, *, plot: Callable[[list[LatencyPoint]], None] | None = None) -> int:
    """The ``gorun-kit bench spawn`` command: measure, print the table, write
    ``--json``; ``plot``, when given, is called with the points (drawing them
    is the command layer's, which knows gorun_kit.viz)."""
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
        points = measure(sizes, labs=args.labs, reps=args.reps, runs=args.runs,
                         methods=[m.strip() for m in args.methods.split(",") if m.strip()])
    except ValueError as exc:
        print(f"gorun-kit bench spawn: {exc}")
        return 2
    print(markdown_table(points))
    if args.json:
        Path(args.json).write_text(json.dumps([p.to_dict() for p in points], indent=1) + "\n")
    if plot is not None:
        plot(points)
    return 0
