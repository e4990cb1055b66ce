"""Helpers shared by tests/test_trace*.py: building the edge-case programs,
marking a traced tree so leftovers can be found, comparing with strace."""
from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARK = "GORUN_KIT_TRACE_MARK"


def c_prog(name: str) -> str:
    from gorun_kit import build

    return build.build_c([REPO / "labs_c" / "tests" / f"{name}.c"], ldflags=("-lpthread",), name=name).path


def go_prog(name: str, cgo: bool = False) -> str:
    from gorun_kit import build

    return build.build_go(REPO / "labs_go" / name, cgo=cgo).path


def marked_env() -> tuple[dict, str]:
    """os.environ plus a unique marker that every process of the tree inherits."""
    mark = uuid.uuid4().hex
    return {**os.environ, MARK: mark}, mark


def default_action(sig):
    """A ``preexec_fn`` giving ``sig`` its default action in the child. A signal the
    parent ignores stays ignored across exec (``nohup`` does that to SIGHUP, a shell
    without job control to SIGINT of a background job), and the kit rightly keeps an
    inherited "ignore"; a test about the signal arriving must not inherit one."""
    if sig == signal.SIGKILL:  # it has no other action, and setting one is an error
        return None
    return lambda: signal.signal(sig, signal.SIG_DFL)


def _marked(mark: str) -> list[int]:
    needle = f"{MARK}={mark}".encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(d))
        except OSError:
            pass
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[19])


def leftovers(mark: str, pids=()) -> list[str]:
    """Processes still carrying ``mark`` in their environment, and zombies
    among ``pids``: what a trace must never leave behind."""
    found = [f"pid {pid} still runs with the marker" for pid in _marked(mark)]
    for pid in pids:
        st = _stat(pid)
        if st and st[0] == "Z":
            found.append(f"pid {pid} is a zombie")
    return found


def snapshot(mark: str) -> dict[int, int]:
    """pid -> start time of every process now carrying ``mark``. Taken while
    they run: once a process is a zombie its environ reads empty, so only a
    snapshot from before can find it."""
    return {pid: st[1] for pid in _marked(mark) if (st := _stat(pid))}


def still_there(procs: dict[int, int]) -> list[str]:
    """The processes of a :func:`snapshot` that still exist, running or as
    zombies (a pid with another start time is a new process: not counted)."""
    found = []
    for pid, start in procs.items():
        st = _stat(pid)
        if st and st[1] == start:
            found.append(f"pid {pid} is still there (state {st[0]})")
    return found


def all_pids(trace) -> set[int]:
    return {trace.root_pid} | {s.child_tid for s in trace.spawns}


def canonical(trace, *, threads: bool = True, drop_env=(MARK,)):
    """What two instruments must agree on, independent of pid numbers: the
    multiset of execs (filename, argv, envp), of failed execs, and of process
    edges (parent's program argv at spawn time, child's first argv, syscall,
    flags); thread spawns as a multiset of (syscall, flags) when ``threads``."""
    def env(e):
        return tuple(v for v in e.envp if v.split("=", 1)[0] not in drop_env)

    execs = Counter((e.filename, e.argv, env(e)) for e in trace.execs)
    fails = Counter((e.filename, e.argv, e.errno) for e in trace.exec_failures)
    argv_at: dict[int, list] = {}
    for e in trace.execs:
        argv_at.setdefault(e.pid, []).append((e.ts_ns, e.argv))

    def program(pid, ts):
        seen = [a for t, a in argv_at.get(pid, []) if t <= ts]
        return seen[-1] if seen else None

    def first(pid):
        got = argv_at.get(pid)
        return got[0][1] if got else None

    edges = Counter((program(s.parent_pid, s.ts_ns), first(s.child_pid), s.syscall, s.flags)
                    for s in trace.spawns if not s.is_thread)
    thr = Counter((s.syscall, s.flags) for s in trace.spawns if s.is_thread) if threads else None
    return execs, fails, edges, thr


@contextlib.contextmanager
def interrupted_after(seconds: float):
    """A KeyboardInterrupt in this thread ``seconds`` from now, as Ctrl-C gives one."""
    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, ctrl_c)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def stdin_holding(text: str):
    """File descriptor 0 reads ``text`` inside the block, as if the caller's terminal had typed
    it (a program that inherits fd 0 could read it)."""
    r, w = os.pipe()
    os.write(w, text.encode())
    os.close(w)
    saved = os.dup(0)
    os.dup2(r, 0)
    os.close(r)
    try:
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)
