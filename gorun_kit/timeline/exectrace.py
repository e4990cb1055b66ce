"""The runtime's execution trace, read through ``go tool trace``'s event dump.

The kit does not decode the binary trace format itself. The toolchain that
built the program also ships the reader that matches its format, and that
reader can print every parsed event: ``go tool trace -d=parsed`` from Go 1.23
on, and ``go tool trace -d=1`` in Go 1.22, where ``-d`` was an integer level.
:func:`dump_mode` asks the tool's own usage text which form it has.

That text is a debugging aid, not a stable interface, so this module relies
on a small part of it, and ``tests/test_timeline.py`` pins that part
on each release it is run with:

* one line per event, ``M=<tid> P=<id> G=<id> <Kind> Time=<ns> key=value ...``;
  ``M`` is the OS thread id (``m.procid``, the kernel tid on Linux), -1 for none;
* ``Time`` in ns of the trace clock, which on Linux is the runtime's
  ``nanotime`` (CLOCK_MONOTONIC) cut to 64 ns steps; a ``Sync`` event of
  Go 1.25 on carries ``Trace=`` and ``Mono=`` of one moment, which checks it;
* state transitions: ``GoID=<n> <From>-><To>`` or ``ProcID=<n> <From>-><To>``
  and ``Reason="..."``; ranges: ``Name="..." Scope=...``;
* stack frames follow an event on lines ``<TAB>function @ 0xPC`` (the file
  and line on a second, deeper-indented line).

Fields are read by name, in any order (1.22 puts ``Resource=`` first, 1.27
does not).
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import os
import re
from pathlib import Path
from typing import Iterable

from ..records import Record
from ..sessions import run_tool
from ..toolchain import GoToolchain, find_go, go_env

__all__ = ["ExecTraceEvent", "ExecTraceError", "dump_mode", "trace_tool", "parse_dump", "read"]

_EVENT = re.compile(r"^M=(-?\d+) P=(-?\d+) G=(-?\d+) (\w+) Time=(-?\d+)(.*)$")
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)|(\w+->\w+)')
_FRAME = re.compile(r"^\t(\S.*?) @ 0x[0-9a-f]+$")
_KEEP_FRAMES = 6  # enough to name the call that made a syscall or a range


class ExecTraceError(RuntimeError):
    """The execution trace could not be read."""


@dataclasses.dataclass(frozen=True)
class ExecTraceEvent(Record):
    """One event of the runtime's execution trace.

    ``m`` is the kernel tid of the thread the event happened on (-1: none),
    ``p`` the P it held and ``g`` the goroutine it ran (-1: none). ``time_ns``
    is CLOCK_MONOTONIC. ``transition`` is ``From->To`` of a state transition,
    of the goroutine ``goid`` or the P ``procid``. ``name`` is a range's or a
    metric's name; ``stack`` the first frames (function names) printed with it.
    """

    m: int
    p: int
    g: int
    kind: str
    time_ns: int
    goid: int | None = None
    procid: int | None = None
    transition: str | None = None
    reason: str | None = None
    name: str | None = None
    scope: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    stack: tuple[str, ...] = ()

    def field(self, key: str) -> str | None:
        return dict(self.fields).get(key)

    @property
    def before(self) -> str | None:
        return self.transition.split("->")[0] if self.transition else None

    @property
    def after(self) -> str | None:
        return self.transition.split("->")[1] if self.transition else None


def _unquote(value: str) -> str:
    """A Go %q string as text (Go's escapes are Python's: \\n, \\x41, \\u00e9...)."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value[1:-1]
    return value


def _event(match: re.Match) -> ExecTraceEvent:
    m, p, g, kind, time_ns, rest = match.groups()
    fields, transition = [], None
    for f in _FIELD.finditer(rest):
        if f.group(3):
            transition = f.group(3)
        else:
            fields.append((f.group(1), _unquote(f.group(2))))
    d = dict(fields)
    num = (lambda k: int(d[k]) if k in d and d[k].lstrip("-").isdigit() else None)
    return ExecTraceEvent(m=int(m), p=int(p), g=int(g), kind=kind, time_ns=int(time_ns), goid=num("GoID"),
                          procid=num("ProcID"), transition=transition, reason=d.get("Reason"),
                          name=d.get("Name"), scope=d.get("Scope"), fields=tuple(fields))


def parse_dump(lines: Iterable[str]) -> tuple[ExecTraceEvent, ...]:
    """The events of ``go tool trace -d=parsed`` (or 1.22's ``-d=1``) output.

    Lines that are neither an event nor a frame of the last event's stack are
    ignored (``Stack=`` headers, file:line lines). Raises ExecTraceError when
    the text holds no event at all.
    """
    events: list[ExecTraceEvent] = []
    frames: list[str] = []

    def close_last():
        if frames:
            events[-1] = dataclasses.replace(events[-1], stack=tuple(frames))

    for line in lines:  # "$" of the patterns also matches before a line's "\n"
        match = _EVENT.match(line)
        if match:
            close_last()
            frames = []
            events.append(_event(match))
            continue
        frame = _FRAME.match(line)
        if frame and events and len(frames) < _KEEP_FRAMES:
            # A transition's own stack comes first (TransitionStack=), the event's after it;
            # both name where the thread was, which is all a timeline shows.
            frames.append(frame.group(1))
    close_last()
    if not events:
        raise ExecTraceError("the execution trace dump holds no event")
    return tuple(events)


def trace_tool(go: GoToolchain | None = None) -> str:
    """The path of the toolchain's ``trace`` tool. Older releases ship it
    prebuilt in ``GOROOT/pkg/tool`` (1.22 does); newer ones (1.27 does) build
    it on the first ``go tool trace`` and keep it in the build cache, and
    ``go tool -n trace`` says where.
    Running it directly saves the ``go`` command's start-up (about 0.2 s)."""
    tc = go or find_go()
    path = _trace_tool(tc)
    if not os.path.isfile(path):  # the build cache was trimmed since
        _trace_tool.cache_clear()
        path = _trace_tool(tc)
    return path


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


@functools.lru_cache(maxsize=None)
def _trace_tool(tc: GoToolchain) -> str:
    prebuilt = Path(tc.goroot, "pkg", "tool", f"{tc.goos}_{tc.goarch}", "trace")
    if prebuilt.is_file():
        return str(prebuilt)
    env = go_env(toolchain=tc)
    where = run_tool([tc.go, "tool", "-n", "trace"], env=env, timeout=300)
    path = _text(where.stdout).strip()
    if where.returncode != 0 or not os.path.isfile(path):
        run_tool([tc.go, "tool", "trace", "-h"], env=env, timeout=300)  # builds it into the cache
        where = run_tool([tc.go, "tool", "-n", "trace"], env=env, timeout=300)
        path = _text(where.stdout).strip()
    if where.returncode != 0 or not os.path.isfile(path):
        said = (_text(where.stderr) or _text(where.stdout)).strip()[-300:]
        raise ExecTraceError(f"{tc.version} has no `go tool trace` to read execution traces with "
                             f"({said or 'go tool -n trace printed nothing'})")
    return path


def dump_mode(go: GoToolchain | None = None) -> str:
    """The ``-d`` value that makes this toolchain's ``go tool trace`` print
    parsed events: "parsed" (Go 1.23 on) or "1" (Go 1.22). Read from the
    tool's own usage text; raises ExecTraceError when it offers neither."""
    return _dump_mode(trace_tool(go))


@functools.lru_cache(maxsize=None)
def _dump_mode(tool: str) -> str:
    usage = run_tool([tool, "-h"], timeout=60)
    text = _text(usage.stdout) + _text(usage.stderr)
    if re.search(r"-d=mode:.*\bparsed\b", text):
        return "parsed"
    if re.search(r"-d=int:.*parsed events", text):
        return "1"
    raise ExecTraceError(f"{tool} offers no dump of parsed events (its usage has no -d=parsed or -d=int); "
                         f"the kit reads execution traces of Go 1.22 and later")


def read(path: str | os.PathLike, *, go: GoToolchain | None = None, timeout: float = 300) -> tuple[ExecTraceEvent, ...]:
    """The events of the execution trace file ``path``, parsed by ``go``'s own
    ``go tool trace`` (the toolchain that built the traced program).

    Raises FileNotFoundError for a missing file and ExecTraceError, with the
    tool's message, for a file it cannot parse (an empty or cut trace, such as
    the one a program that died in a fatal panic leaves).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"execution trace {os.fspath(path)!r} does not exist")
    if p.stat().st_size == 0:
        raise ExecTraceError(f"execution trace {os.fspath(path)!r} is empty: the program never flushed it "
                             f"(a fatal panic or signal ends a program without the exit hooks that do)")
    tc = go or find_go()
    tool = trace_tool(tc)
    proc = run_tool([tool, f"-d={_dump_mode(tool)}", os.fspath(p)], env=go_env(toolchain=tc), timeout=timeout)
    if proc.timed_out:
        raise ExecTraceError(f"`go tool trace` ({tc.version}) did not finish reading {os.fspath(path)!r} "
                             f"within {timeout} s; it was stopped")
    if proc.returncode != 0:
        raise ExecTraceError(f"`go tool trace` ({tc.version}) cannot read {os.fspath(path)!r}: "
                             f"{(_text(proc.stderr) or _text(proc.stdout)).strip()[-600:]}")
    return parse_dump(_text(proc.stdout).splitlines())
