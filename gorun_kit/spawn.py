"""How each way of starting a program asks the kernel for a child: the
process-creating syscall, its flags, where the child's stack is, who searches
PATH, and how the parent waits -- recorded live, one method at a time.

Every method starts the same target (``sleep 0``) with
``PATH=/nonexistent-gorun-kit:/usr/bin:/bin``, so a PATH search shows one miss
and one hit. The programs are the course's labs: ``labs_c/spawn_methods`` (C:
fork, vfork, posix_spawn, posix_spawnp, system, clone with a separate stack,
raw clone like Go's) and ``labs_go/spawn_start``/``spawn_cmd`` (Go); the caller
passes the course checkout that holds them (``labs``, for example
:func:`gorun_kit.course.layout.course_root`).

Instruments: strace (:func:`gorun_kit.trace.strace_run`, following every
process and thread) records the process-management syscalls with their
arguments; it is the source of every cell of :class:`MethodRow`, and each row
says so in ``instrument``. :func:`compare_methods` also runs each method under
the course's production tracer (:func:`gorun_kit.trace.run`) and records in
``tracer_flags`` the clone flags *it* saw, so the two instruments can be
checked against each other. Flags are named by :mod:`gorun_kit.trace.flags`.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable, Sequence

from . import trace
from .records import Record
from .trace.flags import flag_names
from .trace.strace import struct_fields

__all__ = ["SpawnCall", "MethodRow", "METHODS", "rows_markdown", "PATH_FOR_RUNS", "trace_method", "compare_methods",
           "spawn_calls", "flag_names"]

PATH_FOR_RUNS = "/nonexistent-gorun-kit:/usr/bin:/bin"
TIMEOUT = 60.0
INSTRUMENT = "strace -f"

METHODS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # name: (lab program, its arguments, whether the target is a bare name)
    "fork": ("c", ("run", "fork"), False),
    "vfork": ("c", ("run", "vfork"), False),
    "posix_spawn": ("c", ("run", "posix_spawn"), False),
    "posix_spawnp": ("c", ("run", "posix_spawnp"), True),
    "system": ("c", ("run", "system"), True),
    "clone_stack": ("c", ("run", "clone_stack"), False),
    "clone_vm_raw": ("c", ("run", "clone_vm_raw"), False),
    "go os.StartProcess": ("go:spawn_start", (), False),
    "go exec.Command": ("go:spawn_cmd", (), True),
    "go exec.Command+Dir+Env": ("go:spawn_cmd", ("-dir", "/tmp", "-env", "GK_ONLY=1"), True),
}

@dataclasses.dataclass(frozen=True)
class SpawnCall(Record):
    """One process- or thread-creating syscall, as strace printed it."""

    dict_properties = ("child_stack",)

    pid: int  # the caller
    child: int  # clone's return value
    syscall: str  # clone, clone3, vfork, fork
    flags: tuple[str, ...]  # CLONE_* names, exit signal not included
    exit_signal: str  # "SIGCHLD" or "" (none)
    stack: str  # "NULL" or an address (clone's child_stack / clone3's stack)
    is_thread: bool
    text: str  # the strace line

    @property
    def child_stack(self) -> str:
        """shared (CLONE_VM, no stack given: runs on the parent's), separate, or copy (no CLONE_VM)."""
        if self.syscall == "vfork":
            return "shared"
        if "CLONE_VM" not in self.flags:
            return "copy"
        return "shared" if self.stack in ("NULL", "0", "") else "separate"


@dataclasses.dataclass(frozen=True)
class MethodRow(Record):
    """One row of the comparison table."""

    method: str
    command: tuple[str, ...]
    syscall: str  # the spawn syscall of the launching program ("clone3 -> sh: vfork" for system)
    flags: str  # "CLONE_VM|CLONE_VFORK|SIGCHLD"
    child_stack: str  # shared / separate / copy
    path_search: str  # who searches PATH, and with which syscalls
    wait: str  # wait4 / waitid(P_PIDFD)
    execve_attempts: int  # execve calls in the children, failed ones included
    child_before_exec: str  # traced syscalls the child made before its first execve (e.g. chdir)
    probe: str  # Go's one-time pidfd probe child, if any: its flags and how it was reaped
    instrument: str  # which instrument produced the cells
    tracer_flags: str | None  # the spawn flags the production tracer recorded (None: not run)
    exit_code: int


# ---------------------------------------------------------------------------
# the strace record

# what strace records of each run: every process-management call (clone,
# execve, wait4, waitid, exit_group, ...), the pidfd probe, the PATH lookups, chdir
_SYSCALLS = ("%process", "clone", "clone3", "fork", "vfork", "execve", "pidfd_open", "newfstatat", "faccessat2",
             "chdir")


def _call_text(c: trace.SyscallEvent) -> str:
    return f"{c.name}({', '.join(c.args)}) = {c.ret if c.ret is not None else '?'}"


def _stack(c: trace.SyscallEvent) -> str:
    """The child's stack a clone/clone3 call gave ("NULL" or an address; "" for vfork/fork)."""
    if c.name == "clone":
        return next((a.split("=", 1)[1] for a in c.args if a.startswith("child_stack=")), "")
    if c.name == "clone3" and c.args:
        try:
            return struct_fields(c.args[0]).get("stack", "NULL")
        except ValueError:  # strace could not read the struct
            return "NULL"
    return ""


def spawn_calls(t: trace.Trace) -> list[SpawnCall]:
    """The clone/clone3/vfork/fork calls of a strace run (strace_run with those
    syscalls asked for), with the flags as the kit's flag table names them."""
    by_call = {(s.parent_tid, s.ts_ns): s for s in t.spawns}
    out = []
    for c in t.syscalls():
        s = by_call.get((c.tid, c.ts_ns))
        if c.name not in ("clone", "clone3", "vfork", "fork") or s is None:
            continue
        names = flag_names(s.flags, clone3=c.name == "clone3")
        out.append(SpawnCall(c.tid, s.child_tid, c.name, names, s.exit_signal or "", _stack(c), s.is_thread,
                             _call_text(c)))
    return out


# ---------------------------------------------------------------------------
# running the labs

def _lab_command(method: str, labs: str | os.PathLike) -> list[str]:
    if method not in METHODS:
        raise ValueError(f"unknown spawn method {method!r}; choose one of {list(METHODS)}")
    lab, args, bare = METHODS[method]
    target = ["sleep", "0"] if bare else ["/bin/sleep", "0"]
    if lab == "c":
        from .build import build_c

        d = Path(labs, "labs_c", "spawn_methods")
        exe = build_c([d / "main.c", d / "spawn.c"], cflags=["-O2", "-std=gnu11"], name="spawn_methods").path
    else:
        from .build import build_go

        exe = build_go(Path(labs, "labs_go", lab.split(":", 1)[1])).path
    return [exe, *args, *target]


def trace_method(method: str, *, labs: str | os.PathLike, timeout: float = TIMEOUT) -> trace.Trace:
    """Run ``method``'s lab (from the course checkout ``labs``) under strace
    (:func:`gorun_kit.trace.strace_run`): the process-management calls, the
    pidfd probe, the PATH lookups and chdir are its ``syscalls()``."""
    cmd = _lab_command(method, labs)
    return trace.strace_run(cmd, env=dict(os.environ, PATH=PATH_FOR_RUNS), timeout=timeout, syscalls=_SYSCALLS)


def _tracer_flags(cmd: Sequence[str]) -> str | None:
    """The process-spawn flags (threads left out) gorun_kit.trace records for ``cmd``,
    "; "-separated in spawn order."""
    t = trace.run(list(cmd), env=dict(os.environ, PATH=PATH_FOR_RUNS), timeout=TIMEOUT)
    out = []
    for s in t.spawns:
        if not s.is_thread:
            names = list(s.flag_names)
            if s.exit_signal and s.exit_signal not in names:
                names.append(s.exit_signal)
            out.append("|".join(names))
    return "; ".join(out)


def _args(c: trace.SyscallEvent) -> str:
    return ", ".join(c.args)


def _row(method: str, t: trace.Trace, tracer_flags: str | None) -> MethodRow:
    """The table row of one strace run of ``method``'s lab."""
    cmd, calls = t.command, t.syscalls()
    owner = {tid: th.pid for tid, th in t.threads().items()}

    def proc(tid: int) -> int:
        return owner.get(tid, tid)

    root = next((c.tid for c in calls if c.name == "execve" and c.args and c.args[0] == cmd[0]), None)
    if root is None:
        raise RuntimeError(f"strace log of {method!r} has no execve of {cmd[0]}")
    mine = [c for c in calls if proc(c.tid) == root]
    spawns = [s for s in spawn_calls(t) if not s.is_thread]
    probe = [s for s in spawns if not s.exit_signal and proc(s.pid) == root]  # Go's pidfd probe: no exit signal
    real = [s for s in spawns if s not in probe]
    first = next((s for s in real if proc(s.pid) == root), None)
    syscall = first.syscall if first else "?"
    flags = "|".join((*first.flags, first.exit_signal)) if first else ""
    if first and first.syscall == "vfork":
        flags = "(implied by vfork) " + flags
    # what the child did between clone and execve (Cmd.Dir shows up as chdir)
    before_exec = []
    if first:
        for c in t.syscalls(tid=first.child):
            if c.name == "execve":
                break
            before_exec.append(c.name)
    nested = [s for s in real if proc(s.pid) != root]
    if nested:
        syscall += " -> " + ", ".join(f"{Path(_exe_of(t, s.pid)).name}: {s.syscall}" for s in nested)
        flags += " -> " + ", ".join("|".join((*s.flags, s.exit_signal)) for s in nested)
    execs = [c for c in calls if c.name == "execve" and proc(c.tid) != root]
    return MethodRow(method, cmd, syscall, flags, first.child_stack if first else "?",
                     _path_search(t, root, proc, execs), _waits(mine), len(execs), ", ".join(before_exec),
                     _probe_text(probe, mine), INSTRUMENT, tracer_flags, t.returncode)


def _path_search(t: trace.Trace, root: int, proc, execs: list[trace.SyscallEvent]) -> str:
    """Who searched PATH: the parent (Go) or a shell stats each candidate, or
    the child tries execve on each (the first PATH entry is a miss)."""
    miss = "/nonexistent-gorun-kit/"
    lookups = [c for c in t.syscalls() if c.name in ("newfstatat", "faccessat2") and "/sleep" in _args(c)]
    if any(miss in _args(c) for c in lookups):
        by = proc(next(c.tid for c in lookups if miss in _args(c)))
        who = "parent" if by == root else Path(_exe_of(t, by)).name
        names = list(dict.fromkeys(c.name for c in lookups if proc(c.tid) == by))
        return f"{who}: {'+'.join(names)} per PATH entry"
    if any(miss in _args(c) for c in execs):
        return "child: execve per PATH entry until one succeeds"
    return "none (given a path)"


def _waits(mine: list[trace.SyscallEvent]) -> str:
    """How the launching process waited for its child (the probe's __WCLONE wait left out)."""
    waits = [c for c in mine if c.name in ("wait4", "waitid") and c.ret != -1]
    return ", ".join(dict.fromkeys("waitid(P_PIDFD)" if "P_PIDFD" in _args(c) else c.name
                                   for c in waits if "__WCLONE" not in _args(c))) or "?"


def _probe_text(probe: list[SpawnCall], mine: list[trace.SyscallEvent]) -> str:
    """Go's one-time pidfd probe child: its flags and how it was reaped ("" when none)."""
    if not probe:
        return ""
    p = probe[0]
    reaped = any(c.name == "waitid" and "__WCLONE" in _args(c) for c in mine)
    opened = any(c.name == "pidfd_open" for c in mine)
    return (("pidfd_open(self); " if opened else "") + f"{p.syscall}({'|'.join(p.flags)}), no exit signal; "
            + ("reaped by waitid(P_PIDFD, __WCLONE)" if reaped else "reaped otherwise"))


def _exe_of(t: trace.Trace, tid: int) -> str:
    ex = [c for c in t.syscalls("execve", tid=tid) if c.ret == 0]
    return ex[-1].args[0] if ex and ex[-1].args else "?"


_COLUMNS = [("method", "method"), ("syscall", "spawn syscall"), ("flags", "flags"), ("child_stack", "child stack"),
            ("path_search", "who searches PATH"), ("child_before_exec", "child before execve"),
            ("wait", "parent waits with"), ("probe", "one-time pidfd probe")]


def rows_markdown(rows: Sequence[MethodRow]) -> str:
    """The comparison table as Markdown (instruments named under it)."""
    columns = list(_COLUMNS)
    if any(r.tracer_flags is not None for r in rows):
        columns.insert(3, ("tracer_flags", "flags (gorun_kit.trace)"))
    head = "| " + " | ".join(t for _, t in columns) + " |"
    lines = [head, "|" + "---|" * len(columns)]
    for r in rows:
        cells = [str(getattr(r, k) or "").replace("|", "\\|") for k, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    instruments = sorted({r.instrument for r in rows})
    tracer = [r for r in rows if r.tracer_flags is not None]
    lines.append("")
    lines.append(f"Instruments: every column but one comes from {', '.join(instruments)} (every process and "
                 "thread followed, arguments decoded by strace); the event tracer does not record waitid, "
                 "pidfd_open or the PATH lookups.")
    if tracer:
        lines.append(f"Column 'flags (gorun_kit.trace)': the course's ptrace tracer (events mode) run separately on "
                     f"the same {len(tracer)} commands: every process spawn it saw, in order (the Go probe child "
                     "first), as a cross-check of the flags column.")
    return "\n".join(lines)


def compare_methods(methods: Iterable[str] | None = None, *, labs: str | os.PathLike,
                    with_tracer: bool = True) -> list[MethodRow]:
    """Run every method (default: all of :data:`METHODS`) from the course checkout
    ``labs`` (the directory holding labs_c/ and labs_go/) and build the table rows."""
    rows = []
    for m in (list(methods) if methods is not None else list(METHODS)):
        t = trace_method(m, labs=labs)
        if t.returncode != 0:
            raise RuntimeError(f"spawn method {m!r} exited {t.returncode} under strace; "
                               f"run {' '.join(t.command)} by hand to see why")
        tf = _tracer_flags(t.command) if with_tracer else None
        rows.append(_row(m, t, tf))
    return rows
