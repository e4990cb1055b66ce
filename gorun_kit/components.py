"""The seed's table of runtime components, rebuilt from the installed GOROOT.

The seed names one file per component (``runtime/mgcpacer.go`` for the whole
garbage collector, for instance). Here each component is described by the
definitions that make it up -- types, functions, methods, one telling call --
and every definition is searched for at run time in the files ``go list``
says are compiled into ``runtime`` for this GOOS/GOARCH and this toolchain's
default experiments (so ``mgcmark_greenteagc.go`` counts when Green Tea is on
and its ``nogreenteagc`` twin does not). The table follows the Go release: a
function that moves or disappears shows up as moved or missing, not as a
stale line number.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Sequence

from .binary import Symbol
from .records import Record
from .toolchain import GoToolchain, find_go, run_go

__all__ = ["Definition", "Component", "Finding", "ComponentRow", "COMPONENTS", "runtime_files",
           "find_definition", "component_table"]


@dataclasses.dataclass(frozen=True)
class Definition(Record):
    """Something to look for: ``kind`` is "type", "func", "method" (``Recv.name``) or "call" (a regex)."""

    kind: str
    name: str
    why: str  # one line: what this piece does in the component


@dataclasses.dataclass(frozen=True)
class Component(Record):
    name: str
    duty: str  # English rendering of the seed's "职责简述"
    seed_file: str  # the file the seed names, as it writes it
    definitions: tuple[Definition, ...]


@dataclasses.dataclass(frozen=True)
class Finding(Record):
    """Where one definition is in this GOROOT (``file`` empty and ``line`` 0 when absent)."""

    dict_properties = ("found",)

    definition: Definition
    file: str  # relative to GOROOT, e.g. "src/runtime/mgc.go"
    line: int
    text: str  # the matching line
    in_binary: bool | None  # whether a function's symbol is in the binary given (None: not asked)

    @property
    def found(self) -> bool:
        return bool(self.file)


@dataclasses.dataclass(frozen=True)
class ComponentRow(Record):
    """One component: where its definitions really are, beside the seed's single file."""

    dict_properties = ("files", "seed_file_holds_some", "seed_file_is_whole_story")

    component: Component
    findings: tuple[Finding, ...]
    go_version: str

    @property
    def files(self) -> tuple[str, ...]:
        """The distinct files holding the found definitions, most definitions first."""
        counts: dict[str, int] = {}
        for f in self.findings:
            if f.found:
                counts[f.file] = counts.get(f.file, 0) + 1
        return tuple(sorted(counts, key=lambda k: (-counts[k], k)))

    @property
    def seed_file_holds_some(self) -> bool:
        """The seed's file holds at least one of the definitions."""
        return any(f.endswith(self.component.seed_file) for f in self.files)

    @property
    def seed_file_is_whole_story(self) -> bool:
        """Every found definition is in the seed's file (the seed's table is complete for this row)."""
        return bool(self.files) and all(f.endswith(self.component.seed_file) for f in self.files)

    @property
    def missing(self) -> tuple[Definition, ...]:
        return tuple(f.definition for f in self.findings if not f.found)


def _d(kind: str, name: str, why: str) -> Definition:
    return Definition(kind, name, why)


# The seed's four rows (its 组件 / 职责简述 / 关键源码位置 columns) with what to look for.
COMPONENTS: tuple[Component, ...] = (
    Component("G-P-M model", "goroutines (G) run on OS threads (M) holding a logical processor (P)",
              "runtime/proc.go", (
                  _d("type", "g", "a goroutine"),
                  _d("type", "m", "an OS thread the runtime manages"),
                  _d("type", "p", "a logical processor: the right to run Go code, with a run queue"),
                  _d("type", "schedt", "the global scheduler state"),
                  _d("func", "schedule", "one round of the scheduler: pick a G and run it"),
                  _d("func", "findRunnable", "look everywhere for a runnable G (local, global, netpoll, steal)"),
                  _d("func", "newproc", "the go statement: make a new G"),
                  _d("func", "newm", "make a new M (chapter 4 follows it to clone)"),
              )),
    Component("GC (tri-color marking)", "concurrent, low-latency garbage collector",
              "runtime/mgcpacer.go", (
                  _d("func", "gcStart", "start a cycle: stop the world briefly, enable the write barrier"),
                  _d("func", "gcBgMarkWorker", "the background mark worker goroutines"),
                  _d("func", "gcDrain", "the mark loop: take grey work, blacken it"),
                  _d("func", "greyobject", "shade one object grey"),
                  _d("func", "scanSpan", "Green Tea: scan a whole span of small objects at once"),
                  _d("type", "gcControllerState", "the pacer: when to start, how much to assist"),
                  _d("type", "wbBuf", "the write barrier's per-P buffer of pointers to shade"),
                  _d("func", "sweepone", "sweep one span"),
                  _d("func", "bgsweep", "the background sweeper"),
              )),
    Component("mcache/mcentral", "per-P caches of small objects, so allocation rarely takes a lock",
              "runtime/mcache.go", (
                  _d("type", "mcache", "the per-P cache of spans, one per size class"),
                  _d("method", "mcache.refill", "get a fresh span when a size class runs out"),
                  _d("type", "mcentral", "the shared, locked list of spans of one size class"),
                  _d("method", "mcentral.cacheSpan", "hand a span to an mcache"),
                  _d("type", "mheap", "the page heap behind every mcentral"),
                  _d("func", "mallocgc", "the allocator entry every new object goes through"),
              )),
    Component("sysmon", "background thread: preemption, network polling, GC triggering",
              "runtime/proc.go", (
                  _d("func", "sysmon", "the monitor loop, on its own M without a P"),
                  _d("call", r"newm\(sysmon,", "runtime.main starting it"),
                  _d("func", "retake", "preempt long-running Gs, take Ps back from syscalls"),
                  _d("type", "forcegcstate", "the forced-GC helper sysmon wakes every 2 minutes"),
              )),
)


def runtime_files(toolchain: GoToolchain | None = None, pkg: str = "runtime") -> tuple[Path, ...]:
    """The .go and .s files ``go list`` says are compiled into ``pkg`` for this toolchain's target."""
    tc = toolchain or find_go()
    proc = run_go(["list", "-json", pkg], toolchain=tc, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"go list {pkg} failed: {proc.stderr.strip()}")
    info = json.loads(proc.stdout)
    names = list(info.get("GoFiles", [])) + list(info.get("SFiles", []))
    return tuple(Path(info["Dir"], n) for n in names)


def _pattern(d: Definition) -> re.Pattern:
    if d.kind == "type":
        return re.compile(rf"^type {re.escape(d.name)}\s+struct\b")
    if d.kind == "func":
        return re.compile(rf"^func {re.escape(d.name)}\s*[(\[]")
    if d.kind == "method":
        recv, meth = d.name.split(".", 1)
        return re.compile(rf"^func \(\s*\w*\s*\*?{re.escape(recv)}(\[[^\]]*\])?\s*\)\s+{re.escape(meth)}\s*[(\[]")
    if d.kind == "call":
        return re.compile(d.name)
    raise ValueError(f"definition kind {d.kind!r} is not one of type, func, method, call")


def find_definition(d: Definition, files: Sequence[Path], goroot: str) -> tuple[str, int, str]:
    """(file relative to GOROOT, line, text) of the first match in ``files``, or ("", 0, "")."""
    rx = _pattern(d)
    for path in files:
        if path.suffix != ".go":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if rx.search(line):
                return str(path.relative_to(goroot)), number, line.strip()
    return "", 0, ""


def _symbol_name(d: Definition) -> str | None:
    if d.kind == "func":
        return f"runtime.{d.name}"
    if d.kind == "method":
        recv, meth = d.name.split(".", 1)
        return f"runtime.(*{recv}).{meth}"
    return None


def component_table(components: Sequence[Component] = COMPONENTS, *, symbols: Sequence[Symbol] | None = None,
                    toolchain: GoToolchain | None = None) -> tuple[ComponentRow, ...]:
    """Search the installed runtime for every definition of every component.

    ``symbols`` (from :func:`gorun_kit.binary.read_symbols`) adds, for functions
    and methods, whether they were linked into that binary.
    """
    tc = toolchain or find_go()
    files = runtime_files(tc)
    names = {s.name for s in symbols} if symbols is not None else None
    rows = []
    for comp in components:
        findings = []
        for d in comp.definitions:
            file, line, text = find_definition(d, files, tc.goroot)
            sym = _symbol_name(d)
            in_binary = (sym in names) if (names is not None and sym is not None) else None
            findings.append(Finding(d, file, line, text, in_binary))
        rows.append(ComponentRow(comp, tuple(findings), tc.version))
    return tuple(rows)
