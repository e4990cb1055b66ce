"""One timeline of a Go program: its processes, its runtime's threads and
what the scheduler did on them, on one clock, for Perfetto and for notebooks.

Public API
==========

    run(program, args=(), *, go=None, env=None, timeout=120) -> TimelineRun
        Build ``program`` with the thread hook, run it once under the course's
        tracer with the runtime's execution trace on (``$GORUN_KIT_EXECTRACE``,
        started by the patched runtime itself), and join the three sources
        exactly (:mod:`.join`). Raises OwnExecTrace, TimelineMismatch,
        UnsupportedRelease, BuildError, TraceTimeout.
    from_trace(trace) -> Timeline
        The process and thread tracks of any command traced with
        ``gorun_kit.trace.run`` (Go or not).
    join(trace, hook_text, events, ...) -> Timeline
        The same plus a Go process's hook records and execution trace.
    thread_table(timeline) -> str
        One line per thread: tid, M, who cloned it, why, and the gaps clone ->
        minit -> first execution-trace event.
    exectrace.read(path, go=None) -> tuple[ExecTraceEvent]
        A runtime execution trace, parsed by the toolchain's ``go tool trace``.
    chrome.to_chrome(timeline) -> dict; chrome.write(timeline, path)
        Chrome Trace Event JSON, which ui.perfetto.dev and chrome://tracing open;
        ``chrome.problems(doc)`` checks a document against the format.

Records (frozen dataclasses): Timeline, Span, Mark, Arrow, ThreadJoin,
ExecTraceEvent, TimelineRun. Times are CLOCK_MONOTONIC ns throughout.
``gorun_kit.viz.timeline`` draws a Timeline with matplotlib.
"""
from __future__ import annotations

from .exectrace import ExecTraceError, ExecTraceEvent
from .join import TimelineMismatch, join
from .model import CATEGORIES, Arrow, Mark, Span, ThreadJoin, Timeline, from_trace, thread_table
from .run import OwnExecTrace, TimelineRun, calls_trace_start, run

__all__ = [
    "run", "from_trace", "join", "thread_table", "TimelineRun", "Timeline", "Span", "Mark", "Arrow", "ThreadJoin",
    "ExecTraceEvent", "ExecTraceError", "TimelineMismatch", "OwnExecTrace", "calls_trace_start", "CATEGORIES",
]
