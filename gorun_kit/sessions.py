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

With ``die_with_parent`` (Linux) the tool's whole process group also goes
when this Python process dies without a chance to clean up (SIGKILL): the
tool runs under a small ``sh`` guard that the kernel sends SIGTERM when we
die (``PR_SET_PDEATHSIG``) and that then SIGKILLs its process group. The
guard, not the tool, carries the death signal, because the tool's own
children (``go build``'s compile and link) do not inherit it. (The kernel
sends it when the *thread* that started the tool ends: start such a tool
from a thread that waits for it, as run_tool does.)

:func:`run_tool` runs a tool to the end with a timeout; :func:`tool_session`
is the same guard around a block that talks to the tool itself.
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import signal
import subprocess
import sys
from typing import Iterable, Iterator, Sequence

from . import procfs

__all__ = ["ToolRun", "run_tool", "tool_session", "stop", "descendants", "children_of", "kill_with_tracees",
           "confined", "CONFINE_ENV"]

# A sandbox for programs the caller does not trust (gorun_kit.course.grade sets it
# for the checks): a JSON list, the argv prefix of that sandbox up to its options.
CONFINE_ENV = "GORUN_KIT_CONFINE"

_REAP_WAIT = 5.0  # seconds the tool gets to reap its killed tracees and exit
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# The guard: the tool runs as a background job in the guard's process group;
# on SIGTERM (our death) or SIGHUP the guard SIGKILLs that whole group, itself
# included; otherwise it exits with the tool's status (128+N when the tool
# died of signal N).
_GUARD = 'trap "kill -KILL 0" TERM HUP; "$@" & wait $!'


@dataclasses.dataclass(frozen=True)
class ToolRun:
    """How a tool run by :func:`run_tool` ended. ``timed_out``: it was
    stopped after ``timeout`` seconds (``returncode`` is then how it died)."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes | None
    stderr: bytes | None
    timed_out: bool


def confined(args: Sequence[str | bytes], *, writable: Sequence[str | os.PathLike] = (),
             env: dict | None = None) -> list:
    """``args`` as they must run here: unchanged, or, when ``$GORUN_KIT_CONFINE``
    names a sandbox, inside it, with the directories ``writable`` bound
    read-write (everything else is read-only there). For a command that runs
    code built from someone else's sources: a student's tracer, a Go program
    with a student's runtime code. ``env``: the environment ``args`` will get
    (default ours), kept exactly: bubblewrap would set PWD."""
    raw = os.environ.get(CONFINE_ENV)
    if not raw:
        return list(args)
    try:
        prefix = json.loads(raw)
    except ValueError:
        prefix = None
    if not (isinstance(prefix, list) and prefix and all(isinstance(a, str) for a in prefix)):
        raise ValueError(f"{CONFINE_ENV}={raw[:80]!r} is not a JSON list of arguments; unset it")
    binds = []
    for d in writable:
        os.chmod(d, 0o1777)  # the sandbox may run as a uid of its own; the directory is the caller's scratch
        binds += ["--bind", os.fspath(d), os.fspath(d)]
    base = os.environ if env is None else env
    # bubblewrap sets PWD after its own --setenv/--unsetenv; env(1) puts it back as it was
    pwd = [f"PWD={base['PWD']}"] if "PWD" in base else ["-u", "PWD", "--"]
    return [*prefix, *binds, "--", "/usr/bin/env", *pwd, *args]


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
    # A reaped proc's pid may already be another process's: walk its children only while it is ours.
    targets = list(tracees) or (descendants(proc.pid) if proc.returncode is None else [])
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


def _die_with(parent: int):
    """A preexec_fn: the child gets SIGTERM when ``parent`` dies; when it
    already died (between fork and here), the child ends before exec."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: nothing to load in the child

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(127)
    return preexec


def _guarded(args: Sequence[str | bytes], popen_kw: dict) -> list:
    """``args`` under the death guard (module docstring); sets its preexec_fn in ``popen_kw``."""
    if not sys.platform.startswith("linux"):
        return list(args)  # no PR_SET_PDEATHSIG: the tool is stopped on errors, not on our SIGKILL
    popen_kw["preexec_fn"] = _die_with(os.getpid())
    return ["/bin/sh", "-c", _GUARD, "sh", *args]


@contextlib.contextmanager
def tool_session(args: Sequence[str | bytes], *, stop_signal: int | None = None, grace: float = 10.0,
                 die_with_parent: bool = False, **popen_kw) -> Iterator[subprocess.Popen]:
    """Start ``args`` in a new session (``popen_kw`` go to subprocess.Popen)
    and yield the Popen. When the block raises -- a timeout, an error,
    KeyboardInterrupt -- or leaves the tool still running, the tool and all
    it started are stopped and reaped (see :func:`stop`). ``die_with_parent``:
    see the module docstring (the Popen is then the guard's)."""
    argv = _guarded(args, popen_kw) if die_with_parent else list(args)
    proc = subprocess.Popen(argv, start_new_session=True, **popen_kw)
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
             stop_signal: int | None = None, grace: float = 10.0, die_with_parent: bool = False) -> ToolRun:
    """Run the tool ``args`` to its end, or stop it and its tree after
    ``timeout`` seconds (then ``timed_out`` is True, no exception). Output
    goes where ``stdout``/``stderr`` say (PIPE: kept in the result).
    ``die_with_parent``: see the module docstring."""
    with tool_session(args, stop_signal=stop_signal, grace=grace, die_with_parent=die_with_parent, stdin=stdin,
                      stdout=stdout, stderr=stderr, env=env, cwd=cwd, pass_fds=tuple(pass_fds)) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            out, err = stop(proc, stop_signal=stop_signal, grace=grace)
            timed_out = True
    return ToolRun(tuple(os.fsdecode(a) for a in args), proc.returncode, out, err, timed_out)
