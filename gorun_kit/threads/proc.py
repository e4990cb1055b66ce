"""The OS threads of a running Go program, as /proc shows them, with the role
of each where /proc and the binary together can tell it.

/proc gives, per thread (``/proc/<pid>/task/<tid>``): its name (``comm`` --
the same for every thread of a Go program, the runtime never renames
threads), its state, the kernel function it sleeps in (``wchan``) and the
system call it is blocked in with its arguments (``syscall``). It does not
say which runtime M a thread is. Two things from the binary close part of the
gap: the symbol table turns a futex address into ``runtime.sched`` or
``runtime.m0``, and DWARF gives the field at that offset
(``sched.sysmonnote`` is where sysmon sleeps when every P is idle). For a
futex on the heap, the M it belongs to can be read from the process's memory
(``/proc/<pid>/mem``): if the word at ``address - offsetof(m, park)`` +
``offsetof(m, procid)`` equals the thread's own tid, the thread is that M,
parked on its own ``m.park`` note, and ``m.id`` is its M number. What remains
a guess is said to be one. Chapter 4's runtime hook reports M ids and tids
directly, from inside the runtime.
"""
from __future__ import annotations

import dataclasses
import os
import select
import subprocess
import time
from typing import Sequence

from .. import binary, procfs, sessions
from ..records import Record

__all__ = ["Task", "ThreadRole", "SYSCALL_NAMES", "read_tasks", "thread_roles", "observe_idle"]

# x86_64 numbers of the system calls an idle Go thread can sit in.
SYSCALL_NAMES = {0: "read", 7: "poll", 35: "nanosleep", 202: "futex", 230: "clock_nanosleep",
                 232: "epoll_wait", 281: "epoll_pwait", 441: "epoll_pwait2", 61: "wait4", 247: "waitid"}


@dataclasses.dataclass(frozen=True)
class Task(Record):
    """One thread as /proc/<pid>/task/<tid> shows it."""

    tid: int
    comm: str
    state: str  # R, S, D, ...
    syscall: str  # the blocked-in syscall's name (or number), "running", or "unreadable: why"
    args: tuple[int, ...]  # its six arguments (empty when not blocked in one)
    wchan: str  # kernel function it sleeps in ("0" when running)


@dataclasses.dataclass(frozen=True)
class ThreadRole(Record):
    """A task and what it is doing for the runtime, with the evidence."""

    task: Task
    leader: bool  # tid == pid: the thread the kernel started, which the runtime makes m0
    role: str
    evidence: str
    m_id: int | None  # the runtime M number, when read from memory
    certain: bool  # False when the role is an inference from the syscall alone


def _task_file(pid: int, tid: int, name: str) -> str:
    """The file's text, or "unreadable: why" (a thread shown without it says why)."""
    try:
        return procfs.task_file(pid, tid, name)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def _syscall(raw: str) -> tuple[str, tuple[int, ...]]:
    """(name, arguments) from the text of /proc/<pid>/task/<tid>/syscall."""
    if raw.startswith("unreadable"):
        return raw, ()
    if raw.startswith("running") or raw.startswith("-1"):
        return ("running" if raw.startswith("running") else "not in a syscall"), ()
    words = raw.split()
    nr = int(words[0])
    return SYSCALL_NAMES.get(nr, str(nr)), tuple(int(w, 16) for w in words[1:7])


def read_tasks(pid: int) -> tuple[Task, ...]:
    """Every thread of process ``pid``, by tid. Raises ProcessLookupError when it is gone."""
    tasks = []
    for tid in procfs.tids(pid):
        stat = procfs.stat(pid, tid)
        if stat is None:
            continue  # the thread exited while we looked
        sc, args = _syscall(_task_file(pid, tid, "syscall"))
        tasks.append(Task(tid, stat.comm, stat.state, sc, args, _task_file(pid, tid, "wchan")))
    return tuple(tasks)


def _heap_futex_role(pid: int, t: Task, addr: int, m_layout: dict) -> tuple[str, str, int | None, bool]:
    """(role, evidence, M id, certain) for a futex on the heap: an idle M's
    ``m.park`` when the m it would belong to has this thread's tid as procid."""
    if "park" not in m_layout or "procid" not in m_layout:
        return "unknown", f"{t.syscall}, wchan {t.wchan}", None, False
    base = addr - m_layout["park"]
    procid = procfs.read_word(pid, base + m_layout["procid"])
    mid = procfs.read_word(pid, base + m_layout["id"]) if "id" in m_layout else None
    if procid == t.tid:
        return ("an idle M, parked (stopm) on its m.park",
                f"futex on heap {addr:#x}; the m at {base:#x} has procid {procid} = this tid, id {mid}", mid, True)
    return ("waiting on a futex on the heap",
            f"futex on heap {addr:#x} (not an m.park whose procid is this thread)", None, False)


def _futex_role(pid: int, t: Task, symbols, sched: dict, m_layout: dict) -> tuple[str, str, int | None, bool]:
    """(role, evidence, M id, certain) for a thread blocked in futex: named by
    the symbol (and DWARF field) its address falls in."""
    addr = t.args[0]
    sym = binary.symbol_at(symbols, addr)
    if sym is None:
        return _heap_futex_role(pid, t, addr, m_layout)
    if sym.name == "runtime.sched":
        field = binary.field_at(sched, addr - sym.address)
        evidence = f"futex on {addr:#x} = runtime.sched+{addr - sym.address:#x} (sched.{field or '?'})"
        if field == "sysmonnote":
            return "sysmon, asleep because every P is idle", evidence, None, True
        return f"waiting on sched.{field or '?'}", evidence, None, False
    if sym.name == "runtime.m0":
        field = binary.field_at(m_layout, addr - sym.address)
        return ("m0, parked (stopm) on m0." + (field or "?"), f"futex on {addr:#x} = runtime.m0+{addr - sym.address:#x}",
                0, field == "park")
    return f"waiting on {sym.name}", f"futex on {addr:#x} inside {sym.name}", None, False


def _role(pid: int, t: Task, symbols, sched: dict, m_layout: dict) -> tuple[str, str, int | None, bool]:
    """(role, evidence, M id, certain) of one thread, from its state and syscall."""
    if t.syscall == "running" or t.state == "R":
        return "running Go code", f"state {t.state}", None, True
    if t.syscall in ("epoll_pwait", "epoll_wait", "epoll_pwait2"):
        timeout = t.args[3] if len(t.args) > 3 else None
        return ("waiting in the network poller for the next timer or I/O",
                f"{t.syscall}(epfd={t.args[0]}, timeout={timeout} ms): findRunnable's netpoll(delay)", None, True)
    if t.syscall == "futex" and t.args:
        return _futex_role(pid, t, symbols, sched, m_layout)
    if t.syscall in ("nanosleep", "clock_nanosleep"):
        return ("probably sysmon between checks (runtime.usleep)",
                f"{t.syscall}: only sysmon and a few spin loops sleep this way", None, False)
    return "unknown", f"{t.syscall}, wchan {t.wchan}", None, False


def thread_roles(pid: int, executable: str | os.PathLike) -> tuple[ThreadRole, ...]:
    """Each thread of the Go program ``pid`` (built as ``executable``) with its role.

    ``executable`` must keep its symbol table and DWARF (a plain ``go build``);
    without them only the syscall-based guesses remain.
    """
    symbols = binary.read_symbols(executable)
    layouts = binary.struct_layouts(executable, ["runtime.schedt", "runtime.m"])
    sched, m_layout = layouts["runtime.schedt"], layouts["runtime.m"]
    roles = []
    for t in read_tasks(pid):
        leader = t.tid == pid
        role, evidence, m_id, certain = _role(pid, t, symbols, sched, m_layout)
        if leader and "m0" not in role:
            # The runtime makes the thread the kernel started into m0 (runtime.m0, id 0).
            role, m_id = "main thread (m0); " + role, 0
        roles.append(ThreadRole(t, leader, role, evidence, m_id, certain))
    return tuple(roles)


def observe_idle(executable: str | os.PathLike, *, settle: float = 0.5, timeout: float = 20,
                 args: Sequence[str] = ()) -> tuple[ThreadRole, ...]:
    """Start ``executable`` (a program that prints one line when ready, then idles),
    wait ``settle`` seconds, read its threads' roles, then kill and reap it."""
    # the session kills and reaps the program (and anything it started) when the block ends
    with sessions.tool_session([os.fspath(executable), *args], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + timeout
        # The program says it is ready with one line; wait for it, but not forever.
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"{executable} did not print its ready line within {timeout} s")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{executable} exited before saying it was ready (status {proc.wait()})")
        # Wait until the thread count stops changing (the runtime starts its Ms early).
        last, stable_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = len(procfs.tids(proc.pid))
            if n != last:
                last, stable_since = n, time.monotonic()
            elif time.monotonic() - stable_since >= settle:
                break
            time.sleep(0.05)
        return thread_roles(proc.pid, executable)
