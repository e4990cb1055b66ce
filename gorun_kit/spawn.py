"""How each way of starting a program asks the kernel for a child: the
process-creating syscall, its flags, where the child's stack is, who searches
PATH, and how the parent waits -- recorded live, one method at a time.

Every method starts the same target (``sleep 0``) with
``PATH=/nonexistent-gorun-kit:/usr/bin:/bin``, so a PATH search shows one miss
and one hit. The programs are the course's labs: ``labs_c/spawn_methods`` (C:
fork, vfork, posix_spawn, posix_spawnp, system, clone with a separate stack,
raw clone like Go's) and ``labs_go/spawn_start``/``spawn_cmd`` (Go).

Instruments: strace (``-ff``, one log per process) records every syscall
with its arguments; it is the source of every cell of :class:`MethodRow`, and
each row says so in ``instrument``. When the course's production tracer
(:mod:`gorun_kit.trace`) is installed, :func:`compare_methods` also runs each
method under it and records in ``tracer_flags`` the clone flags *it* saw, so
the two instruments can be checked against each other.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from .toolchain import find_tool

__all__ = ["SpawnCall", "MethodRow", "METHODS", "rows_markdown", "PATH_FOR_RUNS", "trace_method", "compare_methods",
           "spawn_calls", "flag_names"]

PATH_FOR_RUNS = "/nonexistent-gorun-kit:/usr/bin:/bin"
TIMEOUT = 60.0

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

_CLONE_FLAGS = {  # linux/sched.h
    0x100: "CLONE_VM", 0x200: "CLONE_FS", 0x400: "CLONE_FILES", 0x800: "CLONE_SIGHAND",
    0x1000: "CLONE_PIDFD", 0x2000: "CLONE_PTRACE", 0x4000: "CLONE_VFORK", 0x8000: "CLONE_PARENT",
    0x10000: "CLONE_THREAD", 0x20000: "CLONE_NEWNS", 0x40000: "CLONE_SYSVSEM", 0x80000: "CLONE_SETTLS",
    0x100000: "CLONE_PARENT_SETTID", 0x200000: "CLONE_CHILD_CLEARTID", 0x1000000: "CLONE_CHILD_SETTID",
}


def flag_names(value: int) -> tuple[str, ...]:
    """Clone flag bits as names (the low byte is the exit signal, named separately)."""
    names = [n for bit, n in sorted(_CLONE_FLAGS.items()) if value & bit]
    rest = value & ~0xff & ~sum(_CLONE_FLAGS)
    if rest:
        names.append(hex(rest))
    return tuple(names)


@dataclasses.dataclass(frozen=True)
class SpawnCall:
    """One process- or thread-creating syscall, as strace printed it."""

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

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["child_stack"] = self.child_stack
        return d


@dataclasses.dataclass(frozen=True)
class MethodRow:
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

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------
# strace logs

_LINE = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+= (?P<ret>-?\d+|\?)(?: (?P<err>E\w+))?")


@dataclasses.dataclass(frozen=True)
class _Call:
    pid: int
    name: str
    args: str
    ret: int | None
    err: str
    line: str


def _read_logs(prefix: Path) -> list[_Call]:
    calls = []
    for log in sorted(prefix.parent.glob(prefix.name + ".*")):
        pid = int(log.suffix[1:])
        for line in log.read_text(errors="replace").splitlines():
            m = _LINE.match(line)
            if m:
                ret = None if m.group("ret") == "?" else int(m.group("ret"))
                calls.append(_Call(pid, m.group("name"), m.group("args"), ret, m.group("err") or "", line))
    return calls


def _flag_set(text: str) -> tuple[list[str], str]:
    parts = [p for p in text.split("|") if p]
    sig = next((p for p in parts if p.startswith("SIG")), "")
    return [p for p in parts if p.startswith("CLONE_")], sig


def spawn_calls(calls: Iterable[_Call]) -> list[SpawnCall]:
    """The clone/clone3/vfork/fork calls among strace records."""
    out = []
    for c in calls:
        if c.name in ("vfork", "fork"):
            out.append(SpawnCall(c.pid, c.ret or 0, c.name, ("CLONE_VM", "CLONE_VFORK") if c.name == "vfork" else (),
                                 "SIGCHLD", "", False, c.line))
        elif c.name == "clone":
            m = re.search(r"flags=([\w|]+)", c.args)
            stack = re.search(r"child_stack=(\w+)", c.args)
            flags, sig = _flag_set(m.group(1) if m else "")
            out.append(SpawnCall(c.pid, c.ret or 0, "clone", tuple(flags), sig, stack.group(1) if stack else "",
                                 "CLONE_THREAD" in flags, c.line))
        elif c.name == "clone3":
            m = re.search(r"flags=([\w|]+)", c.args)
            sig = re.search(r"exit_signal=(\w+)", c.args)
            stack = re.search(r"stack=(\w+)", c.args)
            flags, _ = _flag_set(m.group(1) if m else "")
            out.append(SpawnCall(c.pid, c.ret or 0, "clone3", tuple(flags), sig.group(1) if sig else "",
                                 stack.group(1) if stack else "NULL", "CLONE_THREAD" in flags, c.line))
    return out


# ---------------------------------------------------------------------------
# running the labs

def _lab_command(method: str) -> list[str]:
    if method not in METHODS:
        raise ValueError(f"unknown spawn method {method!r}; choose one of {list(METHODS)}")
    lab, args, bare = METHODS[method]
    target = ["sleep", "0"] if bare else ["/bin/sleep", "0"]
    if lab == "c":
        from .build import build_c

        d = Path(__file__).resolve().parent.parent / "labs_c" / "spawn_methods"
        exe = build_c([d / "main.c", d / "spawn.c"], cflags=["-O2", "-std=gnu11"], name="spawn_methods").path
    else:
        from .build import build_go

        exe = build_go(Path(__file__).resolve().parent.parent / "labs_go" / lab.split(":", 1)[1]).path
    return [exe, *args, *target]


def _run_quiet(cmd: Sequence[str], env: dict, timeout: float) -> int:
    proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise
    return proc.returncode


def trace_method(method: str, *, timeout: float = TIMEOUT) -> tuple[list[_Call], int, tuple[str, ...]]:
    """Run ``method``'s lab under ``strace -ff``; returns (syscalls, exit code, command)."""
    cmd = _lab_command(method)
    strace = find_tool("strace").path
    env = dict(os.environ, PATH=PATH_FOR_RUNS)
    tmp = Path(tempfile.mkdtemp(prefix="gorun-kit-spawn-"))
    try:
        prefix = tmp / "log"
        rc = _run_quiet([strace, "-ff", "-qq", "-o", str(prefix), "-e",
                         "trace=%process,pidfd_open,newfstatat,faccessat2,chdir", *cmd], env, timeout)
        calls = _read_logs(prefix)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return calls, rc, tuple(cmd)


def _tracer_flags(cmd: Sequence[str]) -> str | None:
    """The process-spawn flags (threads left out) gorun_kit.trace records for ``cmd``,
    "; "-separated in spawn order (None when the tracer is not installed)."""
    try:
        from . import trace
    except ImportError:
        return None
    t = trace.run(list(cmd), env=dict(os.environ, PATH=PATH_FOR_RUNS), timeout=TIMEOUT)
    out = []
    for s in t.spawns:
        if not s.is_thread:
            names = list(s.flag_names)
            if s.exit_signal and s.exit_signal not in names:
                names.append(s.exit_signal)
            out.append("|".join(names))
    return "; ".join(out)


def _processes(calls: list[_Call]) -> dict[int, int]:
    """tid -> the pid of its process (strace -ff writes one log per *thread*)."""
    creator = {s.child: s.pid for s in spawn_calls(calls) if s.is_thread}
    owner = {}
    for tid in creator:
        p = tid
        while p in creator:  # a thread created by a thread: follow to the leader
            p = creator[p]
        owner[tid] = p
    return owner


def _row(method: str, calls: list[_Call], rc: int, cmd: tuple[str, ...], tracer_flags: str | None) -> MethodRow:
    owner = _processes(calls)

    def proc(pid: int) -> int:
        return owner.get(pid, pid)

    root = next((c.pid for c in calls if c.name == "execve" and c.args.startswith(f'"{cmd[0]}"')), None)
    if root is None:
        raise RuntimeError(f"strace log of {method!r} has no execve of {cmd[0]}")
    mine = [c for c in calls if proc(c.pid) == root]
    spawns = [s for s in spawn_calls(calls) if not s.is_thread]
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
        for c in calls:
            if c.pid == first.child:
                if c.name == "execve":
                    break
                before_exec.append(c.name)
    nested = [s for s in real if proc(s.pid) != root]
    if nested:
        syscall += " -> " + ", ".join(f"{Path(_exe_of(calls, s.pid)).name}: {s.syscall}" for s in nested)
        flags += " -> " + ", ".join("|".join((*s.flags, s.exit_signal)) for s in nested)
    execs = [c for c in calls if c.name == "execve" and proc(c.pid) != root]
    # PATH search: the parent (Go) or the shell stats candidates, or the child tries execve on each
    miss = "/nonexistent-gorun-kit/"
    lookups = [c for c in calls if c.name in ("newfstatat", "faccessat2") and "/sleep" in c.args]
    exec_miss = [c for c in execs if miss in c.args]
    if any(miss in c.args for c in lookups):
        by = proc(next(c.pid for c in lookups if miss in c.args))
        who = "parent" if by == root else Path(_exe_of(calls, by)).name
        names = list(dict.fromkeys(c.name for c in lookups if proc(c.pid) == by))
        path_search = f"{who}: {'+'.join(names)} per PATH entry"
    elif exec_miss:
        path_search = "child: execve per PATH entry until one succeeds"
    else:
        path_search = "none (given a path)"
    waits = [c for c in mine if c.name in ("wait4", "waitid") and not (c.ret == -1)]
    wait = ", ".join(dict.fromkeys("waitid(P_PIDFD)" if "P_PIDFD" in c.args else c.name
                                   for c in waits if "__WCLONE" not in c.args))
    probe_text = ""
    if probe:
        p = probe[0]
        reaped = any(c.name == "waitid" and "__WCLONE" in c.args for c in mine)
        opened = any(c.name == "pidfd_open" for c in mine)
        probe_text = (("pidfd_open(self); " if opened else "") + f"{p.syscall}({'|'.join(p.flags)}), no exit signal; "
                      + ("reaped by waitid(P_PIDFD, __WCLONE)" if reaped else "reaped otherwise"))
    return MethodRow(method, cmd, syscall, flags, first.child_stack if first else "?", path_search, wait or "?",
                     len(execs), ", ".join(before_exec), probe_text, "strace -ff", tracer_flags, rc)


def _exe_of(calls: list[_Call], pid: int) -> str:
    ex = [c for c in calls if c.pid == pid and c.name == "execve" and c.ret == 0]
    if not ex:
        return "?"
    m = re.match(r'"([^"]*)"', ex[-1].args)
    return m.group(1) if m else "?"


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
    lines.append(f"Instruments: every column but one comes from {', '.join(instruments)} (one log per process, "
                 "arguments decoded by strace); the event tracer does not record waitid, pidfd_open or the "
                 "PATH lookups.")
    if tracer:
        lines.append(f"Column 'flags (gorun_kit.trace)': the course's ptrace tracer (events mode) run separately on "
                     f"the same {len(tracer)} commands: every process spawn it saw, in order (the Go probe child "
                     "first), as a cross-check of the flags column.")
    return "\n".join(lines)


def compare_methods(methods: Iterable[str] | None = None, *, with_tracer: bool = True) -> list[MethodRow]:
    """Run every method (default: all of :data:`METHODS`) and build the table rows."""
    rows = []
    for m in (list(methods) if methods is not None else list(METHODS)):
        calls, rc, cmd = trace_method(m)
        if rc != 0:
            raise RuntimeError(f"spawn method {m!r} exited {rc} under strace; run {' '.join(cmd)} by hand to see why")
        tf = _tracer_flags(cmd) if with_tracer else None
        rows.append(_row(m, calls, rc, cmd, tf))
    return rows
