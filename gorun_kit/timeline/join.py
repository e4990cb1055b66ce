"""Joining the Go runtime's view onto the process and thread tracks.

Three instruments saw the same threads of one Go process, each from its side:

* the tracer: the clone that made each thread (its parent tid, the time);
* the thread hook: ``new`` (newm asked for an M), ``clone`` (newm1) and
  ``start`` (mstart1 after minit, on the thread, with its tid);
* the runtime's execution trace: every event with ``M=`` the thread's tid.

They share the tid and the clock (CLOCK_MONOTONIC), so the join is exact,
and :func:`join` checks it rather than assuming it; a disagreement raises
:class:`TimelineMismatch` naming the thread:

* every thread that has execution-trace events is the main thread or a
  thread the tracer saw cloned, and has a hook ``start`` record;
* for each thread, the tracer's clone comes before the hook's ``start``, and
  that before the thread's first execution-trace event;
* the thread that called clone (tracer) is the one the hook's ``clone``
  record names.

A thread with no execution-trace events is not an error; its
:attr:`ThreadJoin.exectrace` says why (it ended before the trace began, or
did nothing the trace records, as sysmon, which runs without a P).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence

from ..threads.records import MRecord, creation_cause, ms_from_records, parse_records
from ..trace import Trace
from .exectrace import ExecTraceEvent
from .model import Mark, Span, ThreadJoin, Timeline, _args, from_trace

__all__ = ["TimelineMismatch", "join", "exectrace_spans"]


class TimelineMismatch(RuntimeError):
    """The instruments disagree about a thread: a bug to find, not a gap to hide."""


def _hook_by_process(hook_text: str, tid_pid: Mapping[int, int]) -> dict[int, list[dict]]:
    """The hook's records grouped by the process that wrote them (the tid a
    record names -- ``tid`` of a start, ``by_tid`` of new and clone -- is
    a thread the tracer saw). M ids repeat across processes, so records of a
    Go child must not be merged with the parent's."""
    out: dict[int, list[dict]] = {}
    for rec in parse_records(hook_text):
        tid = rec.get("tid", rec.get("by_tid"))
        out.setdefault(tid_pid.get(tid, -1), []).append(rec)
    return out


def _hook_marks(pid: int, ms: Sequence[MRecord]) -> list[Mark]:
    marks = []
    for m in ms:  # each hook record sets its time and its thread together
        if m.t_new is not None:
            marks.append(Mark(pid, m.asked_by_tid, f"newm M{m.m}", "hook", m.t_new, _args(fn=m.start_fn, by_m=m.asked_by_m)))
        if m.t_clone is not None:
            marks.append(Mark(pid, m.cloned_by_tid, f"newm1 clones M{m.m}", "hook", m.t_clone,
                              _args(by_m=m.cloned_by_m, cgo=m.cgo)))
        if m.t_start is not None:
            marks.append(Mark(pid, m.tid, f"minit M{m.m}", "hook", m.t_start, _args(fn=m.start_fn, procid=m.procid)))
    return marks


def exectrace_spans(pid: int, events: Sequence[ExecTraceEvent], t_end: int) -> list[Span]:
    """The spans one Go process's execution trace describes, on the tracks
    of its threads (the event's ``M``): the P each holds, the goroutine it
    runs, that goroutine's system calls, and the ranges (GC work,
    stop-the-world) it is in. Global ranges (the GC mark phase) go on the
    process track. Anything still open at the end closes at ``t_end``."""
    spans: list[Span] = []
    running: dict[int, tuple[int, int, int]] = {}  # goid -> (m, start, p)
    syscall: dict[int, tuple[int, int]] = {}  # goid -> (m, start)
    held: dict[int, tuple[int, int]] = {}  # procid -> (m, start)
    ranges: dict[tuple[str, str], tuple[int, int]] = {}  # (name, scope) -> (m, start)

    def close_g(goid: int, at: int) -> None:
        if goid in running:
            m, start, p = running.pop(goid)
            spans.append(Span(pid, m, f"G{goid}", "goroutine", start, at, _args(p=p if p >= 0 else None)))

    def close_sys(goid: int, at: int, how: str) -> None:
        if goid in syscall:
            m, start = syscall.pop(goid)
            spans.append(Span(pid, m, "syscall", "syscall", start, at, _args(g=goid, ended=how)))

    def close_p(procid: int, at: int) -> None:
        if procid in held:
            m, start = held.pop(procid)
            spans.append(Span(pid, m, f"P{procid}", "proc", start, at))

    for ev in events:
        t = ev.time_ns
        if ev.kind == "StateTransition" and ev.goid is not None:
            if ev.before == "Running":
                close_g(ev.goid, t)
            if ev.before == "Syscall":
                close_sys(ev.goid, t, ev.after)
            if ev.after == "Running" and ev.m >= 0:
                running[ev.goid] = (ev.m, t, ev.p)
            if ev.after == "Syscall" and ev.m >= 0:
                syscall[ev.goid] = (ev.m, t)
        elif ev.kind == "StateTransition" and ev.procid is not None:
            if ev.after in ("Running",) and ev.m >= 0:
                close_p(ev.procid, t)
                held[ev.procid] = (ev.m, t)
            elif ev.after in ("Idle", "NotExist"):
                close_p(ev.procid, t)
        elif ev.kind in ("RangeBegin", "RangeActive") and ev.name:
            ranges[(ev.name, ev.scope or "")] = (ev.m, t)
        elif ev.kind == "RangeEnd" and ev.name:
            m, start = ranges.pop((ev.name, ev.scope or ""), (ev.m, t))
            spans.append(_range_span(pid, ev.name, ev.scope, m, start, t))
    for goid in list(running):
        close_g(goid, t_end)
    for goid in list(syscall):
        close_sys(goid, t_end, "trace end")
    for procid in list(held):
        close_p(procid, t_end)
    for (name, scope), (m, start) in ranges.items():
        spans.append(_range_span(pid, name, scope, m, start, t_end))
    return spans


def _range_span(pid: int, name: str, scope: str | None, m: int, start: int, end: int) -> Span:
    # "stop-the-world (GC sweep termination)" names GC but is a stop of the world
    gc = not name.startswith("stop-the-world") and ("GC" in name or "sweep" in name or "mark" in name)
    category = "gc" if gc else "runtime"
    tid = None if scope in (None, "", "None") or m < 0 else m  # "None": a range of the whole process (GC mark phase)
    return Span(pid, tid, name, category, start, end, _args(scope=scope))


def _first_events(events: Iterable[ExecTraceEvent]) -> dict[int, int]:
    first: dict[int, int] = {}
    for ev in events:
        if ev.m >= 0:
            first.setdefault(ev.m, ev.time_ns)
    return first


def _thread_joins(trace: Trace, pid: int, ms: Sequence[MRecord], first: Mapping[int, int],
                  exectrace_from: int | None) -> list[ThreadJoin]:
    threads = {tid: t for tid, t in trace.threads().items() if t.pid == pid}
    by_tid = {m.tid: m for m in ms if m.tid is not None}
    problems, joins = [], []
    for tid in sorted(set(first) - set(threads)):
        problems.append(f"tid {tid} has execution-trace events but the tracer saw no such thread in pid {pid}")
    for tid in sorted(set(first) - set(by_tid)):
        problems.append(f"tid {tid} has execution-trace events but no hook start record (minit)")
    for tid, t in sorted(threads.items()):
        m = by_tid.get(tid)
        t_clone = t.spawn.ts_ns if t.spawn is not None else None
        t_start = m.t_start if m else None
        t_first = first.get(tid)
        if t_clone is not None and t_start is not None and not t_clone < t_start:
            problems.append(f"tid {tid}: the hook's start ({t_start}) is not after the tracer's clone ({t_clone})")
        if t_start is not None and t_first is not None and not t_start < t_first:
            problems.append(f"tid {tid}: its first execution-trace event ({t_first}) is not after the hook's start ({t_start})")
        if m is not None and t.spawn is not None and m.cloned_by_tid is not None and m.cloned_by_tid != t.spawn.parent_tid:
            problems.append(f"tid {tid} (M{m.m}): the tracer saw tid {t.spawn.parent_tid} clone it, "
                            f"the hook's newm1 ran on tid {m.cloned_by_tid}")
        t_exit = t.end_ns
        if t_first is not None:
            why = "events"
        elif exectrace_from is None:
            why = "no execution trace"
        elif t_exit is not None and t_exit < exectrace_from:
            why = "ended before the execution trace began"
        elif m is not None and m.start_fn in ("runtime.sysmon", "runtime.templateThread"):
            why = f"no events: {m.start_fn} runs without a P, and the trace records what Ps and goroutines do"
        else:
            why = "no events after the execution trace began"
        cause = creation_cause(m) if m is not None else None
        joins.append(ThreadJoin(pid=pid, tid=tid, m=m.m if m else None,
                                creator_tid=t.spawn.parent_tid if t.spawn is not None else None,
                                asked_by_m=m.asked_by_m if m else None, start_fn=m.start_fn if m else None,
                                reason=cause.reason if cause else None, t_clone=t_clone, t_start=t_start,
                                t_first_event=t_first, t_exit=t_exit, exectrace=why))
    if problems:
        raise TimelineMismatch(f"the tracer, the thread hook and the execution trace disagree about pid {pid}:\n  "
                               + "\n  ".join(problems))
    return joins


def join(trace: Trace, hook_text: str, events: Sequence[ExecTraceEvent] = (), *,
         go_version: str | None = None, notes: Sequence[str] = ()) -> Timeline:
    """The timeline of one run of a hooked Go program: :func:`~.model.from_trace`'s
    tracks, the hook's records of every hooked process, and the execution
    trace ``events`` of the root process, checked against each other (see
    the module docstring). Raises :class:`TimelineMismatch`."""
    base = from_trace(trace)
    tid_pid = {tid: t.pid for tid, t in trace.threads().items()}
    hooked = _hook_by_process(hook_text, tid_pid)
    marks = list(base.marks)
    spans = list(base.spans)
    joins: list[ThreadJoin] = []
    first = _first_events(events)
    exectrace_from = min((ev.time_ns for ev in events), default=None)
    t_end = max([base.t_end_ns, *(ev.time_ns for ev in events)])
    for pid, records in sorted(hooked.items()):
        if pid < 0:
            raise TimelineMismatch(f"{len(records)} thread-hook records name threads the tracer never saw: "
                                   f"{records[0]}")
        ms = ms_from_records(records)
        marks.extend(_hook_marks(pid, ms))
        process_first = first if pid == trace.root_pid else {}
        process_from = exectrace_from if pid == trace.root_pid else None
        pj = _thread_joins(trace, pid, ms, process_first, process_from)
        joins.extend(pj)
        for j in pj:
            if j.t_clone is not None and j.t_start is not None:
                spans.append(Span(pid, j.tid, f"clone -> minit M{j.m}", "creation", j.t_clone, j.t_start,
                                  _args(creator_tid=j.creator_tid, reason=j.reason or j.start_fn)))
    if events and trace.root_pid not in hooked:
        raise TimelineMismatch(f"the execution trace has {len(events)} events but pid {trace.root_pid} wrote no "
                               f"thread-hook record: was it built with gorun_kit.threads.build?")
    spans.extend(exectrace_spans(trace.root_pid, events, t_end))
    return dataclasses.replace(base, spans=tuple(spans), marks=tuple(marks), threads=tuple(joins),
                               t_end_ns=t_end, go_version=go_version, exectrace_from_ns=exectrace_from,
                               notes=tuple(notes))
