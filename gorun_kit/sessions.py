"""Running a tool that runs a program (strace, gdb, the tracer) so that both
stop together: the one way the kit starts such a pair and cleans up after it.

The tool is started in a new session (``start_new_session=True``) and is
the parent of the program it runs, which may sit in a ptrace stop and may
have started processes of its own. On a timeout, an error or
KeyboardInterrupt everything goes, in this order:

1. ``stop_signal`` (when given) asks the tool to clean up itself -- the
   tracer, on SIGTERM, kills and reaps its tree (or detaches from a process
   it attached to) -- and it gets ``grace`` seconds to do so;
2. every descendant of the tool is SIGKILLed (that ends a process even in
   a ptrace stop); killing the tool first would orphan them, stopped, or
   as zombies on an init that may not reap;
3. the tool gets a moment to reap them and exit; then its whole process
   group is SIGKILLed and the tool reaped.

:func:`run_tool` runs a tool to the end with a timeout; :func:`tool_session`
is the same guard around a block that talks to the tool itself.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
from typing import Iterable, Iterator, Sequence

from . import procfs

__all__ = ["ToolRun", "run_tool", "tool_session", "stop", "descendants", "children_of", "kill_with_tracees"]

_REAP_WAIT = 5.0  # seconds the tool gets to reap its killed tracees and exit


@dataclasses.dataclass(frozen=True)
class ToolRun:
    """How a tool run by :func:`run_tool` ended. ``timed_out``: it was
    stopped after ``timeout`` seconds (``returncode`` is then how it died)."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes | None
    stderr: bytes | None
    timed_out: bool


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s children (every thread's); empty when it is gone."""
    return list(procfs.children(pid))


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), parents before children."""
    out: list[int] = []
    todo = children_of(pid)
    while todo:
        kid = todo.pop(0)
        if kid not in out:
            out.append(kid)
            todo += children_of(kid)
    return out


def kill_with_tracees(proc: subprocess.Popen, tracees: Iterable[int] = ()) -> None:
    """SIGKILL ``tracees`` (default: every descendant of ``proc``), let ``proc``
    reap them, then SIGKILL ``proc``'s process group and reap ``proc``."""
    targets = list(tracees) or descendants(proc.pid)
    for pid in targets:  # parents first: a parent must not see its child die and act on it (run on, print)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if targets:
        try:
            proc.wait(timeout=_REAP_WAIT)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone (or the tool was not a group leader and its pid was reused)
    proc.wait()


def stop(proc: subprocess.Popen, *, stop_signal: int | None = None,
         grace: float = 10.0) -> tuple[bytes | None, bytes | None]:
    """End ``proc`` and everything below it (the order is in the module's
    docstring); returns what was left of its stdout/stderr pipes."""
    if stop_signal is not None and proc.poll() is None:
        try:
            proc.send_signal(stop_signal)
            return proc.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    kill_with_tracees(proc)
    try:
        return proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        # a process that left the session still holds the pipe: do not wait for it
        return None, None


@contextlib.contextmanager
def tool_session(args: Sequence[str | bytes], *, stop_signal: int | None = None, grace: float = 10.0,
                 **popen_kw) -> Iterator[subprocess.Popen]:
    """Start ``args`` in a new session (``popen_kw`` go to subprocess.Popen)
    and yield the Popen. When the block raises -- a timeout, an error,
    KeyboardInterrupt -- or leaves the tool still running, the tool and all
    it started are stopped and reaped (see :func:`stop`)."""
    proc = subprocess.Popen(list(args), start_new_session=True, **popen_kw)
    try:
        yield proc
    except BaseException:
        stop(proc, stop_signal=stop_signal, grace=grace)
        raise
    finally:
        if proc.poll() is None:
            stop(proc, stop_signal=stop_signal, grace=grace)


def run_tool(args: Sequence[str | bytes], *, timeout: float | None = None, stdout=subprocess.PIPE,
             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=None, cwd=None, pass_fds: Sequence[int] = (),
             stop_signal: int | None = None, grace: float = 10.0) -> ToolRun:
    """Run the tool ``args`` to its end, or stop it and its tree after
    ``timeout`` seconds (then ``timed_out`` is True, no exception). Output
    goes where ``stdout``/``stderr`` say (PIPE: kept in the result)."""
    with tool_session(args, stop_signal=stop_signal, grace=grace, stdin=stdin, stdout=stdout, stderr=stderr,
                      env=env, cwd=cwd, pass_fds=tuple(pass_fds)) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            out, err = stop(proc, stop_signal=stop_signal, grace=grace)
            timed_out = True
    return ToolRun(tuple(os.fsdecode(a) for a in args), proc.returncode, out, err, timed_out)
