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

__all__ = ["SpawnCall", "MethodRow", "MethodRun", "METHODS", "rows_markdown", "PATH_FOR_RUNS", "trace_method",
           "compare_methods", "run_methods", "spawn_calls", "flag_names", "clone_call", "kernel_functions", "KERNEL_PATHS",
           "SpawnStep", "go_spawn_steps", "ExecLimit", "exec_limits", "go_clone_constants",
           "vfork_syscall_entry", "OS_PIDFD_SINCE", "os_pidfd", "pidfd_waits_hold"]

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

    @property
    def tracer_seen(self) -> tuple[str, ...]:
        """The flags of each process spawn the production tracer recorded (empty: not run)."""
        return tuple(f.strip() for f in (self.tracer_flags or "").split(";") if f.strip())

    @property
    def agrees_with_tracer(self) -> bool | None:
        """Whether the flags strace saw for the first real spawn (``flags`` up to
        any `` -> ``, without the ``(implied by vfork)`` note) are among the
        spawns the tracer recorded; None when the tracer was not run."""
        if self.tracer_flags is None:
            return None
        return self.flags.split(" -> ")[0].replace("(implied by vfork) ", "") in self.tracer_seen


# ---------------------------------------------------------------------------
# the strace record

# what strace records of each run: every process-management call (clone,
# execve, wait4, waitid, exit_group, ...), the pidfd probe, the PATH lookups, chdir
# pipe2 and read: Go's CLOEXEC status pipe (see go_spawn_steps)
_SYSCALLS = ("%process", "clone", "clone3", "fork", "vfork", "execve", "pidfd_open", "newfstatat", "faccessat2",
             "chdir", "pipe2", "read")


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


def _tracer_run(cmd: Sequence[str]) -> trace.Trace:
    """``cmd`` under the production tracer (events mode), with the runs' PATH."""
    return trace.run(list(cmd), env=dict(os.environ, PATH=PATH_FOR_RUNS), timeout=TIMEOUT)


def _tracer_flags(t: trace.Trace) -> str:
    """The process-spawn flags (threads left out) gorun_kit.trace recorded,
    "; "-separated in spawn order."""
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
    def name(c: trace.SyscallEvent) -> str:
        if c.name == "waitid" and c.args and c.args[0] in ("P_PIDFD", "P_PID"):
            return f"waitid({c.args[0]})"
        return c.name

    return ", ".join(dict.fromkeys(name(c) for c in waits if "__WCLONE" not in _args(c))) or "?"


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


def _short(flags: str) -> str:
    """CLONE_VM|CLONE_VFORK|SIGCHLD -> VM|VFORK|SIGCHLD; "(implied by vfork) X" -> "X (implied)"."""
    implied = flags.startswith("(implied by vfork) ")
    text = flags.replace("(implied by vfork) ", "").replace("CLONE_", "")
    return text + (" (implied)" if implied else "")


def _tracer_cell(r: MethodRow) -> str:
    """What the production tracer saw, against strace's flags: how many process
    spawns, and whether the first real spawn's flags are among them."""
    seen = r.tracer_seen
    probe = " (the probe first)" if r.probe else ""
    verdict = "the same flags" if r.agrees_with_tracer else "other flags: " + _short("; ".join(seen))
    return f"{len(seen)} spawn{'s' if len(seen) != 1 else ''}{probe}, {verdict}"


_KERNEL_COLUMNS = [("method", "method"), ("syscall", "spawn syscall"), ("flags", "flags (strace)"),
                   ("tracer", "gorun_kit.trace saw"), ("child_stack", "child stack")]
_AROUND_COLUMNS = [("method", "method"), ("path_search", "who searches PATH"),
                   ("child_before_exec", "child before execve"), ("wait", "parent waits with")]


def _table(rows: Sequence[MethodRow], columns) -> list[str]:
    lines = ["| " + " | ".join(t for _, t in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for k, _ in columns:
            if k == "flags":
                v = _short(r.flags)
            elif k == "tracer":
                v = _tracer_cell(r)
            else:
                v = str(getattr(r, k) or "-")
            cells.append(v.replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def rows_markdown(rows: Sequence[MethodRow]) -> str:
    """The comparison as two narrow Markdown tables: what each method asks the
    kernel for (syscall, flags without the ``CLONE_`` prefix, what the
    production tracer saw when it ran, child stack), then what happens around
    the spawn (PATH search, the child's calls before execve, the wait); Go's
    one-time pidfd probe and the instruments are named under them."""
    tracer = any(r.tracer_flags is not None for r in rows)
    kernel = [c for c in _KERNEL_COLUMNS if tracer or c[0] != "tracer"]
    lines = ["**What each method asks the kernel for**", "", *_table(rows, kernel), "",
             "**Around the spawn**", "", *_table(rows, _AROUND_COLUMNS), ""]
    probes = {r.probe for r in rows if r.probe}
    for p in sorted(probes):
        names = ", ".join(r.method for r in rows if r.probe == p)
        lines.append(f"One-time pidfd probe ({names}): {p}.")
    instruments = sorted({r.instrument for r in rows})
    lines.append(f"Instruments: every column but one comes from {', '.join(instruments)} (every process and "
                 "thread followed, arguments decoded by strace); the event tracer does not record waitid, "
                 "pidfd_open or the PATH lookups.")
    if tracer:
        lines.append(f"Column 'gorun_kit.trace saw': the course's ptrace tracer (events mode) run separately on "
                     f"the same {sum(r.tracer_flags is not None for r in rows)} commands: how many processes it "
                     "saw created, and whether the flags strace shows are among theirs.")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class MethodRun(Record):
    """One method's table row with the records it was made from: the strace
    run (``strace``) and, when asked for, the production tracer's run of the
    same command (``tracer``), for pictures drawn from the same records."""

    row: MethodRow
    strace: trace.Trace
    tracer: trace.Trace | None


def run_methods(methods: Iterable[str] | None = None, *, labs: str | os.PathLike,
                with_tracer: bool = True) -> list[MethodRun]:
    """Like :func:`compare_methods`, keeping each method's traces beside its row."""
    runs = []
    for m in (list(methods) if methods is not None else list(METHODS)):
        t = trace_method(m, labs=labs)
        if t.returncode != 0:
            raise RuntimeError(f"spawn method {m!r} exited {t.returncode} under strace; "
                               f"run {' '.join(t.command)} by hand to see why")
        tt = _tracer_run(t.command) if with_tracer else None
        runs.append(MethodRun(_row(m, t, _tracer_flags(tt) if tt else None), t, tt))
    return runs


def compare_methods(methods: Iterable[str] | None = None, *, labs: str | os.PathLike,
                    with_tracer: bool = True) -> list[MethodRow]:
    """Run every method (default: all of :data:`METHODS`) from the course checkout
    ``labs`` (the directory holding labs_c/ and labs_go/) and build the table rows."""
    return [r.row for r in run_methods(methods, labs=labs, with_tracer=with_tracer)]


# ---------------------------------------------------------------------------
# the source line that runs, and the kernel's function names

def go_clone_constants(names: Iterable[str] = ("CLONE_VM", "CLONE_VFORK", "CLONE_PIDFD", "CLONE_SYSVSEM"), *,
                       toolchain=None) -> dict[str, int]:
    """The values of the ``CLONE_*`` constants ``names`` as the installed
    ``syscall`` package defines them in ``exec_linux.go`` (``NAME = 0x...``),
    in the order asked. Raises :class:`gorun_kit.goroot.SourceNotFound`
    naming the constants the file does not define."""
    import re

    from . import goroot

    names = tuple(names)
    rx = re.compile(r"^\s*(CLONE_\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)\b")
    found: dict[str, int] = {}
    for c in goroot.grep(r"^\s*CLONE_\w+\s*=", "syscall", toolchain=toolchain):
        m = rx.match(c.text)
        if m and c.file.endswith("exec_linux.go"):
            found.setdefault(m[1], int(m[2], 0))
    missing = [n for n in names if n not in found]
    if missing:
        raise goroot.SourceNotFound(f"syscall/exec_linux.go defines no {', '.join(missing)}")
    return {n: found[n] for n in names}


# Go 1.23 made os.StartProcess ask the spawn clone for a pidfd (CLONE_PIDFD,
# after a one-time probe child) and wait on it with waitid(P_PIDFD); before,
# os.(*Process).wait blocked in waitid(P_PID, ..., WNOWAIT) and reaped with wait4.
OS_PIDFD_SINCE = (1, 23)


def os_pidfd(*, toolchain=None):
    """The line of ``os.startProcess`` that asks the spawn for a pidfd
    (``ensurePidfd(...)``) in the installed GOROOT, as a
    :class:`gorun_kit.goroot.Citation`; None when this release's ``os`` uses
    no pidfd (before Go 1.23, :data:`OS_PIDFD_SINCE`). Read from the source,
    so it follows the release; raises :class:`gorun_kit.goroot.SourceNotFound`
    when ``os.startProcess`` itself is gone."""
    from . import goroot
    from .toolchain import find_go

    tc = toolchain or find_go()
    start = goroot.find_func("startProcess", "os", toolchain=tc)
    for i, line in enumerate(goroot.func_source(start, max_lines=120, toolchain=tc).splitlines()):
        if "ensurePidfd(" in line:
            return goroot.Citation(start.file, start.line + i, "os.startProcess", line.strip(), tc.version)
    return None


def pidfd_waits_hold(rows: Sequence[MethodRow], pidfd, *, toolchain=None) -> bool:
    """Whether the rows of Go's spawns (``go ...`` methods of :func:`run_methods`)
    show what this release's ``os`` does, ``pidfd`` being :func:`os_pidfd`:

    * with a pidfd (Go 1.23 and later): every clone has ``CLONE_PIDFD`` and the
      parent waits with ``waitid(P_PIDFD)`` only;
    * without (before Go 1.23): no clone has ``CLONE_PIDFD``, there is no probe
      child, and the parent blocks in ``waitid(P_PID)`` (``WNOWAIT``), then reaps
      with ``wait4``.

    False too when the source and the release number disagree (a pidfd before
    :data:`OS_PIDFD_SINCE`, or none from it on: a change nobody has described),
    or when ``rows`` is empty."""
    from .toolchain import find_go

    tc = toolchain or find_go()
    if not rows or (pidfd is not None) != (tc.version_tuple >= OS_PIDFD_SINCE):
        return False
    if pidfd is not None:
        return all(r.wait == "waitid(P_PIDFD)" and "CLONE_PIDFD" in r.flags.split("|") for r in rows)
    return all(r.wait == "waitid(P_PID), wait4" and "CLONE_PIDFD" not in r.flags.split("|") and not r.probe
               for r in rows)


def vfork_syscall_entry(goarch: str | None = None, *, toolchain=None):
    """The instruction by which ``syscall.rawVforkSyscall`` (Go's own
    assembly, used for the spawn clone) enters the kernel on ``goarch``
    (default: the toolchain's GOARCH): its first ``SYSCALL``/``SVC``/``ECALL``
    line, as a :class:`gorun_kit.goroot.Citation`. Its existence is what
    shows no libc sits between Go's fork/exec and the kernel, cgo or not.
    Raises :class:`gorun_kit.goroot.SourceNotFound` when there is none."""
    from . import goroot
    from .toolchain import find_go

    tc = toolchain or find_go()
    arch = goarch or tc.goarch
    where = goroot.find_asm("rawVforkSyscall", "syscall", arch=arch, toolchain=tc)
    for i, line in enumerate(goroot.func_source(where, toolchain=tc).splitlines()):
        if i and line.lstrip().startswith("TEXT"):
            break  # the next function
        if line.strip().split(None, 1)[:1] in (["SYSCALL"], ["SVC"], ["ECALL"]):
            return goroot.Citation(where.file, where.line + i, "syscall.rawVforkSyscall", line.strip(), tc.version)
    raise goroot.SourceNotFound(f"no kernel-entry instruction in syscall.rawVforkSyscall ({arch}) of {tc.version}")


def clone_call(goarch: str | None = None, *, toolchain=None):
    """The ``rawVforkSyscall(SYS_CLONE, ...)`` line of ``syscall.forkAndExecInChild1``
    that runs on ``goarch`` (default: the toolchain's GOARCH), as a
    :class:`gorun_kit.goroot.Citation`.

    The function has one such call per branch of ``if runtime.GOARCH == "..."``
    (s390x takes clone's first two arguments swapped); the branch whose
    condition holds for ``goarch``, or the ``else`` branch, is chosen. Raises
    :class:`gorun_kit.goroot.SourceNotFound` when the function or the call is gone.
    """
    import re

    from . import goroot
    from .toolchain import find_go

    tc = toolchain or find_go()
    arch = goarch or tc.goarch
    where = goroot.find_func("forkAndExecInChild1", "syscall", toolchain=tc)
    body = goroot.func_source(where, max_lines=600, toolchain=tc).splitlines()
    cond = re.compile(r'^(\s*)(\}\s*else\s+)?if\s+runtime\.GOARCH\s*(==|!=)\s*"(\w+)"\s*\{')
    chain: tuple[str, bool, bool] | None = None  # (indent, this branch applies, an earlier one applied)
    for i, line in enumerate(body):
        m = cond.match(line)
        if m:
            holds = (arch == m[4]) == (m[3] == "==")
            earlier = bool(m[2]) and chain is not None and (chain[1] or chain[2])
            chain = (m[1], holds and not earlier, earlier)
            continue
        if chain is not None and re.match(rf"^{chain[0]}\}}\s*else\s*\{{", line):
            chain = (chain[0], not (chain[1] or chain[2]), True)
            continue
        if chain is not None and line.rstrip() == chain[0] + "}":
            chain = None
            continue
        if "rawVforkSyscall(SYS_CLONE" in line and (chain is None or chain[1]):
            return goroot.Citation(where.file, where.line + i, "syscall.forkAndExecInChild1", line.strip(),
                                   tc.version)
    raise goroot.SourceNotFound(f"no rawVforkSyscall(SYS_CLONE, ...) for GOARCH {arch} in "
                                f"syscall.forkAndExecInChild1 of {tc.version}")


# The kernel functions chapter 3 looks up, per stage: the seed's names
# (sys_clone, dup_task_struct, bprm_execve, load_elf_binary, getname) among
# the names recent x86-64 kernels use for the same path.
KERNEL_PATHS: dict[str, tuple[str, ...]] = {
    "clone": ("sys_clone", "__x64_sys_clone", "__do_sys_clone", "kernel_clone", "copy_process", "dup_task_struct"),
    "execve": ("__x64_sys_execve", "do_execveat_common", "bprm_execve", "exec_binprm", "search_binary_handler",
               "load_elf_binary"),
    "copying the arguments": ("getname", "getname_flags", "copy_strings", "copy_string_kernel"),
}


def kernel_functions(names: Iterable[str], symbols: Iterable[str] | None = None) -> dict[str, str | None]:
    """For each function name, the symbol the running kernel has for it in
    ``/proc/kallsyms`` (``symbols``: the names to look in, default
    :func:`gorun_kit.procfs.kernel_symbols`), or None when there is none.

    A compiler-made copy counts (``copy_strings.isra.0`` for ``copy_strings``;
    the plain name wins when both exist); a ``.cold`` part alone does not.
    None means the function is not a symbol of this kernel: it was inlined
    into its callers, renamed, or never existed.
    """
    if symbols is None:
        from .procfs import kernel_symbols

        symbols = kernel_symbols()
    syms = set(symbols)
    out: dict[str, str | None] = {}
    for name in names:
        if name in syms:
            out[name] = name
            continue
        copies = sorted(s for s in syms if s.startswith(name + ".") and not s.endswith(".cold"))
        out[name] = copies[0] if copies else None
    return out


@dataclasses.dataclass(frozen=True)
class ExecLimit(Record):
    """One execve made by :func:`exec_limits`: which argument was long
    (``what``: "filename" or "argv[1]"), its length in bytes without the NUL,
    the kernel limit it was measured against (``limit_name``, ``limit``), and
    the errno name execve gave (None: the exec succeeded)."""

    what: str
    length: int
    limit_name: str
    limit: int
    errno: str | None


def _exec_errno(path: str, argv: Sequence[str]) -> str | None:
    import errno as errno_mod

    try:
        pid = os.posix_spawn(path, list(argv), {})
    except OSError as e:
        return errno_mod.errorcode.get(e.errno, str(e.errno))
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{path} ran but exited with status {status}")
    return None


def exec_limits(true: str = "/bin/true") -> tuple[ExecLimit, ...]:
    """Show the kernel's two copy paths for execve's arguments by their
    limits: the filename goes through getname, bounded by PATH_MAX (4096
    bytes with its NUL), so a name of PATH_MAX bytes gives ENAMETOOLONG; each
    argv/envp string is copied by copy_strings, bounded by MAX_ARG_STRLEN
    (32 pages), so one argv string of MAX_ARG_STRLEN bytes gives E2BIG while
    one byte fewer runs ``true``. Returns the three execs in that order.
    Uses os.posix_spawn (glibc reports the child's execve errno); Linux only.
    Raises RuntimeError when ``true`` runs but does not exit 0."""
    import resource

    path_max = os.pathconf("/", "PC_PATH_MAX")
    max_arg_strlen = 32 * resource.getpagesize()
    long_name = "/" + "a" * (path_max - 1)  # path_max bytes + NUL: one too many
    out = [ExecLimit("filename", len(long_name), "PATH_MAX", path_max, _exec_errno(long_name, ["x"]))]
    for n in (max_arg_strlen - 1, max_arg_strlen):  # with its NUL: exactly the limit, then one over
        out.append(ExecLimit("argv[1]", n, "MAX_ARG_STRLEN", max_arg_strlen, _exec_errno(true, ["true", "x" * n])))
    return tuple(out)


# ---------------------------------------------------------------------------
# Go's spawn, step by step (from a strace run)

@dataclasses.dataclass(frozen=True)
class SpawnStep(Record):
    """One step of a Go spawn as strace recorded it.

    ``lane`` is "parent" or "child"; ``call`` the syscall's name (``clone
    returns`` for the parent's return from clone); ``text`` a short rendering
    with the values that matter (fds, flags, byte counts, status); ``ts_ns``
    strace's stamp as the parser recorded it: for a call strace printed on
    one line, the time of its *entry*; for a call split into ``<unfinished
    ...>`` and ``<... resumed>`` (such as a CLONE_VFORK clone, held while the
    child runs), the time it *returned*; an exec that succeeded is stamped
    when the new program already runs. The stamps of one sequence thus mix
    entry and return times; ``order`` the step's place in
    the story, which follows cause and effect, not the stamps (see
    :func:`go_spawn_steps`).
    """

    order: int
    lane: str
    call: str
    text: str
    ts_ns: int
    ret: int | None


def _fds(arg: str) -> tuple[int, int]:
    inner = arg.strip("[]").split(",")
    return int(inner[0]), int(inner[1])


def go_spawn_steps(t: trace.Trace, child: int | None = None) -> tuple[SpawnStep, ...]:
    """Go's fork/exec of ``child`` (default: the first child of the root process
    that has an exit signal, so not the pidfd probe) as steps on two lanes,
    from a strace run made with ``pipe2`` and ``read`` among its syscalls (as
    :func:`trace_method` does; for a failing exec also ``write``, ``exit`` and
    ``wait4``).

    The steps, in logical order (cause before effect): the parent's ``pipe2(O_CLOEXEC)``, its
    ``clone``; the child's ``execve`` and, when that failed, its 8-byte
    ``write`` of the errno into the pipe and ``exit``; the parent's return
    from clone (CLONE_VFORK held it until the child exec'd or exited), its
    ``read`` of the pipe (0: EOF, the exec closed the write end; 8: the
    errno), the child's end, and the parent's wait (``waitid(P_PIDFD)`` or,
    after a failure, ``wait4``). The parent's calls are looked up in all of
    its threads, since the goroutine may change thread between them. Raises
    ValueError naming what is missing
    when the trace does not hold these calls.
    """
    spawns = [s for s in t.spawns if not s.is_thread and s.exit_signal and s.parent_pid == t.root_pid]
    if child is not None:
        spawns = [s for s in spawns if s.child_pid == child]
    if not spawns:
        raise ValueError(f"no process spawn with an exit signal{f' of child {child}' if child else ''} "
                         f"by the root process in the trace of {' '.join(t.command)!r}")
    sp = spawns[0]
    ptid, kid = sp.parent_tid, sp.child_tid
    # every thread of the parent process: the goroutine may move to another thread
    # between the clone and its read of the status pipe or its wait
    ptids = {tid for tid, th in t.threads().items() if th.pid == sp.parent_pid} | {ptid}
    parent_calls = sorted((c for c in t.calls if c.tid in ptids), key=lambda c: c.ts_ns)
    pipes = [c for c in parent_calls if c.name == "pipe2" and c.ts_ns <= sp.ts_ns and "O_CLOEXEC" in c.args[1:]]
    if not pipes:
        raise ValueError("the trace has no pipe2(O_CLOEXEC) before the clone: was it made with "
                         "syscalls=[..., 'pipe2', 'read']?")
    pipe = pipes[-1]
    rfd, wfd = _fds(pipe.args[0])
    steps: list[tuple[str, str, str, int, int | None]] = [
        ("parent", "pipe2", f"pipe2(O_CLOEXEC) = [{rfd}, {wfd}]", pipe.ts_ns, pipe.ret)]
    clone_call_ = next((c for c in parent_calls if c.name in ("clone", "clone3") and c.ret == kid), None)
    pidfd = None
    if clone_call_ is not None:
        pt = next((a for a in clone_call_.args if a.startswith("parent_tid=")), "")
        pidfd = int(pt.split("[", 1)[1].rstrip("]")) if "[" in pt else None
    flags = "|".join(n.replace("CLONE_", "") for n in sp.flag_names)
    steps.append(("parent", "clone", f"clone({flags})", sp.ts_ns, None))
    # the child until its exec succeeded or it exited
    execs = [e for e in t.events if isinstance(e, (trace.ExecEvent, trace.ExecFailedEvent)) and e.tid == kid]
    done = False
    for e in execs:
        prog = e.filename.rsplit("/", 1)[-1]
        if isinstance(e, trace.ExecEvent):
            steps.append(("child", "execve", f'execve("{prog}") = 0: fd {wfd} closed (CLOEXEC)', e.ts_ns, 0))
            done = True
            break
        steps.append(("child", "execve", f'execve("{prog}") = -1 {e.errno}', e.ts_ns, -1))
    if not done:
        w = next((c for c in t.syscalls("write", tid=kid) if c.args and c.args[0] == str(wfd)), None)
        if w is not None:
            raw = os.fsencode(w.args[1])
            errno = int.from_bytes(raw[:8], "little") if len(raw) >= 8 else None
            steps.append(("child", "write", f"write({wfd}, {w.ret} bytes): errno {errno}", w.ts_ns, w.ret))
        x = next((c for c in t.syscalls(tid=kid) if c.name in ("exit", "exit_group")), None)
        if x is not None:
            steps.append(("child", x.name, f"{x.name}({x.args[0]})", x.ts_ns, None))
    ret = f"clone returns {kid}" + (f", pidfd {pidfd}" if pidfd is not None else "")
    steps.append(("parent", "clone returns", ret, sp.ts_ns, kid))
    read = next((c for c in parent_calls if c.name == "read" and c.args and c.args[0] == str(rfd)
                 and c.ts_ns >= sp.ts_ns), None)
    if read is None:
        raise ValueError(f"the parent's read of the status pipe (fd {rfd}) is not in the trace")
    what = "EOF: the exec succeeded" if read.ret == 0 else f"{read.ret} bytes: the child's errno"
    steps.append(("parent", "read", f"read({rfd}) = {read.ret}, {what}", read.ts_ns, read.ret))
    end = next((e for e in t.exits if e.tid == kid), None)
    waits = [c for c in parent_calls if c.ts_ns >= read.ts_ns and (
        (c.name == "waitid" and c.args[:2] == ("P_PIDFD", str(pidfd))) or (c.name == "wait4" and c.args[0] == str(kid)))]
    if done and end is not None:
        steps.append(("child", "exit", f"{Path(execs[-1].filename).name} exits {end.exit_code}", end.ts_ns, None))
    if waits:
        w = waits[0]
        target = f"P_PIDFD, {pidfd}" if w.name == "waitid" else str(kid)
        status = end.exit_code if end is not None else "?"
        steps.append(("parent", w.name, f"{w.name}({target}): status {status}", w.ts_ns, w.ret))
    return tuple(SpawnStep(i, lane, call, text, ts, r) for i, (lane, call, text, ts, r) in enumerate(steps))
