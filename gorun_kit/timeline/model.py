"""The records of a timeline, and the process and thread tracks made from a trace.

A :class:`Timeline` is a set of tracks, one per (pid, tid), holding
:class:`Span` (a stretch of time), :class:`Mark` (a moment) and
:class:`Arrow` (creator to created). All times are CLOCK_MONOTONIC ns, the
clock of the tracer, of the thread hook's ``nanotime`` and of the runtime's
execution trace on Linux. :func:`from_trace` makes the process and thread
tracks any traced command has; :mod:`.join` adds a Go runtime's view.
"""
from __future__ import annotations

import dataclasses
import platform
import shlex

from ..records import Record
from ..trace import Trace
from ..trace.records import escape

__all__ = ["Span", "Mark", "Arrow", "ThreadJoin", "Timeline", "from_trace", "thread_table", "CATEGORIES"]

# What a span or mark is; the Chrome JSON's "cat" and the drawing's colour key.
CATEGORIES = {
    "process": "a process's life, from its spawn to its exit",
    "thread": "a thread's life, from its clone to its exit",
    "creation": "clone -> minit: the kernel made the thread, the runtime set it up",
    "exec": "an execve, with its argv",
    "exec-failed": "an execve that failed",
    "exit": "a thread's or process's exit",
    "hook": "a thread-hook record: newm asked for an M, newm1 cloned it, mstart1 ran minit",
    "proc": "the thread holds a P",
    "goroutine": "a goroutine runs on the thread",
    "syscall": "the goroutine on the thread is in a system call",
    "gc": "garbage-collector work (a range of the execution trace)",
    "runtime": "another range of the execution trace (stop-the-world, ...)",
}


def _args(**kw) -> tuple[tuple[str, str], ...]:
    return tuple((k, str(v)) for k, v in kw.items() if v is not None)


@dataclasses.dataclass(frozen=True)
class Span(Record):
    """A stretch of time on the track of thread ``tid`` of process ``pid``
    (``tid`` None: the process as a whole, e.g. a GC phase)."""

    pid: int
    tid: int | None
    name: str
    category: str
    start_ns: int
    end_ns: int
    args: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Mark(Record):
    """A moment on thread ``tid`` of process ``pid``."""

    pid: int
    tid: int
    name: str
    category: str
    ts_ns: int
    args: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Arrow(Record):
    """Creator to created: a thread that cloned a thread ("thread") or a
    process ("process"), from the creator's moment to the created's start."""

    kind: str
    from_pid: int
    from_tid: int
    from_ns: int
    to_pid: int
    to_tid: int
    to_ns: int


@dataclasses.dataclass(frozen=True)
class ThreadJoin(Record):
    """One thread of a hooked Go process as the three instruments saw it.

    ``t_clone``: the tracer's clone record (None for the main thread);
    ``t_start``: the hook's ``start`` record, written on the thread after
    minit; ``t_first_event``: its first execution-trace event (None: none).
    ``exectrace`` says why a thread has no events when it has none.
    """

    pid: int
    tid: int
    m: int | None
    creator_tid: int | None  # the thread that called clone (tracer), None for the main thread
    asked_by_m: int | None  # the M that called newm (hook)
    start_fn: str | None
    reason: str | None  # why the M was made (the hook's call chain), when known
    t_clone: int | None
    t_start: int | None
    t_first_event: int | None
    t_exit: int | None
    exectrace: str  # "events", or why there are none


@dataclasses.dataclass(frozen=True)
class Timeline(Record):
    """Every track of one run, on CLOCK_MONOTONIC ns.

    ``threads`` is filled for the hooked Go process (empty for a plain
    trace); ``exectrace_from_ns`` is when its execution trace began.
    """

    command: tuple[str, ...]
    root_pid: int
    exit_status: int | None
    t0_ns: int
    t_end_ns: int
    spans: tuple[Span, ...]
    marks: tuple[Mark, ...]
    arrows: tuple[Arrow, ...]
    names: tuple[tuple[int, str], ...]  # pid -> a process name (its last program)
    threads: tuple[ThreadJoin, ...] = ()
    go_version: str | None = None
    kernel: str = dataclasses.field(default_factory=platform.release)
    exectrace_from_ns: int | None = None
    notes: tuple[str, ...] = ()

    def tracks(self) -> tuple[tuple[int, int | None], ...]:
        """(pid, tid) of every track, processes in order of appearance, the
        process-wide track (tid None) first, then threads by first use."""
        seen: dict[tuple[int, int | None], int] = {}
        for item in sorted([*self.spans, *self.marks], key=lambda x: getattr(x, "start_ns", getattr(x, "ts_ns", 0))):
            seen.setdefault((item.pid, item.tid), len(seen))
        pids = list(dict.fromkeys(pid for pid, _ in seen))
        return tuple(sorted(seen, key=lambda k: (pids.index(k[0]), k[1] is not None, k[1] != k[0], seen[k])))

    def name_of(self, pid: int) -> str:
        return dict(self.names).get(pid, "?")


def _argv_text(argv) -> str:
    return escape(shlex.join(argv))


def from_trace(trace: Trace) -> Timeline:
    """The process and thread tracks of a traced run: each process's life,
    execs (argv), failed execs and exit on its main thread; each thread's
    life; an arrow from every creating thread to what it created."""
    if trace.tool != "tracer":
        raise ValueError("a timeline needs CLOCK_MONOTONIC times: trace with the course's tracer "
                         f"(gorun_kit.trace.run), not {trace.tool} (its times are the wall clock)")
    events = trace.events
    t0 = min((e.ts_ns for e in events), default=trace.start_ns or 0)
    if trace.start_ns is not None:
        t0 = min(t0, trace.start_ns)
    t_end = max((e.ts_ns for e in events), default=t0)
    spans, marks, arrows, names = [], [], [], []
    procs = trace.processes()
    for p in procs.values():
        start = p.start_ns if p.start_ns is not None else t0
        end = p.end_ns if p.end_ns is not None else t_end
        names.append((p.pid, p.program or (procs[p.parent_pid].program if p.parent_pid in procs else None) or "?"))
        spans.append(Span(p.pid, p.pid, f"pid {p.pid}", "process", start, end,
                          _args(kind=p.kind, exit_code=p.exit_code, signal=p.signal)))
        for x in p.execs:
            marks.append(Mark(p.pid, p.pid, f"exec {x.program}", "exec", x.ts_ns,
                              _args(filename=escape(x.filename), argv=_argv_text(x.argv), tid=x.former_tid)))
        for x in p.exec_failures:
            marks.append(Mark(p.pid, x.tid, f"exec failed {x.errno}", "exec-failed", x.ts_ns,
                              _args(filename=escape(x.filename), argv=_argv_text(x.argv), errno=x.errno)))
        if p.spawn is not None:
            arrows.append(Arrow("process", p.spawn.parent_pid, p.spawn.parent_tid, p.spawn.ts_ns, p.pid, p.pid, start))
    for t in trace.threads().values():
        if t.exit is not None:
            what = f"signal {t.exit.signal}" if t.exit.signal else f"exit {t.exit.exit_code}"
            marks.append(Mark(t.pid, t.tid, what, "exit", t.exit.ts_ns,
                              _args(last_thread=t.exit.last_thread, core_dumped=t.exit.core_dumped or None)))
        if t.tid == t.pid:
            continue
        start = t.start_ns if t.start_ns is not None else t0
        end = t.end_ns if t.end_ns is not None else t_end
        spans.append(Span(t.pid, t.tid, f"tid {t.tid}", "thread", start, end))
        if t.spawn is not None:
            arrows.append(Arrow("thread", t.pid, t.spawn.parent_tid, t.spawn.ts_ns, t.pid, t.tid, start))
    return Timeline(command=tuple(trace.command), root_pid=trace.root_pid, exit_status=trace.returncode,
                    t0_ns=t0, t_end_ns=max(t_end, t0), spans=tuple(spans), marks=tuple(marks), arrows=tuple(arrows),
                    names=tuple(names))


def _us(a: int | None, b: int | None) -> str:
    return f"{(b - a) / 1e3:.0f}" if a is not None and b is not None else "-"


def thread_table(timeline: Timeline) -> str:
    """One line per thread of the hooked process: tid, M, the tid that cloned
    it, why its M was made (or its start function), and the microseconds
    from clone to minit and from minit to its first execution-trace event."""
    rows = [("tid", "M", "cloned by", "clone->minit us", "minit->first event us", "why / start fn")]
    for j in timeline.threads:
        rows.append((str(j.tid), "-" if j.m is None else f"M{j.m}", "-" if j.creator_tid is None else str(j.creator_tid),
                     _us(j.t_clone, j.t_start), _us(j.t_start, j.t_first_event) if j.exectrace == "events" else j.exectrace,
                     j.reason or (j.start_fn or "-").replace("none", "main thread" if j.creator_tid is None else "none")))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows)
