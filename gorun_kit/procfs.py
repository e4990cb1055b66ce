"""Reading /proc: the one place in the kit that looks at other processes.

Every function takes a pid (and a tid where a thread is meant) and reads the
files of ``/proc/<pid>`` once. A process can exit between two reads, so a
missing or unreadable file is not an error here: each function says what it
returns then (an empty tuple, None, False), and the caller decides whether a
process that is gone matters. Only :func:`tids` raises, because "this process
has no threads" would be a wrong answer.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .records import Record

__all__ = ["Stat", "exists", "children", "tids", "cmdline", "exe", "stat", "status", "task_file",
           "read_word", "descendant_running"]

_ROOT = Path("/proc")


@dataclasses.dataclass(frozen=True)
class Stat(Record):
    """The first fields of ``/proc/<pid>[/task/<tid>]/stat``."""

    pid: int  # the tid when read for a task
    comm: str  # the name, without the parentheses (it may contain spaces)
    state: str  # R, S, D, Z, T, t, ...
    ppid: int


def exists(pid: int) -> bool:
    """Whether a process (or zombie) with this pid exists."""
    return pid > 0 and (_ROOT / str(pid)).exists()


def children(pid: int) -> tuple[int, ...]:
    """The pids of ``pid``'s children, over every thread (each thread has its own
    ``children`` file: a child belongs to the thread that forked it); empty when
    ``pid`` is gone."""
    kids: list[int] = []
    try:
        threads = os.listdir(_ROOT / str(pid) / "task")
    except OSError:
        return ()
    for tid in threads:
        try:
            kids += [int(x) for x in (_ROOT / str(pid) / "task" / tid / "children").read_text().split()]
        except OSError:
            pass  # that thread exited meanwhile
    return tuple(kids)


def tids(pid: int) -> tuple[int, ...]:
    """The thread ids of process ``pid``, sorted. Raises ProcessLookupError
    when the process is gone (a process always has at least one thread)."""
    try:
        return tuple(sorted(int(t) for t in os.listdir(_ROOT / str(pid) / "task")))
    except OSError:
        raise ProcessLookupError(f"no process {pid} (no /proc/{pid}/task); is it still running?") from None


def cmdline(pid: int) -> tuple[str, ...]:
    """The argument vector of ``pid`` (bytes that are not UTF-8 kept by
    surrogateescape); empty when the process is gone or is a zombie."""
    try:
        raw = (_ROOT / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ()
    return tuple(os.fsdecode(a) for a in raw.split(b"\0")[:-1])


def exe(pid: int) -> str | None:
    """The path of the executable ``pid`` runs, or None when it cannot be read
    (gone, a kernel thread, or another user's process)."""
    try:
        return os.readlink(_ROOT / str(pid) / "exe")
    except OSError:
        return None


def _stat_path(pid: int, tid: int | None) -> Path:
    base = _ROOT / str(pid)
    return (base if tid is None else base / "task" / str(tid)) / "stat"


def stat(pid: int, tid: int | None = None) -> Stat | None:
    """The process's (or, with ``tid``, one thread's) stat line; None when gone."""
    try:
        text = _stat_path(pid, tid).read_text()
    except OSError:
        return None
    # comm is in parentheses and may itself contain ")" or spaces: the fields
    # after it start after the last ")".
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    return Stat(pid=int(head.split(" (", 1)[0]), comm=head.split("(", 1)[1], state=fields[0], ppid=int(fields[1]))


def status(pid: int) -> dict[str, str]:
    """``/proc/<pid>/status`` as {field: value} (values stripped); empty when gone."""
    try:
        text = (_ROOT / str(pid) / "status").read_text()
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if _}


def kernel_symbols() -> frozenset[str]:
    """The names in ``/proc/kallsyms``: the running kernel's functions and data.

    Names are readable by everyone (only the addresses are hidden without
    CAP_SYSLOG), so this answers "does this kernel have a function called X".
    Empty when the file cannot be read (not Linux, or a locked-down kernel).
    """
    try:
        text = (_ROOT / "kallsyms").read_text()
    except OSError:
        return frozenset()
    return frozenset(parts[2] for parts in map(str.split, text.splitlines()) if len(parts) >= 3)


def task_file(pid: int, tid: int, name: str) -> str:
    """The text of ``/proc/<pid>/task/<tid>/<name>`` (``syscall``, ``wchan``, ...),
    stripped. Raises OSError when it cannot be read (the thread exited, or the
    file needs rights we lack): a caller showing threads says which."""
    return (_ROOT / str(pid) / "task" / str(tid) / name).read_text().strip()


def read_word(pid: int, address: int) -> int | None:
    """The little-endian 64-bit word at ``address`` in ``pid``'s memory
    (``/proc/<pid>/mem``, which needs ptrace rights over it: our own child);
    None when it cannot be read."""
    try:
        with open(_ROOT / str(pid) / "mem", "rb") as mem:
            mem.seek(address)
            data = mem.read(8)
    except (OSError, ValueError, OverflowError):
        return None
    return int.from_bytes(data, "little") if len(data) == 8 else None


def descendant_running(root: int, executable: str | os.PathLike) -> int | None:
    """The pid of a process below ``root`` (children, grandchildren, ...) that
    runs ``executable``, found by one walk of the tree; None if there is none yet."""
    target = os.path.realpath(executable)
    frontier, seen = [root], set()
    while frontier:
        pid = frontier.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for kid in children(pid):
            if exe(kid) == target:
                return kid
            frontier.append(kid)
    return None
