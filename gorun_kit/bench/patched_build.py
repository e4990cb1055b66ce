"""How long a Go program takes to build against the patched runtime (the
thread hook, ``go build -overlay``) compared with the plain runtime, cold and
warm.

cold: an empty private GOCACHE, so the runtime and every standard package the
      program imports are compiled from source;
first: the patched build in a GOCACHE the plain build already filled -- what a
      student sees the first time (everything above the runtime recompiles);
warm: the same GOCACHE again (the go command's own cache is hot), but a fresh
      gorun_kit build cache, so ``go build`` really runs;
hit:  gorun_kit's content-addressed cache already has the binary (no go build).

Every mode builds into private temporary caches that are removed afterwards;
the user's GOCACHE and gorun_kit cache are not touched.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Iterator

from ..records import Record

NAME = "patched_build"
HELP = "cold and warm build time of a program with the patched-runtime thread hook"

# The course lab `gorun-kit bench patched_build` builds unless --program says otherwise.
DEFAULT_LAB = ("labs_go", "threads_idle")


@dataclasses.dataclass(frozen=True)
class BuildTiming(Record):
    dict_properties = ("median",)

    variant: str  # "patched" or "plain"
    mode: str  # "cold", "warm", "hit"
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclasses.dataclass(frozen=True)
class PatchedBuildResult(Record):
    program: str
    go_version: str
    cpus: int
    timings: tuple[BuildTiming, ...]

    def get(self, variant: str, mode: str) -> BuildTiming:
        return next(t for t in self.timings if t.variant == variant and t.mode == mode)

    def table(self) -> str:
        modes = ("cold", "first", "warm", "hit")
        rows = ["| build | cold (empty GOCACHE) | first patched build (GOCACHE warm from plain builds) "
                "| warm (GOCACHE hot) | gorun_kit cache hit |", "|---|---|---|---|---|"]
        for variant in ("plain", "patched"):
            cells = []
            for m in modes:
                t = next((t for t in self.timings if t.variant == variant and t.mode == m), None)
                cells.append(f"{t.median:.2f} s" if t else "-")
            rows.append(f"| {variant} | " + " | ".join(cells) + " |")
        c, w, f = (self.get("patched", m).median for m in ("cold", "warm", "first"))
        pc, pw = self.get("plain", "cold").median, self.get("plain", "warm").median
        rows.append("")
        rows.append(f"patched/plain: cold x{c / pc:.2f}, warm x{w / pw:.2f}; "
                    f"patched first/warm x{f / w:.1f}, cold/warm x{c / w:.1f}")
        return "\n".join(rows)


@contextlib.contextmanager
def _private_kit_cache() -> Iterator[Path]:
    old = os.environ.get("GORUN_KIT_CACHE")
    d = Path(tempfile.mkdtemp(prefix="gorun-kit-bench."))
    os.environ["GORUN_KIT_CACHE"] = str(d)
    try:
        yield d
    finally:
        if old is None:
            os.environ.pop("GORUN_KIT_CACHE", None)
        else:
            os.environ["GORUN_KIT_CACHE"] = old
        shutil.rmtree(d, ignore_errors=True)


def _timed(build, gocache: Path, expect_cached: bool) -> float:
    start = time.perf_counter()
    b = build(gocache)
    elapsed = time.perf_counter() - start
    if b.cached != expect_cached:
        raise RuntimeError(f"benchmark setup error: build cached={b.cached}, expected {expect_cached}")
    return elapsed


def _remove_gocache(gocache: Path) -> None:
    # Go marks cache directories read-only in places; make them removable.
    for root, dirs, _ in os.walk(gocache):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(gocache, ignore_errors=True)


def measure(program: str | os.PathLike, *, repeat: int = 3, go=None) -> PatchedBuildResult:
    """Time plain and patched builds of ``program``, ``repeat`` times per mode."""
    from ..build import build_go
    from ..threads import build as build_patched
    from ..toolchain import find_go

    tc = go or find_go()
    plain = lambda gc: build_go(program, go=tc, gocache=gc)  # noqa: E731
    patched = lambda gc: build_patched(program, go=tc, gocache=gc)  # noqa: E731
    times: dict[tuple[str, str], list[float]] = {}

    def add(variant: str, mode: str, seconds: float) -> None:
        times.setdefault((variant, mode), []).append(seconds)

    for _ in range(repeat):
        shared = Path(tempfile.mkdtemp(prefix="gocache-bench."))
        alone = Path(tempfile.mkdtemp(prefix="gocache-bench."))
        try:
            # plain: cold, then warm, then a gorun_kit cache hit
            with _private_kit_cache():
                add("plain", "cold", _timed(plain, shared, False))
            with _private_kit_cache():
                add("plain", "warm", _timed(plain, shared, False))
                add("plain", "hit", _timed(plain, shared, True))
            # patched, in the GOCACHE the plain builds filled: what a student
            # sees the first time (only packages above the runtime rebuild)
            with _private_kit_cache():
                add("patched", "first", _timed(patched, shared, False))
            with _private_kit_cache():
                add("patched", "warm", _timed(patched, shared, False))
                add("patched", "hit", _timed(patched, shared, True))
            # patched from an empty GOCACHE
            with _private_kit_cache():
                add("patched", "cold", _timed(patched, alone, False))
        finally:
            _remove_gocache(shared)
            _remove_gocache(alone)
    timings = tuple(BuildTiming(v, m, tuple(t)) for (v, m), t in times.items())
    return PatchedBuildResult(str(program), tc.version, os.cpu_count() or 0, timings)


def add_arguments(parser) -> None:
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode (default 3)")
    parser.add_argument("--program", help="the Go program to build (default: the course lab labs_go/threads_idle)")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")


def run(args) -> int:
    import json

    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1, not {args.repeat}")
    result = measure(args.program or Path(args.labs, *DEFAULT_LAB), repeat=args.repeat)
    print(f"{result.program} with {result.go_version}, {result.cpus} CPUs, median of {args.repeat}:")
    print(result.table())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    return 0
