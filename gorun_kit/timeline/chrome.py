"""A :class:`~.model.Timeline` as Chrome Trace Event JSON, the "JSON Object
Format" that ui.perfetto.dev and chrome://tracing open, and a check of it.

:func:`to_chrome` maps the records onto the format:

* each (pid, tid) track is a thread of a process, named and ordered as
  :meth:`Timeline.tracks` orders them (``M`` metadata events);
* a :class:`~.model.Span` of a thread is a complete event (``X``). The
  format requires the slices of one thread to nest, and Perfetto drops a
  slice that crosses another, so a span that would cross one already on its
  thread (the P a thread holds often ends inside a system call) becomes an
  async slice of its process instead (``b``/``e``, named with its tid).
  Which one moves is decided by category: a thread's life, clone -> minit,
  goroutines and system calls stay on the thread before ranges and Ps do.
  A process-wide span (``tid`` None, e.g. a GC phase) is an async slice too;
* a :class:`~.model.Mark` is a thread-scoped instant event (``i``);
* an :class:`~.model.Arrow` is a flow (``s`` on the creator, ``f`` with
  ``"bp": "e"`` on the created). A viewer binds a flow's ends to the slices
  that enclose them, so where no slice of the track covers an end a 1 ns
  slice ("clone" on the creator's side, "start" on the created's) is added.

Times are µs since ``timeline.t0_ns`` with three decimals: the ns of the
records, kept exactly. The events of each track are in time order, after
all the metadata. :func:`problems` checks a loaded document against the
format's rules (the ones the viewers enforce, and those above).
"""
from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Any

from .model import Timeline

__all__ = ["to_chrome", "write", "problems", "PHASES"]

# Every phase of the format; the writer uses X i b e s f M.
PHASES = frozenset("B E X i I b e n s t f M C".split())
METADATA = frozenset({"process_name", "thread_name", "process_sort_index", "thread_sort_index", "process_labels"})
ARROW_CATEGORY = {"thread": "thread-creation", "process": "process-creation"}

# The order in which a thread's spans claim a place on its track: a span that
# would cross one placed before it becomes an async slice.
_NESTING = ("process", "thread", "creation", "goroutine", "syscall", "gc", "runtime")
_LAST = ("proc",)  # a P is handed over in the middle of a system call, so it yields

_MAX_PROBLEMS = 50


def _rank(category: str) -> int:
    if category in _NESTING:
        return _NESTING.index(category)
    return len(_NESTING) + (1 if category in _LAST else 0)


class _Laminar:
    """Intervals [start, end] of one track that nest or are disjoint (sharing an end is fine)."""

    def __init__(self) -> None:
        self.by_start: list[tuple[int, int]] = []
        self.by_end: list[tuple[int, int]] = []

    def fits(self, start: int, end: int) -> bool:
        lo = bisect.bisect_right(self.by_start, (start, math.inf))
        hi = bisect.bisect_left(self.by_start, (end, -math.inf))
        if any(b > end for _, b in self.by_start[lo:hi]):  # starts inside, ends after
            return False
        lo = bisect.bisect_right(self.by_end, (start, math.inf))
        hi = bisect.bisect_left(self.by_end, (end, -math.inf))
        return not any(a < start for _, a in self.by_end[lo:hi])  # ends inside, starts before

    def add(self, start: int, end: int) -> None:
        bisect.insort(self.by_start, (start, end))
        bisect.insort(self.by_end, (end, start))

    def covers(self, t: int) -> bool:
        i = bisect.bisect_right(self.by_start, (t, math.inf))
        return any(b > t for _, b in self.by_start[:i])


def _order(event: dict) -> tuple:
    # at one moment: slices open first (the longer outside), then instants and flows, then async ends
    rank = {"X": 0, "b": 0, "i": 1, "s": 1, "f": 1, "e": 2}[event["ph"]]
    return (event["ts"], rank, -event.get("dur", 0))


def _thread_name(tid: int, join) -> str:
    parts = [f"tid {tid}"]
    if join is not None and join.m is not None:
        parts.append(f"M{join.m}")
    if join is not None and join.start_fn and join.start_fn != "none":
        parts.append(f"({join.start_fn})")
    return " ".join(parts)


def to_chrome(timeline: Timeline) -> dict:
    """The Chrome Trace Event document of ``timeline`` (see the module
    docstring): ``traceEvents``, ``displayTimeUnit`` "ns" and ``otherData``
    with the command, Go version, kernel, when the execution trace began,
    the notes, ``t0_ns`` and every :class:`~.model.ThreadJoin` as a dict.
    Raises ValueError for a span that ends before it starts."""
    t0 = timeline.t0_ns

    def us(ns: int) -> float:
        return round((ns - t0) / 1000, 3)

    ids = itertools.count(1)
    tracks: dict[tuple[int, int], list[dict]] = defaultdict(list)
    placed: dict[tuple[int, int], _Laminar] = defaultdict(_Laminar)

    def async_pair(span, tid: int, name: str, args: dict) -> None:
        ident = next(ids)
        common = {"name": name, "cat": span.category, "id": ident, "pid": span.pid, "tid": tid}
        tracks[(span.pid, tid)].append({**common, "ph": "b", "ts": us(span.start_ns), "args": args})
        tracks[(span.pid, tid)].append({**common, "ph": "e", "ts": us(span.end_ns)})

    for span in timeline.spans:
        if span.end_ns < span.start_ns:
            raise ValueError(f"span {span.name!r} of pid {span.pid} tid {span.tid} ends ({span.end_ns}) before "
                             f"it starts ({span.start_ns}): the timeline is inconsistent")
    thread_spans = sorted((s for s in timeline.spans if s.tid is not None),
                          key=lambda s: (_rank(s.category), s.start_ns, s.start_ns - s.end_ns))
    for span in thread_spans:
        key = (span.pid, span.tid)
        args = dict(span.args)
        if placed[key].fits(span.start_ns, span.end_ns):
            placed[key].add(span.start_ns, span.end_ns)
            tracks[key].append({"ph": "X", "name": span.name, "cat": span.category, "ts": us(span.start_ns),
                                "dur": round((span.end_ns - span.start_ns) / 1000, 3), "pid": span.pid,
                                "tid": span.tid, "args": args})
        else:
            async_pair(span, span.tid, f"{span.name} (tid {span.tid})", {**args, "tid": str(span.tid)})
    for span in timeline.spans:
        if span.tid is None:
            async_pair(span, span.pid, span.name, dict(span.args))

    for mark in timeline.marks:
        tracks[(mark.pid, mark.tid)].append({"ph": "i", "s": "t", "name": mark.name, "cat": mark.category,
                                             "ts": us(mark.ts_ns), "pid": mark.pid, "tid": mark.tid,
                                             "args": dict(mark.args)})

    for arrow in timeline.arrows:
        cat = ARROW_CATEGORY.get(arrow.kind, f"{arrow.kind}-creation")
        what = f"tid {arrow.to_tid}" if arrow.kind == "thread" else f"pid {arrow.to_pid}"
        ident = next(ids)
        for ph, pid, tid, ns, stub in (("s", arrow.from_pid, arrow.from_tid, arrow.from_ns, "clone"),
                                       ("f", arrow.to_pid, arrow.to_tid, arrow.to_ns, "start")):
            key = (pid, tid)
            if not placed[key].covers(ns):
                placed[key].add(ns, ns + 1)
                tracks[key].append({"ph": "X", "name": stub, "cat": cat, "ts": us(ns), "dur": 0.001,
                                    "pid": pid, "tid": tid, "args": {"creates": what}})
            event = {"ph": ph, "name": f"creates {what}", "cat": cat, "id": ident, "ts": us(ns), "pid": pid, "tid": tid}
            if ph == "f":
                event["bp"] = "e"
            tracks[key].append(event)

    order = [k for k in timeline.tracks() if k[1] is not None]
    order += [k for k in sorted(tracks) if k not in order]
    pids = list(dict.fromkeys([pid for pid, _ in timeline.tracks()] + [pid for pid, _ in order]))
    joins = {(j.pid, j.tid): j for j in timeline.threads}
    meta: list[dict] = []
    for i, pid in enumerate(pids):
        meta.append({"ph": "M", "name": "process_name", "pid": pid,
                     "args": {"name": f"pid {pid}: {timeline.name_of(pid)}"}})
        meta.append({"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": i}})
    for pid in pids:
        for i, (_, tid) in enumerate(k for k in order if k[0] == pid):
            meta.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                         "args": {"name": _thread_name(tid, joins.get((pid, tid)))}})
            meta.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": i}})
    events = meta + [e for key in order for e in sorted(tracks[key], key=_order)]
    return {
        "traceEvents": events,
        "displayTimeUnit": "ns",
        "otherData": {
            "command": list(timeline.command), "go_version": timeline.go_version, "kernel": timeline.kernel,
            "exectrace_from_ns": timeline.exectrace_from_ns, "notes": list(timeline.notes), "t0_ns": t0,
            "root_pid": timeline.root_pid, "exit_status": timeline.exit_status,
            "threads": [j.to_dict() for j in timeline.threads],
        },
    }


def write(timeline: Timeline, path: str | os.PathLike) -> Path:
    """Write :func:`to_chrome` of ``timeline`` to ``path`` as compact UTF-8
    JSON, through a temporary file beside it and a rename, so a reader never
    sees half a file. Creates nothing else: FileNotFoundError when the
    directory does not exist. Returns the path."""
    path = Path(path)
    parent = path.absolute().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write {os.fspath(path)!r}: the directory {os.fspath(parent)!r} "
                                "does not exist; create it first")
    data = json.dumps(to_chrome(timeline), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # the name cut short: a file name as long as the system allows leaves no room for the suffixes
    part = parent / f".{path.name[:100]}.{os.getpid()}.{secrets.token_hex(4)}.part"
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


# -- the check ------------------------------------------------------------------

_REQUIRED = {
    "X": ("name", "ts", "dur", "pid", "tid"),
    "B": ("ts", "pid", "tid"),
    "E": ("ts", "pid", "tid"),
    "i": ("name", "ts", "pid", "tid"),
    "I": ("name", "ts", "pid", "tid"),
    "b": ("name", "cat", "id", "ts", "pid"),
    "e": ("name", "cat", "id", "ts", "pid"),
    "n": ("name", "cat", "id", "ts", "pid"),
    "s": ("id", "ts", "pid", "tid", "cat", "name"),
    "t": ("id", "ts", "pid", "tid", "cat", "name"),
    "f": ("id", "ts", "pid", "tid", "cat", "name"),
    "M": ("name", "pid", "args"),
    "C": ("name", "ts", "pid", "args"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def _shape(i: int, ev: dict) -> list[str]:
    """What is wrong with one event on its own."""
    ph = ev.get("ph")
    where = f"event {i} (ph {ph!r}, name {ev.get('name')!r})"
    if ph not in PHASES:
        return [f"{where}: ph is not a phase of the format ({' '.join(sorted(PHASES))})"]
    out = [f"{where}: no {field!r}" for field in _REQUIRED[ph] if field not in ev]
    if _non_finite(ev):
        out.append(f"{where}: a number is not finite (NaN or infinity)")
    for field in ("ts", "dur"):
        if field in ev and not _is_number(ev[field]):
            out.append(f"{where}: {field} {ev[field]!r} is not a number")
    for field in ("pid", "tid"):
        if field in ev and not (isinstance(ev[field], (int, str)) and not isinstance(ev[field], bool)):
            out.append(f"{where}: {field} {ev[field]!r} is neither an integer nor a string")
    if ph == "X" and _is_number(ev.get("dur")) and ev["dur"] < 0:
        out.append(f"{where}: dur {ev['dur']} is negative")
    if ph in ("i", "I") and ev.get("s", "t") not in ("t", "p", "g"):
        out.append(f"{where}: scope s {ev.get('s')!r} is not t, p or g")
    if ph == "f" and ev.get("bp") != "e":
        out.append(f"{where}: a flow end needs \"bp\": \"e\" to bind to the slice enclosing it")
    if ph == "M":
        if ev.get("name") not in METADATA:
            out.append(f"{where}: metadata name is not one of {', '.join(sorted(METADATA))}")
        if not isinstance(ev.get("args"), dict):
            out.append(f"{where}: metadata without an args object")
        elif ev.get("name", "").endswith("_name") and not isinstance(ev["args"].get("name"), str):
            out.append(f"{where}: {ev['name']} without a string args.name")
        elif ev.get("name", "").endswith("_sort_index") and not _is_number(ev["args"].get("sort_index")):
            out.append(f"{where}: {ev['name']} without a numeric args.sort_index")
        if ev.get("name", "").startswith("thread_") and "tid" not in ev:
            out.append(f"{where}: thread metadata without a tid")
    return out


def _to_ns(us: float) -> int:
    return round(us * 1000)


def _relations(events: list[tuple[int, dict]]) -> list[str]:
    """What is wrong between events: order per track, pairs, flows, nesting."""
    out: list[str] = []
    last_ts: dict[tuple, tuple[int, float]] = {}
    stacks: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    open_async: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    flows: dict[Any, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    slices: dict[tuple, list[tuple[int, int, int, str]]] = defaultdict(list)
    for i, ev in events:
        ph, ts, name = ev["ph"], ev["ts"], ev.get("name")
        track = (ev["pid"], ev.get("tid"))
        if track in last_ts and ts < last_ts[track][1]:
            out.append(f"event {i} ({ph} {name!r}) at ts {ts} comes after event {last_ts[track][0]} at ts "
                       f"{last_ts[track][1]} on track pid {track[0]} tid {track[1]}: ts must not decrease")
        last_ts[track] = (i, ts)
        if ph == "B":
            stacks[track].append((i, name))
        elif ph == "E":
            if not stacks[track]:
                out.append(f"event {i} (E {name!r}) on pid {track[0]} tid {track[1]} ends no open B")
            else:
                j, opened = stacks[track].pop()
                if name is not None and name != opened:
                    out.append(f"event {i} (E {name!r}) closes event {j} (B {opened!r}): the names differ")
        elif ph == "b":
            open_async[(ev["cat"], ev["id"])].append((i, name))
        elif ph == "e":
            stack = open_async[(ev["cat"], ev["id"])]
            match = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][1] == name), None)
            if match is None:
                out.append(f"event {i} (e {name!r}, cat {ev['cat']!r}, id {ev['id']!r}) ends no open b of that name")
            else:
                stack.pop(match)
        elif ph in ("s", "t", "f"):
            flows[ev["id"]][ph].append((i, ts))
        elif ph == "X":
            start = _to_ns(ts)
            slices[track].append((start, start + _to_ns(ev["dur"]), i, name))
    for track, stack in stacks.items():
        out += [f"event {j} (B {n!r}) on pid {track[0]} tid {track[1]} is never ended by an E" for j, n in stack]
    for (cat, ident), stack in open_async.items():
        out += [f"event {j} (b {n!r}, cat {cat!r}, id {ident!r}) is never ended by an e" for j, n in stack]
    for ident, by_ph in flows.items():
        starts, ends = by_ph["s"], by_ph["f"]
        if len(starts) != 1:
            out.append(f"flow id {ident!r} has {len(starts)} start events (s); it needs exactly one")
        if not ends:
            out.append(f"flow id {ident!r} has no end event (f)")
        if len(starts) == 1:
            out += [f"flow id {ident!r}: its end (event {j}, ts {t}) is before its start (event {starts[0][0]}, "
                    f"ts {starts[0][1]})" for j, t in ends if t < starts[0][1]]
    for track, items in slices.items():
        stack: list[tuple[int, int, int, str]] = []
        for start, end, i, name in sorted(items, key=lambda x: (x[0], -x[1], x[2])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                out.append(f"event {i} (X {name!r}) crosses event {stack[-1][2]} (X {stack[-1][3]!r}) on pid "
                           f"{track[0]} tid {track[1]}: slices of one thread must nest (Perfetto drops it)")
                continue
            stack.append((start, end, i, name))
    return out


def problems(doc: Any) -> list[str]:
    """What keeps ``doc`` (a loaded JSON document: an object with
    ``traceEvents``, or a bare list of events) from being a valid Chrome
    trace, each as a sentence naming the event (its index in traceEvents);
    empty when it is valid. Checked: every event's phase and the fields it
    needs; finite numbers; ts never decreasing on one (pid, tid) track in
    file order (metadata aside); complete slices of a track nesting; B/E
    pairs per track and b/e pairs per (cat, id) matched by name; each flow
    id with exactly one start (s), at least one end (f, with ``"bp": "e"``),
    none before the start. At most 50 are listed."""
    if isinstance(doc, dict):
        if "traceEvents" not in doc:
            return ["the document has no traceEvents"]
        events = doc["traceEvents"]
    else:
        events = doc
    if not isinstance(events, list):
        return [f"traceEvents is a {type(events).__name__}, not a list of events"]
    out: list[str] = []
    good: list[tuple[int, dict]] = []
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            out.append(f"event {i} is a {type(ev).__name__}, not an object")
            continue
        found = _shape(i, ev)
        out += found
        if not found and ev["ph"] != "M":
            good.append((i, ev))
    out += _relations(good)
    if len(out) > _MAX_PROBLEMS:
        out = out[:_MAX_PROBLEMS] + [f"... and {len(out) - _MAX_PROBLEMS} more"]
    return out

