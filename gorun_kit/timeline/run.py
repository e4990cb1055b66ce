"""One run of a Go program with every instrument on, joined into one timeline.

:func:`run` builds the program against the hooked runtime (the thread hook
with its call-chain extension, so each M says why it was made), runs it once
under the course's tracer with the hook's records and the runtime's
execution trace each going to a file of a private directory, reads the
trace with the toolchain's own ``go tool trace``, and joins the three
(:func:`~.join.join`). The directory is removed whatever happens; the tracer
leaves nothing running.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path
from typing import Mapping, Sequence

from .. import trace as tracer
from ..binary import read_symbols
from ..cache import scratch_dir
from ..records import Record
from ..threads import CALLERS_EXTENSION, EXECTRACE_ENV, ENV, build
from ..toolchain import GoToolchain, find_go
from .exectrace import ExecTraceError, read
from .join import join
from .model import Timeline

__all__ = ["TimelineRun", "OwnExecTrace", "run", "calls_trace_start", "died_in_panic"]

_AREA = "timeline/runs"
_TRACE_START = "runtime/trace.Start"
# Functions through which runtime/trace starts a trace: Start itself (Go 1.22-1.24),
# and, once Start is small enough to be inlined, what it calls (the subscriber
# multiplexer of Go 1.25 on), plus the flight recorder's Start.
_STARTERS = frozenset({_TRACE_START, "runtime/trace.(*traceMultiplexer).subscribeTraceStartWriter",
                       "runtime/trace.(*FlightRecorder).Start"})


class OwnExecTrace(ValueError):
    """The program can start an execution trace of its own, which the timeline's excludes."""


@dataclasses.dataclass(frozen=True)
class TimelineRun(Record):
    """A timeline and what the program printed.

    ``exectrace_bytes``: the size of the runtime's execution trace (0 when
    the program never flushed it: see ``timeline.notes``). ``phases``: the
    seconds each step took (build, traced run, reading the trace, join)."""

    timeline: Timeline
    binary: str
    stdout: str
    stderr: str
    exectrace_bytes: int
    phases: tuple[tuple[str, float], ...] = ()


def calls_trace_start(binary: str | os.PathLike) -> bool:
    """Whether the linked program contains ``runtime/trace.Start`` or what
    it inlines into -- the linker keeps only functions something calls, so it
    can start a trace (its own code, or a package such as net/http/pprof)."""
    return any(s.name in _STARTERS for s in read_symbols(binary))


def died_in_panic(exit_status: int | None, stderr: str) -> bool:
    """A Go program that died in a panic or fatal error exits 2 and says so on stderr."""
    return exit_status == 2 and ("\npanic: " in "\n" + stderr or "fatal error: " in stderr)


def _notes(exit_status: int | None, stderr: str, size: int, problem: str | None) -> list[str]:
    """What the timeline lacks, and why: the runtime flushes its execution
    trace only on the two exits that run Go code (main returns, os.Exit)."""
    panicked = died_in_panic(exit_status, stderr)
    killed = exit_status is not None and exit_status > 128
    how = (f"the program ended in a fatal panic or error (exit status {exit_status}), which runs no exit hook"
           if panicked else f"a signal ended the program (exit status {exit_status})" if killed else None)
    no_tracks = ("the timeline has the processes, the threads and the hook's records, and no execution-trace "
                 "tracks")
    if not size:
        return [f"{how}: the execution trace was never flushed (the file is empty); {no_tracks}" if how
                else "no execution trace: the file is empty"]
    if problem:
        return [f"{how}: the execution trace it left cannot be read ({problem}); {no_tracks}" if how
                else f"no execution trace: {problem}"]
    if how:
        return [f"{how}: the execution trace holds only what the runtime had handed its reader before; "
                "the last events before the end are missing"]
    return []


def run(program: str | os.PathLike, args: Sequence[str] = (), *, go: GoToolchain | None = None,
        env: Mapping[str, str] | None = None, timeout: float = 120) -> TimelineRun:
    """Build ``program`` (a .go file or package directory) with the hook, run
    it once with ``args`` under the course's tracer, and join the tracer's
    records, the hook's and the runtime's execution trace.

    Raises OwnExecTrace when the program links ``runtime/trace.Start`` (its
    own trace would fail with "tracing is already enabled" while the
    timeline's runs); what :func:`gorun_kit.threads.build` raises
    (UnsupportedRelease, BuildError, FileNotFoundError); TraceTimeout after
    ``timeout`` seconds; :class:`~.join.TimelineMismatch` when the
    instruments disagree. A program that fails or panics still gives a
    timeline, with ``notes`` saying what is missing.
    """
    tc = go or find_go()
    phases = [("build", time.perf_counter())]
    binary = build(program, go=tc, extension=CALLERS_EXTENSION.read_text())
    if calls_trace_start(binary.path):
        raise OwnExecTrace(
            f"{os.fspath(program)} links {_TRACE_START} (its own code, or a package such as net/http/pprof, can "
            "start an execution trace): the timeline starts the runtime's one execution trace itself, and a "
            "second trace.Start would fail with \"tracing is already enabled\". Remove the call, or trace it "
            f"without the runtime's view: gorun-kit trace --perfetto FILE -- {binary.path}")
    work = scratch_dir(_AREA, "run")
    try:
        hook_file, exec_file = work / "threads.txt", work / "exec.trace"
        run_env = dict(os.environ if env is None else env)
        run_env.update({ENV: str(hook_file), EXECTRACE_ENV: str(exec_file)})
        phases.append(("traced run", time.perf_counter()))
        t = tracer.run([binary.path, *args], env=run_env, timeout=timeout, confine=True, writable=[str(work)])
        phases.append(("go tool trace", time.perf_counter()))
        hook_text = hook_file.read_text(errors="replace") if hook_file.exists() else ""
        size = exec_file.stat().st_size if exec_file.exists() else 0
        events, problem = (), None
        if size:
            try:
                events = read(exec_file, go=tc)
            except ExecTraceError as exc:
                problem = str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stdout = (t.stdout or b"").decode("utf-8", errors="replace")
    stderr = (t.stderr or b"").decode("utf-8", errors="replace")
    phases.append(("join", time.perf_counter()))
    timeline = join(t, hook_text, events, go_version=tc.version,
                    notes=_notes(t.returncode, stderr, size, problem))
    phases.append(("", time.perf_counter()))
    took = tuple((name, end - start) for (name, start), (_, end) in zip(phases, phases[1:]))
    return TimelineRun(timeline=timeline, binary=binary.path, stdout=stdout, stderr=stderr, exectrace_bytes=size,
                       phases=took)
