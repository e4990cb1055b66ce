"""What the hook reports: its text lines, one record per M, and the report of one run.

The hook writes one line per event (``gorunkit-thread v1 KIND key=value ...``):

* ``new``   -- in ``newm`` after ``allocm``: the new M's id, the M and thread
  that asked for it, and the M's start function (``runtime.sysmon``,
  ``runtime.templateThread``, ``runtime.mspinning`` or ``none``);
* ``clone`` -- at the top of ``newm1``: the M and thread that create the OS
  thread (the template thread when the asker was locked to its thread);
* ``start`` -- in ``mstart1`` right after ``minit``, on the new thread: its M
  id, kernel tid (``gettid``), g0 stack bounds, FS and GS base (``arch_prctl``).

Each with a ``nanotime`` stamp (CLOCK_MONOTONIC). :func:`parse_records` reads
the lines, :func:`ms_from_records` merges them into one :class:`MRecord` per M,
and :class:`ThreadReport` holds one run with its text views.
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Mapping, Sequence

from ..records import Record

if TYPE_CHECKING:
    from .crosscheck import CrossCheck

__all__ = ["MRecord", "ThreadReport", "Cause", "creation_cause", "causes_table", "path_through", "parse_records", "ms_from_records"]


@dataclasses.dataclass(frozen=True)
class MRecord(Record):
    """Everything the hook said about one M. Times are ns of CLOCK_MONOTONIC."""

    dict_properties = ("g0_size", "fs_is_m_tls_plus_8")

    m: int
    tid: int | None  # kernel tid of its thread (None if it never started)
    start_fn: str  # mstartfn: runtime.sysmon, runtime.templateThread, runtime.mspinning, none
    asked_by_m: int | None  # the M that called newm (None for m0)
    asked_by_tid: int | None
    cloned_by_m: int | None  # the M that called newm1 (clone / pthread_create)
    cloned_by_tid: int | None
    t_new: int | None
    t_clone: int | None
    t_start: int | None
    g0_lo: int | None
    g0_hi: int | None
    fs_base: int | None
    gs_base: int | None
    m_tls: int | None  # &m.tls[0]
    procid: int | None
    cgo: bool | None
    extra: tuple[tuple[str, object], ...] = ()  # fields an extension added (gorunkitExtendNew/Start)

    def get(self, key: str, default=None):
        """An extension field by name."""
        return dict(self.extra).get(key, default)

    @property
    def via(self) -> tuple[str, ...]:
        """The call chain into newm (innermost first) when built with CALLERS_EXTENSION."""
        chain = self.get("via")
        return tuple(chain.split("<")) if isinstance(chain, str) and chain else ()

    @property
    def g0_size(self) -> int | None:
        return None if self.g0_lo is None else self.g0_hi - self.g0_lo

    @property
    def fs_is_m_tls_plus_8(self) -> bool | None:
        return None if self.fs_base is None else self.fs_base == self.m_tls + 8


@dataclasses.dataclass(frozen=True)
class Cause(Record):
    """Why an M was made, read from its ``via`` chain (see :func:`creation_cause`).

    ``creator`` is the runtime function that decided a thread was needed
    (``retake``, ``stoplockedm``, ``newproc``...), ``path`` the calls from it
    down to ``newm`` (outermost first), ``reason`` a short phrase."""

    creator: str
    path: tuple[str, ...]
    reason: str


# Calls that carry a request for an M without deciding it (skipped to find the creator).
_PLUMBING = {"runtime.newm", "runtime.startm", "runtime.handoffp", "runtime.wakep", "runtime.systemstack",
             "runtime.mcall", "runtime.startTemplateThread", "runtime.schedule", "runtime.park_m"}
_REASONS = (  # (function in the chain, reason), first match wins
    ("runtime.startTemplateThread", "template thread: makes Ms for locked threads"),
    ("runtime.retake", "sysmon took the P of a goroutine stuck in a syscall or cgo call"),
    ("runtime.stoplockedm", "a locked goroutine blocked: its M handed the P on"),
    ("runtime.resetspinning", "a spinning M found work and woke one more (wakep)"),
    ("runtime.newproc", "a new goroutine and an idle P: wakep starts a spinning M"),
    ("runtime.wakep", "wakep: work and an idle P"),
    ("runtime.handoffp", "handoffp: a P with work and no M"),
)


def creation_cause(m: MRecord) -> Cause | None:
    """The creator, path and reason of ``m`` from its call chain into ``newm``
    (records made with ``CALLERS_EXTENSION``); None for m0 or without a chain.
    sysmon's own M gets creator ``runtime.main``."""
    chain = m.via
    if not chain:
        return None
    if m.start_fn == "runtime.sysmon":
        return Cause("runtime.main", ("runtime.main", "runtime.newm"), "sysmon, started before main.main")
    i = next((k for k, f in enumerate(chain) if f not in _PLUMBING), len(chain) - 1)
    creator = chain[i]
    if creator.startswith("runtime.newproc"):
        creator = "runtime.newproc"
    reason = next((r for f, r in _REASONS if any(c.startswith(f) for c in chain[:i + 1])), "other")
    if "runtime.startTemplateThread" in chain:
        reason += f" (started by {creator})"
    return Cause(creator, tuple(reversed(chain[:i + 1])) + ("runtime.newm",), reason)


def path_through(report: "ThreadReport", step: str) -> str:
    """The call path into newm (``"retake -> handoffp -> startm -> newm"``) of
    the first M of ``report`` whose chain passes through ``runtime.<step>``;
    ``"none"`` when no M's does."""
    for m in report.ms:
        cause = creation_cause(m)
        if cause is not None and f"runtime.{step}" in cause.path:
            return " -> ".join(f.replace("runtime.", "") for f in cause.path)
    return "none"


def causes_table(runs: Mapping[str, "ThreadReport"]) -> str:
    """One line per distinct (path into newm, reason) over several runs, with
    the Ms of each run it made: ``runs`` maps a name to a report made with
    ``CALLERS_EXTENSION``. Ms without a chain (m0, extra Ms) are left out."""
    rows: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for name, report in runs.items():
        for m in report.ms:
            cause = creation_cause(m)
            if cause is not None:
                rows.setdefault((cause.path, cause.reason), []).append(f"{name}:M{m.m}")
    out = []
    for (path, reason), ms in sorted(rows.items(), key=lambda kv: kv[0][1]):
        out.append(" -> ".join(f.replace("runtime.", "") for f in path))
        out.append(f"    {reason}\n    Ms: {', '.join(ms)}")
    return "\n".join(out)


_LINE = re.compile(r"^gorunkit-thread v1 (new|clone|start) (.*)$")
_FIELD = re.compile(r"^([^=]+)=(.*)$")


def _value(text: str) -> int | str | None:
    """A field's value: a decimal or 0x-hex int, or the text; None for a bad 0x number."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text.startswith("0x"):
        return int(text, 16) if re.fullmatch(r"0x[0-9a-fA-F]+", text) else None
    return text


def parse_records(text: str) -> list[dict]:
    """The hook's lines as dicts (``kind`` plus the key=value fields, ints decoded).

    Blank lines are skipped. Raises ValueError naming the line (and its
    number) for a line that is not a record, a field that is not
    ``key=value`` or a ``0x`` value that is not hex."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        m = _LINE.match(raw)
        if not m:
            if raw.strip():
                raise ValueError(f"line {number}: not a thread-hook record: {raw!r}")
            continue
        rec: dict = {"kind": m.group(1)}
        for field in m.group(2).split():
            kv = _FIELD.match(field)
            value = _value(kv.group(2)) if kv else None
            if value is None:
                why = f"{field!r} is not key=value" if not kv else f"{field} is not a hex number"
                raise ValueError(f"line {number}: {why} in thread-hook record {raw!r}")
            rec[kv.group(1)] = value
        out.append(rec)
    return out


_KNOWN = {"new": {"kind", "t", "m", "by_m", "by_tid", "fn"}, "clone": {"kind", "t", "m", "by_m", "by_tid", "cgo"},
          "start": {"kind", "t", "m", "tid", "procid", "g0_lo", "g0_hi", "fs", "gs", "m_tls", "fn"}}


def _check_record(number: int, r: Mapping) -> None:
    """Raise ValueError naming record ``number`` when it lacks a field its kind needs."""
    kind = r.get("kind")
    if kind not in _KNOWN:
        raise ValueError(f"record {number}: kind {kind!r} is none of {', '.join(_KNOWN)}: {dict(r)!r}")
    missing = sorted(_KNOWN[kind] - set(r))
    if missing:
        raise ValueError(f"record {number} ({kind}): no {', '.join(map(repr, missing))} field "
                         f"(a record cut short?): {dict(r)!r}")


def ms_from_records(records: Sequence[Mapping]) -> tuple[MRecord, ...]:
    """Merge the new/clone/start lines of each M into one :class:`MRecord`, by M id.

    Raises ValueError naming the record (counted from 1) when one has an
    unknown kind or lacks a field its kind needs."""
    by_m: dict[int, dict] = {}
    extra: dict[int, dict] = {}
    for number, r in enumerate(records, 1):
        _check_record(number, r)
        d = by_m.setdefault(r["m"], {})
        extra.setdefault(r["m"], {}).update({k: v for k, v in r.items() if k not in _KNOWN[r["kind"]]})
        if r["kind"] == "new":
            d.update(asked_by_m=r["by_m"], asked_by_tid=r["by_tid"], t_new=r["t"], start_fn=r["fn"])
        elif r["kind"] == "clone":
            d.update(cloned_by_m=r["by_m"], cloned_by_tid=r["by_tid"], t_clone=r["t"], cgo=bool(r["cgo"]))
        else:
            d.update(tid=r["tid"], procid=r["procid"], t_start=r["t"], g0_lo=r["g0_lo"], g0_hi=r["g0_hi"],
                     fs_base=r["fs"], gs_base=r["gs"], m_tls=r["m_tls"])
            d.setdefault("start_fn", r["fn"])
    fields = [f.name for f in dataclasses.fields(MRecord)]
    result = []
    for m_id in sorted(by_m):
        d = {f: None for f in fields}
        d.update(by_m[m_id], m=m_id, extra=tuple(sorted(extra[m_id].items())))
        d["start_fn"] = d["start_fn"] or "none"
        result.append(MRecord(**d))
    return tuple(result)


@dataclasses.dataclass(frozen=True)
class ThreadReport(Record):
    """One run of a hooked program: its Ms, the instruments beside them, and how they agree.

    ``checks`` are :func:`~gorun_kit.threads.crosscheck.cross_checks` of the
    other fields; ``ok`` is True when every one of them holds.
    """

    dict_properties = ("ok",)

    program: str
    args: tuple[str, ...]
    go_version: str
    binary: str
    pid: int
    exit_status: int
    stdout: str
    stderr: str  # the program's stderr with the schedtrace lines taken out
    ms: tuple[MRecord, ...]
    t0: int  # nanotime of the first record (timeline origin)
    t_end: int  # CLOCK_MONOTONIC (the clock of nanotime) when the run was seen to end
    tracer: str  # "gorun_kit.trace" or "strace"
    traced_threads: tuple[tuple[int, int], ...]  # (parent tid, child tid) of every CLONE_THREAD
    proc_tasks: tuple[int, ...]  # every tid seen in /proc/<pid>/task while it ran
    schedtrace_threads: int | None  # threads= of the last SCHED line
    checks: tuple[CrossCheck, ...]
    proc_window: tuple[int, int] | None = None  # CLOCK_MONOTONIC ns of the sampler's first and last look
    schedtrace_ms: int = 0  # the schedtrace period the run used (0: off)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def tids(self) -> tuple[int, ...]:
        return tuple(sorted(m.tid for m in self.ms if m.tid is not None))

    def edges(self) -> list[tuple[int, int]]:
        """(asking M, new M) for every M created by newm: the creation tree."""
        return [(m.asked_by_m, m.m) for m in self.ms if m.asked_by_m is not None]

    def tree(self) -> str:
        """The creation tree as indented text: each M under the M that asked for it.

        An M asked for by an M without records of its own (the extra M a C
        thread borrows under cgo is made without newm) is a root of its own,
        its label naming the asker."""
        known = {m.m for m in self.ms}
        kids: dict[int | None, list[MRecord]] = {}
        for m in self.ms:
            kids.setdefault(m.asked_by_m if m.asked_by_m in known else None, []).append(m)

        def label(m: MRecord) -> str:
            where = f"tid {m.tid}" if m.tid is not None else "never started"
            asked = (f", asked by M{m.asked_by_m} (no record of it)" if m.asked_by_m is not None
                     and m.asked_by_m not in known else "")
            by = (f", cloned by M{m.cloned_by_m}" if m.cloned_by_m is not None and m.cloned_by_m != m.asked_by_m
                  else "")
            return f"M{m.m} ({m.start_fn}, {where}{asked}{by})"

        lines: list[str] = []

        def walk(m: MRecord, depth: int) -> None:
            lines.append("  " * depth + ("└─ " if depth else "") + label(m))
            for k in kids.get(m.m, []):
                walk(k, depth + 1)

        for root in kids.get(None, []):
            walk(root, 0)
        return "\n".join(lines)

    def table(self) -> str:
        head = f"{'M':>3} {'tid':>8} {'start fn':<24} {'asked by':>8} {'cloned by':>9} {'start ms':>9} {'g0 size':>9} {'fs-&m.tls':>9}"
        rows = [head]
        for m in self.ms:
            start = f"{(m.t_start - self.t0) / 1e6:9.3f}" if m.t_start is not None else f"{'-':>9}"
            fs = "-" if m.fs_base is None else ("+8" if m.fs_is_m_tls_plus_8 else "other")
            rows.append(f"{m.m:>3} {m.tid if m.tid is not None else '-':>8} {m.start_fn:<24} "
                        f"{'-' if m.asked_by_m is None else 'M' + str(m.asked_by_m):>8} "
                        f"{'-' if m.cloned_by_m is None else 'M' + str(m.cloned_by_m):>9} {start} "
                        f"{m.g0_size if m.g0_size is not None else '-':>9} {fs:>9}")
        return "\n".join(rows)

    def summary(self) -> str:
        lines = [f"{self.program}: {len(self.ms)} Ms, exit status {self.exit_status}, {self.go_version}"]
        for c in self.checks:
            lines.append(f"  [{c.verdict}] {c.name}: {c.detail}")
        return "\n".join(lines)
