"""The records of a trace and the questions asked of them.

One record per line of the tracer's JSON Lines (schema: gorun_kit/_src/tracer/README.md),
as frozen dataclasses, and :class:`Trace`, which holds them in order and builds
the process tree, the thread tree, lifetimes and the spawn classification.
Parsing strace's output (``strace.py``) produces the same records, so the two
instruments can be compared field by field.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import unicodedata
import zlib
from collections import Counter
from typing import IO, ClassVar, Iterable, Iterator, Mapping, Union

from ..records import Record
from .flags import CLONE_FLAGS

__all__ = [
    "SpawnEvent", "ExecEvent", "ExecFailedEvent", "ExitEvent", "Event", "Process", "Thread",
    "Lifetime", "Trace", "TraceFormatError", "parse_records", "load", "classify_spawn", "SPAWN_KINDS",
    "CLONE_FLAGS", "SyscallEvent", "escape", "apply_env_edits", "env_edits", "SCHEMA_VERSION",
]

SCHEMA_VERSION = 2  # the tracer's start record says which ("version"); 1: every exec record has its full envp

class TraceFormatError(ValueError):
    """A line of a trace file is not a record of the documented schema."""


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\v": "\\v", "\f": "\\f", "\\": "\\\\"}


def escape(text: str) -> str:
    """``text`` safe to print on a terminal, as strace shows strings: \\n, \\t
    and \\\\ escaped, every other control or unprintable character (ESC,
    C1 controls, bidi overrides) as \\xNN / \\uNNNN, and bytes that are not
    UTF-8 (U+DC80..U+DCFF, surrogateescape) as \\xNN. Printable text, in any
    script, is kept."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == " " or ch.isprintable() and unicodedata.category(ch) != "Cf":
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


class _Record:
    type: ClassVar[str]

    def to_dict(self) -> dict:
        # the JSON Lines schema the tracer writes: "type" first, arrays as lists
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return {"type": self.type, **d}


@dataclasses.dataclass(frozen=True)
class SpawnEvent(_Record):
    """A new thread or process (clone, clone3, fork, vfork), seen in its creator.

    ``flags`` is the raw value: clone's first argument (its low byte is the
    exit signal), clone3's ``clone_args.flags``; for fork and vfork the flags
    the kernel uses for them (0 and CLONE_VM|CLONE_VFORK).
    """

    type: ClassVar[str] = "spawn"
    ts_ns: int
    parent_pid: int
    parent_tid: int
    child_pid: int
    child_tid: int
    syscall: str
    flags: int
    flag_names: tuple[str, ...]
    exit_signal: str | None
    is_thread: bool

    def has(self, *names: str) -> bool:
        """True when every CLONE_* flag named is set."""
        return all(self.flags & CLONE_FLAGS[n] for n in names)


@dataclasses.dataclass(frozen=True)
class ExecEvent(_Record):
    """A successful execve/execveat. Strings are ``str`` with surrogateescape:
    ``os.fsencode(s)`` gives the exact bytes (see ``*_bytes``)."""

    type: ClassVar[str] = "exec"
    ts_ns: int
    pid: int
    tid: int
    syscall: str
    filename: str
    argv: tuple[str, ...]
    envp: tuple[str, ...] = dataclasses.field(repr=False)
    former_tid: int | None  # the tid that called execve, when it was not the leader
    source: str = "entry"  # "entry": read at syscall entry; "proc": from /proc after the exec
    complete: bool = True

    @property
    def filename_bytes(self) -> bytes:
        return os.fsencode(self.filename)

    @property
    def argv_bytes(self) -> tuple[bytes, ...]:
        return tuple(os.fsencode(a) for a in self.argv)

    @property
    def envp_bytes(self) -> tuple[bytes, ...]:
        return tuple(os.fsencode(e) for e in self.envp)

    @property
    def program(self) -> str:
        return os.path.basename(self.filename)


@dataclasses.dataclass(frozen=True)
class ExecFailedEvent(_Record):
    """An execve attempt that returned an error (``errno`` is its name, e.g. "ENOENT")."""

    type: ClassVar[str] = "exec_failed"
    ts_ns: int
    pid: int
    tid: int
    syscall: str
    filename: str
    argv: tuple[str, ...]
    envp: tuple[str, ...] = dataclasses.field(repr=False)
    errno: str
    source: str = "entry"
    complete: bool = True

    filename_bytes = ExecEvent.filename_bytes
    argv_bytes = ExecEvent.argv_bytes
    envp_bytes = ExecEvent.envp_bytes


@dataclasses.dataclass(frozen=True)
class ExitEvent(_Record):
    """A thread ended: its exit code, or the signal that killed it."""

    type: ClassVar[str] = "exit"
    ts_ns: int
    pid: int
    tid: int
    exit_code: int | None
    signal: str | None
    last_thread: bool
    core_dumped: bool = False


@dataclasses.dataclass(frozen=True)
class SyscallEvent(_Record):
    """Any other syscall strace was asked to show (``strace_run(..., syscalls=...)``).

    ``args`` are strace's decoded arguments, one string each: a string
    argument is the string itself (surrogateescape for bytes that are not
    UTF-8); strings inside an array or struct are shown JSON-quoted in place.
    ``ret`` is None when the call did not return (exit_group, execve
    replaced by the new program's tid) or strace printed ``?``; ``errno``
    is the error's name ("ENOENT") when the call failed.
    """

    type: ClassVar[str] = "syscall"
    tid: int
    ts_ns: int
    name: str
    args: tuple[str, ...]
    ret: int | None
    errno: str | None = None


Event = Union[SpawnEvent, ExecEvent, ExecFailedEvent, ExitEvent]
_TYPES = {c.type: c for c in (SpawnEvent, ExecEvent, ExecFailedEvent, ExitEvent)}
_TUPLE_FIELDS = {"argv", "envp", "flag_names"}


def apply_env_edits(base: tuple[str, ...], edits) -> tuple[str, ...]:
    """The environment an exec record of delta mode stands for: ``base`` with
    each ``[start, end, strings]`` of ``edits`` applied in order (``base[start:end]``
    replaced by ``strings``, indices into the list as it is after the edits
    before). No edits: ``base`` itself. Raises ValueError for an edit that
    does not fit ``base`` or whose strings are not ``str``."""
    env = base
    for edit in edits:
        if not (isinstance(edit, (list, tuple)) and len(edit) == 3 and isinstance(edit[2], (list, tuple))):
            raise ValueError(f"an env edit must be [start, end, [strings]], not {edit!r}")
        start, end, strings = edit
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(env)):
            raise ValueError(f"env edit [{start!r}, {end!r}, ...] does not fit an environment of {len(env)} strings")
        if not all(isinstance(x, str) for x in strings):
            raise ValueError(f"env edit [{start}, {end}, ...]: its environment strings must be strings, not {strings!r}")
        env = (*env[:start], *strings, *env[end:])
    return env


def env_edits(base: Iterable[str], new: Iterable[str]) -> list:
    """The edits that turn ``base`` into ``new`` as the tracer writes them:
    one hunk between the longest common prefix and suffix, or none when
    they are equal (so ``apply_env_edits(base, env_edits(base, new)) == new``)."""
    base, new = tuple(base), tuple(new)
    p = 0
    while p < len(base) and p < len(new) and base[p] == new[p]:
        p += 1
    q = 0
    while q < len(base) - p and q < len(new) - p and base[-1 - q] == new[-1 - q]:
        q += 1
    if p == len(base) == len(new):
        return []
    return [[p, len(base) - q, list(new[p:len(new) - q])]]


class _EnvState:
    """What a reader of delta records must remember, as the tracer keeps it:
    the environment of each live process (start record: the command's;
    spawn: the creator's; exec: its envp; gone at its last thread's exit),
    the envp of the last exec record (base 0), and the --verify checks of
    the rebuilt envp."""

    def __init__(self, start: Mapping | None):
        start = start or {}
        self.version = start.get("version", 1)
        self.mode = start.get("env", "full") if self.version >= 2 else "full"
        self.envs: dict[int, tuple[str, ...]] = {}
        self.last: tuple[str, ...] = ()
        if self.mode == "delta" and "envp" in start:
            self.envs[start["pid"]] = tuple(start["envp"])
        self.checked = self.mismatches = 0
        self.first: str | None = None

    def spawn(self, d: Mapping) -> None:
        if self.mode == "delta" and not d.get("is_thread"):
            self.envs[d["child_pid"]] = self.envs.get(d["parent_pid"], ())

    def exit(self, d: Mapping) -> None:
        if d.get("last_thread"):
            self.envs.pop(d.get("pid"), None)

    def base(self, pid: int) -> tuple[str, ...]:
        return self.last if pid == 0 else self.envs.get(pid, ())

    def exec(self, d: dict, lineno: int) -> None:
        """Fill in d["envp"] (the full environment) from the record's fields."""
        if self.mode == "delta":
            if "env_edits" not in d or "env_base" not in d:
                raise TraceFormatError(f"line {lineno}: {d.get('type')} record of delta mode lacks env_base/env_edits")
            try:
                d["envp"] = apply_env_edits(self.base(d["env_base"]), d["env_edits"])
            except (ValueError, TypeError) as exc:
                raise TraceFormatError(f"line {lineno}: {exc}") from None
            if d["type"] == "exec":
                self.envs[d["pid"]] = self.last = d["envp"]
        elif self.mode == "none":
            d.setdefault("envp", ())
        if "environ_crc32" in d:
            self.checked += 1
            got = zlib.crc32(b"".join(os.fsencode(e) + b"\0" for e in d["envp"]))
            if got != d["environ_crc32"]:
                self.mismatches += 1
                self.first = self.first or f"pid {d.get('pid')}: the envp rebuilt from the records differs from /proc"

    def merge_verify(self, end: dict | None) -> None:
        """Add this reader's own checks to the end record's "verify" (from --verify)."""
        if end is None or "verify" not in end:
            return
        v = dict(end["verify"])
        v["rebuilt_checked"] = self.checked
        v["mismatches"] = v.get("mismatches", 0) + self.mismatches
        v["first"] = v.get("first") or self.first
        end["verify"] = v


def _check(cls, d: Mapping, lineno: int, *, filled: frozenset[str] = frozenset()) -> None:
    """Raise TraceFormatError unless ``d`` has every field ``cls`` needs (but
    ``filled``, which the reader adds itself) and its arrays are arrays of strings."""
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = required - filled - d.keys()
    if missing:
        raise TraceFormatError(f"line {lineno}: {d.get('type')} record lacks {sorted(missing)}")
    for k in _TUPLE_FIELDS & d.keys():
        v = d[k]
        if not (isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)):
            raise TraceFormatError(f"line {lineno}: {d.get('type')} record's {k!r} must be an array of "
                                   f"strings, not {str(v)[:80]!r}")


def _make(cls, d: Mapping, lineno: int):
    _check(cls, d, lineno)
    names = {f.name for f in dataclasses.fields(cls)}
    kw = {k: (tuple(v) if k in _TUPLE_FIELDS else v) for k, v in d.items() if k in names}
    return cls(**kw)


def parse_records(lines: Iterable[str]) -> tuple[dict | None, tuple[Event, ...], dict | None]:
    """Parse JSON Lines: returns (start record, events, end record).

    Schema 2 (``"version": 2`` in the start record) may write envp as a
    difference (``"env": "delta"``) or not at all (``"none"``: envp is ());
    every ExecEvent/ExecFailedEvent still gets its full envp, rebuilt here.
    Files without a version (schema 1) have the full envp in every record.
    With --verify, the end record's "verify" also counts the rebuilt envps
    that differ from the CRC-32 the tracer took of /proc/<pid>/environ."""
    start = end = None
    events: list[Event] = []
    env = _EnvState(None)
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except ValueError as exc:
            raise TraceFormatError(f"line {lineno} is not JSON ({exc}): {line[:80]!r}") from None
        if not isinstance(d, dict):
            raise TraceFormatError(f"line {lineno} is not a record (a JSON object): {line[:80]!r}")
        kind = d.get("type")
        if kind == "start":
            envp = d.get("envp", [])
            if not (isinstance(d.get("pid"), int) and isinstance(d.get("version", 1), int)
                    and isinstance(envp, list) and all(isinstance(x, str) for x in envp)):
                raise TraceFormatError(f"line {lineno}: the start record needs an integer 'pid' (and an integer "
                                       f"'version', an array of strings 'envp', when given): {line[:80]!r}")
            start = d
            env = _EnvState(d)
        elif kind == "end":
            end = d
        elif kind in _TYPES:
            # the fields the environment bookkeeping reads must be there before it runs
            _check(_TYPES[kind], d, lineno, filled=frozenset({"envp"} if env.mode != "full" else ()))
            if kind == "spawn":
                env.spawn(d)
            elif kind in ("exec", "exec_failed"):
                env.exec(d, lineno)
            elif kind == "exit":
                env.exit(d)
            events.append(_make(_TYPES[kind], d, lineno))
        else:
            raise TraceFormatError(f"line {lineno}: unknown record type {kind!r}")
    env.merge_verify(end)
    return start, tuple(events), end


# ---------------------------------------------------------------------------
# derived views


@dataclasses.dataclass(frozen=True)
class Thread(Record):
    tid: int
    pid: int
    parent_tid: int | None  # the thread that created it (None: the root, or unknown)
    spawn: SpawnEvent | None
    start_ns: int | None
    end_ns: int | None
    exit: ExitEvent | None


@dataclasses.dataclass(frozen=True)
class Process(Record):
    pid: int
    parent_pid: int | None  # the process whose thread created it (None: the root)
    spawn: SpawnEvent | None
    kind: str | None  # classify_spawn of its spawn
    execs: tuple[ExecEvent, ...]
    exec_failures: tuple[ExecFailedEvent, ...]
    tids: tuple[int, ...]  # every thread it had, in order of appearance (the leader first)
    start_ns: int | None
    end_ns: int | None
    exit_code: int | None
    signal: str | None

    @property
    def program(self) -> str | None:
        """The last program it exec'd (basename), or None if it never exec'd."""
        return self.execs[-1].program if self.execs else None


@dataclasses.dataclass(frozen=True)
class Lifetime(Record):
    kind: str  # "process" or "thread"
    id: int  # pid or tid
    pid: int
    start_ns: int
    end_ns: int
    label: str


_VM = CLONE_FLAGS["CLONE_VM"]
_GO_THREAD = sum(CLONE_FLAGS[n] for n in ("CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND",
                                           "CLONE_SYSVSEM", "CLONE_THREAD"))
_PTHREAD_TID = CLONE_FLAGS["CLONE_PARENT_SETTID"] | CLONE_FLAGS["CLONE_CHILD_CLEARTID"]
_GLIBC_FORK = CLONE_FLAGS["CLONE_CHILD_SETTID"] | CLONE_FLAGS["CLONE_CHILD_CLEARTID"]

SPAWN_KINDS = {
    "go-thread": "Go runtime thread (newosproc: clone VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS)",
    "pthread": "pthread_create (glibc: CLONE_THREAD with PARENT_SETTID|CHILD_CLEARTID; cgo threads)",
    "thread": "another kind of thread (CLONE_THREAD)",
    "go-exec": "os/exec child (clone VM|VFORK|PIDFD that then execs)",
    "go-pidfd-probe": "the pidfd probe child (clone VM|VFORK|PIDFD that exits without exec)",
    "go-exec-nopidfd": "a Go fork/exec child without CLONE_PIDFD (clone VM|VFORK)",
    "glibc-fork": "glibc fork() (clone CHILD_SETTID|CHILD_CLEARTID|SIGCHLD)",
    "posix_spawn": "glibc posix_spawn/system (clone3 VM|VFORK with its own stack)",
    "vfork": "the vfork syscall",
    "fork": "the fork syscall",
    "process": "another kind of process",
}


def classify_spawn(spawn: SpawnEvent, child_execs: bool) -> str:
    """Which pattern made this thread or process (a key of SPAWN_KINDS).

    ``child_execs``: whether the child process called execve (successfully or
    not); it tells os/exec's child from the pidfd probe, whose flags are the same.
    """
    f = spawn.flags
    if spawn.is_thread:
        if f & _PTHREAD_TID == _PTHREAD_TID:
            return "pthread"
        if f & _GO_THREAD == _GO_THREAD and spawn.syscall == "clone":
            return "go-thread"
        return "thread"
    if spawn.syscall == "vfork":
        return "vfork"
    if spawn.syscall == "fork":
        return "fork"
    vm_vfork = _VM | CLONE_FLAGS["CLONE_VFORK"]
    if spawn.syscall == "clone" and f & vm_vfork == vm_vfork:
        if f & CLONE_FLAGS["CLONE_PIDFD"]:
            return "go-exec" if child_execs else "go-pidfd-probe"
        return "go-exec-nopidfd"
    if spawn.syscall == "clone3" and f & vm_vfork == vm_vfork:
        return "posix_spawn"
    if spawn.syscall == "clone" and (f & ~0xff) == _GLIBC_FORK:
        return "glibc-fork"
    return "process"


@dataclasses.dataclass(frozen=True)
class Trace:
    """Everything one traced run produced.

    ``events`` are in the order the tracer saw them; ``returncode`` is the
    traced command's exit status (128+N when signal N killed it); ``stats``
    is the tracer's ``end`` record (stop counts, bytes read) or {}.
    """

    command: tuple[str, ...]
    mode: str
    root_pid: int
    returncode: int | None
    events: tuple[Event, ...]
    stats: Mapping = dataclasses.field(default_factory=dict, compare=False)
    tool: str = "tracer"  # "tracer" or "strace"
    start_ns: int | None = None
    stdout: bytes | None = dataclasses.field(default=None, repr=False, compare=False)
    stderr: bytes | None = dataclasses.field(default=None, repr=False, compare=False)
    calls: tuple[SyscallEvent, ...] = dataclasses.field(default=(), repr=False)  # see syscalls()
    attached: bool = False  # the tracer followed a process that already ran (attach)
    # strace's own error that made the first run worthless, when the run was repeated (strace_run)
    retried: str | None = None

    # -- plain selections ------------------------------------------------
    @property
    def spawns(self) -> tuple[SpawnEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, SpawnEvent))

    @property
    def execs(self) -> tuple[ExecEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, ExecEvent))

    @property
    def exec_failures(self) -> tuple[ExecFailedEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, ExecFailedEvent))

    @property
    def exits(self) -> tuple[ExitEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, ExitEvent))

    def syscalls(self, name: str | None = None, *, tid: int | None = None) -> tuple[SyscallEvent, ...]:
        """The extra syscalls recorded (strace_run's ``syscalls``), in order;
        only those called ``name`` and/or made by thread ``tid`` when given."""
        return tuple(c for c in self.calls
                     if (name is None or c.name == name) and (tid is None or c.tid == tid))

    def thread_tids(self, pid: int) -> frozenset[int]:
        """The tids of the CLONE_THREAD children created in process ``pid``
        (the leader excluded): what a runtime thread hook and
        /proc/<pid>/task should agree with."""
        return frozenset(s.child_tid for s in self.spawns if s.is_thread and s.child_pid == pid)

    # -- trees ------------------------------------------------------------
    def processes(self) -> dict[int, Process]:
        """Every process of the tree by pid, in order of appearance."""
        order: list[int] = [self.root_pid]
        spawn: dict[int, SpawnEvent] = {}
        execs: dict[int, list] = {}
        fails: dict[int, list] = {}
        tids: dict[int, list] = {self.root_pid: [self.root_pid]}
        end: dict[int, ExitEvent] = {}
        for e in self.events:
            if isinstance(e, SpawnEvent):
                if e.is_thread:
                    tids.setdefault(e.child_pid, [e.child_pid]).append(e.child_tid)
                else:
                    if e.child_pid not in spawn:
                        order.append(e.child_pid)
                    spawn[e.child_pid] = e
                    tids.setdefault(e.child_pid, [e.child_pid])
            elif isinstance(e, ExecEvent):
                execs.setdefault(e.pid, []).append(e)
            elif isinstance(e, ExecFailedEvent):
                fails.setdefault(e.pid, []).append(e)
            elif isinstance(e, ExitEvent) and e.last_thread:
                end[e.pid] = e
        out = {}
        for pid in dict.fromkeys(order):
            s = spawn.get(pid)
            x = end.get(pid)
            out[pid] = Process(
                pid=pid, parent_pid=s.parent_pid if s else None, spawn=s,
                kind=classify_spawn(s, bool(execs.get(pid) or fails.get(pid))) if s else None,
                execs=tuple(execs.get(pid, ())), exec_failures=tuple(fails.get(pid, ())),
                tids=tuple(dict.fromkeys(tids.get(pid, [pid]))),
                start_ns=s.ts_ns if s else self.start_ns, end_ns=x.ts_ns if x else None,
                exit_code=x.exit_code if x else None, signal=x.signal if x else None)
        return out

    def threads(self) -> dict[int, Thread]:
        """Every thread by tid (a process's leader is the thread whose tid is its pid)."""
        info: dict[int, dict] = {self.root_pid: dict(tid=self.root_pid, pid=self.root_pid, parent_tid=None,
                                                     spawn=None, start_ns=self.start_ns, end_ns=None, exit=None)}
        for e in self.events:
            if isinstance(e, SpawnEvent):
                info[e.child_tid] = dict(tid=e.child_tid, pid=e.child_pid, parent_tid=e.parent_tid, spawn=e,
                                         start_ns=e.ts_ns, end_ns=None, exit=None)
            elif isinstance(e, ExecEvent) and e.former_tid and e.former_tid in info:
                # the exec'ing thread took the leader's tid: its old tid ends here
                info[e.former_tid]["end_ns"] = e.ts_ns
            elif isinstance(e, ExitEvent) and e.tid in info:
                info[e.tid]["end_ns"] = e.ts_ns
                info[e.tid]["exit"] = e
        return {tid: Thread(**d) for tid, d in info.items()}

    def process_tree(self) -> dict[int, tuple[int, ...]]:
        """parent pid -> the pids of the processes its threads created."""
        tree: dict[int, list[int]] = {}
        for p in self.processes().values():
            if p.parent_pid is not None:
                tree.setdefault(p.parent_pid, []).append(p.pid)
        return {k: tuple(v) for k, v in tree.items()}

    def thread_tree(self, pid: int) -> dict[int, tuple[int, ...]]:
        """Within process ``pid``: creating tid -> the tids it created."""
        tree: dict[int, list[int]] = {}
        for s in self.spawns:
            if s.is_thread and s.child_pid == pid:
                tree.setdefault(s.parent_tid, []).append(s.child_tid)
        return {k: tuple(v) for k, v in tree.items()}

    def edges(self) -> frozenset[tuple[int, int]]:
        """(parent pid, child pid) of every process creation."""
        return frozenset((s.parent_pid, s.child_pid) for s in self.spawns if not s.is_thread)

    def classify(self) -> dict[SpawnEvent, str]:
        """Each spawn with its pattern (see SPAWN_KINDS)."""
        execd = {e.pid for e in self.events if isinstance(e, (ExecEvent, ExecFailedEvent))}
        return {s: classify_spawn(s, s.child_pid in execd) for s in self.spawns}

    def spawn_kinds(self) -> Counter:
        return Counter(self.classify().values())

    def lifetimes(self) -> tuple[Lifetime, ...]:
        """Start and end of every process and thread (end = last record seen
        when the tracer saw no exit, e.g. after a timeout)."""
        last = max((e.ts_ns for e in self.events), default=self.start_ns or 0)
        out = []
        for p in self.processes().values():
            start = p.start_ns if p.start_ns is not None else (self.start_ns or 0)
            out.append(Lifetime("process", p.pid, p.pid, start, p.end_ns if p.end_ns is not None else last,
                                p.program or "?"))
        for t in self.threads().values():
            start = t.start_ns if t.start_ns is not None else (self.start_ns or 0)
            out.append(Lifetime("thread", t.tid, t.pid, start, t.end_ns if t.end_ns is not None else last,
                                f"tid {t.tid}"))
        return tuple(out)

    # -- output -------------------------------------------------------------
    def to_dicts(self) -> list[dict]:
        return [e.to_dict() for e in self.events]

    def to_dict(self) -> dict:
        # what was recorded, without the captured output (stdout, stderr) or strace's extra calls;
        # "retried" only when a run was repeated, so an ordinary record keeps its keys
        return {"command": list(self.command), "mode": self.mode, "root_pid": self.root_pid,
                "returncode": self.returncode, "tool": self.tool, "attached": self.attached,
                **({"retried": self.retried} if self.retried is not None else {}),
                "stats": dict(self.stats), "events": self.to_dicts()}

    def write_jsonl(self, path: str | os.PathLike | IO[str]) -> None:
        """The trace as the tracer's JSON Lines (start record, events, end
        record), readable again with :func:`load`; ``path`` "-" is stdout,
        an open text file is written to. Non-UTF-8 bytes stay ``\\udcXX``
        escapes (ensure_ascii), as the tracer writes them."""
        start = {"type": "start", "ts_ns": self.start_ns or 0, "pid": self.root_pid, "mode": self.mode,
                 "argv": list(self.command), "attached": self.attached,
                 "version": SCHEMA_VERSION}  # full envp in every record (no "env": the default)
        records = [start, *self.to_dicts()] + ([{**self.stats, "type": "end"}] if self.stats else [])
        text = "".join(json.dumps(d, ensure_ascii=True, separators=(",", ":")) + "\n" for d in records)
        if hasattr(path, "write"):
            path.write(text)
        elif os.fspath(path) == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with open(path, "w", encoding="ascii") as f:
                f.write(text)

    def summary(self) -> str:
        """A few readable lines: counts, spawn kinds, programs. The command
        and program names come from the traced programs: they are shown
        escaped (:func:`escape`), never as raw terminal bytes."""
        procs = self.processes()
        nthreads = sum(1 for s in self.spawns if s.is_thread)
        if self.returncode is not None:
            status = f"exit status {self.returncode}"
        elif self.attached:
            status = "detached, still running"
        else:
            status = "exit status unknown (it did not end while traced)"
        stopped_by = self.stats.get("interrupted_by")
        if stopped_by:
            status += f" (the tracer got {stopped_by} and stopped the traced processes)"
        lines = [f"{escape(' '.join(self.command))}: {status}",
                 f"  {len(procs)} processes, {nthreads} threads created, {len(self.execs)} execs, "
                 f"{len(self.exec_failures)} failed exec attempts"]
        kinds = self.spawn_kinds()
        if kinds:
            lines.append("  spawns: " + ", ".join(f"{k} x{n}" for k, n in kinds.most_common()))
        progs = Counter(e.program for e in self.execs)
        if progs:
            lines.append("  programs: " + ", ".join(f"{escape(k)} x{n}" if n > 1 else escape(k)
                                                    for k, n in progs.most_common(12))
                         + (" ..." if len(progs) > 12 else ""))
        return "\n".join(lines)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


def load(path: str | os.PathLike, *, command: tuple[str, ...] = ()) -> Trace:
    """A Trace from a JSON Lines file written by the tracer (``--output``)."""
    with open(path, encoding="utf-8", errors="surrogatepass") as f:
        return from_lines(f, command=command)


def from_lines(lines: Iterable[str], *, command: tuple[str, ...] = (), returncode: int | None = None) -> Trace:
    start, events, end = parse_records(lines)
    if start is None:
        raise TraceFormatError("no 'start' record: this is not a complete tracer output")
    rc = returncode if returncode is not None else (end or {}).get("exit_status")
    return Trace(command=tuple(command or start.get("argv", ())), mode=start.get("mode", "?"),
                 root_pid=start["pid"], returncode=rc, events=events, stats=dict(end or {}),
                 start_ns=start.get("ts_ns"), attached=bool(start.get("attached", False)))
