"""Running a command under the C tracer (gorun_kit/_src/tracer/tracer.c).

The tracer is built from the course's own source into the build cache
(gorun_kit.build.build_c), started as ``tracer --output FILE --mode MODE --
CMD...``, and its JSON Lines are parsed into a :class:`~.records.Trace`.

Cleanup (gorun_kit.sessions): the tracer kills the whole traced tree when it
gets SIGTERM/SIGINT/SIGHUP, it gets SIGTERM when its parent dies (even by
SIGKILL), and PTRACE_O_EXITKILL kills the tree if the tracer itself dies. On
a timeout, an error or a KeyboardInterrupt we send SIGTERM, wait, then
SIGKILL what is left of the tree and the tracer. The records go to a file
with no name on disk (``--output-fd``), so no temporary file can be left.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from .. import _src, build, procfs, sessions
from .records import Trace, TraceFormatError, from_lines

__all__ = ["run", "attach", "tracer_binary", "tracer_source", "TraceError", "TracerError", "TraceTimeout",
           "TraceInterrupted", "CommandNotFound", "CommandNotExecutable", "ProcessNotFound", "MODES",
           "ATTACH_MODES", "ENV_MODES", "TRACER_EXIT_ERROR"]

MODES = ("events", "seccomp", "syscalls")
ATTACH_MODES = ("events", "syscalls")  # a seccomp filter cannot be put into a running process
ENV_MODES = ("delta", "full", "none")  # how exec records carry envp (the tracer's --env); delta first: the default
TRACER_EXIT_ERROR = 125  # the tracer's own failure (cannot ptrace, bad usage)
_GRACE = 10.0  # seconds the tracer gets to kill and reap the tree after SIGTERM


class TraceError(RuntimeError):
    """Base of the errors of gorun_kit.trace."""


class TracerError(TraceError):
    """The tracer could not do its job (ptrace not permitted, seccomp filter
    refused, bad output). ``stderr`` holds its own messages."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(message)
        self.stderr = stderr


class TraceTimeout(TraceError, TimeoutError):
    """The traced command ran longer than ``timeout``; the tree was killed.
    ``partial`` is what was recorded until then (or None)."""

    def __init__(self, message: str, partial: Trace | None):
        super().__init__(message)
        self.partial = partial


class TraceInterrupted(KeyboardInterrupt):
    """KeyboardInterrupt (or a signal the caller turned into one) while
    tracing; the tree was killed (or, after attach, detached). ``partial``
    is what was recorded until then (or None)."""

    def __init__(self, message: str, partial: Trace | None):
        super().__init__(message)
        self.partial = partial


class CommandNotFound(TraceError, FileNotFoundError):
    """The command to trace does not exist (a shell exits 127)."""


class CommandNotExecutable(CommandNotFound):
    """The command is a directory, a file without execute permission, or a
    script whose interpreter is missing (a shell exits 126)."""


class ProcessNotFound(TraceError, ProcessLookupError):
    """There is no process with the pid given to :func:`attach`."""


def tracer_source() -> Path:
    return _src.source("tracer", "tracer.c")


def tracer_binary() -> str:
    """Path of the built tracer (built once into the cache)."""
    src = tracer_source()
    if not src.is_file():
        raise TracerError(f"the tracer's source {src} is missing: gorun_kit must run from the course checkout")
    return build.build_c([src], cflags=("-O2", "-g", "-Wall", "-Wextra", "-std=gnu11"), name="tracer").path


def _interpreter(path: Path) -> str | None:
    """The interpreter a ``#!`` script names, or None (not a script, unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].split()
    return os.fsdecode(words[0]) if words else None


def _resolve(cmd: Sequence[str], env: Mapping[str, str] | None, cwd: str | os.PathLike | None) -> None:
    """Check that the command can be executed, with the message a user needs when not."""
    prog = cmd[0]
    if not prog:
        raise CommandNotFound("the command is an empty string; give a program name or path")
    if "/" in prog:
        path = Path(cwd or ".") / prog
        if not path.exists():
            raise CommandNotFound(f"command {prog!r} does not exist (looked at {path}); check the path")
    else:
        search = (env if env is not None else os.environ).get("PATH", os.defpath)
        found = shutil.which(prog, path=search)
        if found is None:
            raise CommandNotFound(f"command {prog!r} not found on PATH ({search}); give its full path or fix PATH")
        path = Path(found)
    if path.is_dir():
        raise CommandNotExecutable(f"command {prog!r} is a directory ({path}); give a program")
    if not os.access(path, os.X_OK):
        raise CommandNotExecutable(f"command {prog!r} is not executable ({path}): no execute permission; "
                                   f"chmod +x it or run it through its interpreter")
    interp = _interpreter(path)
    if interp is not None and "/" in interp and not os.path.exists(interp):
        raise CommandNotExecutable(f"command {prog!r} is a script whose interpreter {interp!r} does not exist "
                                   f"(its #! line); install it or fix the #! line")


def run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | os.PathLike | None = None,
        mode: str = "events", timeout: float | None = None, capture: bool = True,
        stdin=subprocess.DEVNULL, confine: bool = False, writable: Sequence[str] = (), env_records: str = "delta",
        verify: bool = False) -> Trace:
    """Run ``cmd`` under the tracer and return its :class:`Trace`.

    ``env``/``cwd`` as for subprocess (PATH in ``env`` is the one searched);
    ``mode`` one of MODES; ``timeout`` in seconds. With ``capture`` the
    command's stdout/stderr are kept in ``Trace.stdout``/``stderr``
    (otherwise they go to ours). ``stdin``: as for subprocess (None: ours;
    default: /dev/null). ``confine``: ``cmd`` runs code the caller does not
    trust; the tracer and ``cmd`` run in the sandbox ``$GORUN_KIT_CONFINE``
    names, if any (``writable``: the directories ``cmd`` writes; see
    :func:`gorun_kit.sessions.confined`). ``env_records``: how the tracer
    writes each envp (ENV_MODES: "delta", a difference from an environment
    it wrote before, "full", "none"); ``ExecEvent.envp`` is the full
    environment in the first two. ``verify``: compare every exec record
    with /proc/<pid>/cmdline and environ at the exec stop; the counts are
    ``Trace.stats["verify"]``. Raises CommandNotFound (CommandNotExecutable),
    TraceTimeout, TraceInterrupted, TracerError; a command that fails is
    not an error (see ``returncode``).
    """
    if isinstance(cmd, (str, bytes)) or not cmd:
        raise ValueError(f"cmd must be a non-empty list of arguments, not {cmd!r}")
    cmd = [os.fsdecode(c) for c in cmd]  # bytes arguments kept exactly (surrogateescape)
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {', '.join(MODES)}")
    _check_env_records(env_records)
    _resolve(cmd, env, cwd)
    tracer = tracer_binary()
    with tempfile.TemporaryFile(prefix="gorun-kit-trace-") as out:  # no name on disk (O_TMPFILE)
        pipe = subprocess.PIPE if capture else None
        try:
            argv = [tracer, "--output-fd", str(out.fileno()), "--mode", mode, "--env", env_records,
                    *(["--verify"] if verify else []), "--", *cmd]
            done = sessions.run_tool(sessions.confined(argv, writable=writable, env=env) if confine else argv,
                                     env=env, cwd=cwd, timeout=timeout, stdin=stdin, stdout=pipe, stderr=pipe,
                                     pass_fds=(out.fileno(),), stop_signal=signal.SIGTERM, grace=_GRACE)
        except KeyboardInterrupt as exc:
            partial = _parse(out, cmd, None, None, None, strict=False)
            raise TraceInterrupted(f"tracing {' '.join(cmd)!r} was interrupted ({str(exc) or 'Ctrl-C'}); "
                                   "the traced processes were killed", partial) from exc
        if done.timed_out:
            partial = _parse(out, cmd, None, done.stdout, done.stderr, strict=False)
            raise TraceTimeout(f"{' '.join(cmd)!r} did not finish within {timeout} s; "
                               f"the traced processes were killed", partial)
        return _parse(out, cmd, done.returncode, done.stdout, done.stderr, strict=True)


def _check_env_records(env_records: str) -> None:
    if env_records not in ENV_MODES:
        raise ValueError(f"env_records={env_records!r}: use one of {', '.join(ENV_MODES)}")


def attach(pid: int, *, mode: str = "events", duration: float | None = None, env_records: str = "delta",
           verify: bool = False) -> Trace:
    """Follow the running process ``pid`` (every thread, and everything it
    creates from now on) until it exits or ``duration`` seconds have passed.

    After ``duration`` (or on KeyboardInterrupt) the tracer detaches and the
    process runs on, untouched; the trace's ``returncode`` is then None.
    Exec records come from /proc at the exec event (``source == "proc"``)
    and failed execs are not seen: see gorun_kit/_src/tracer/README.md. ``mode`` is
    one of ATTACH_MODES; ``env_records`` and ``verify`` as for :func:`run`. Raises ProcessNotFound, and TracerError when ptrace
    is not permitted (another tracer, Yama ptrace_scope, no CAP_SYS_PTRACE).
    """
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise ValueError(f"pid={pid!r}: give the positive process id of a running process")
    if mode not in ATTACH_MODES:
        raise ValueError(f"mode={mode!r}: attaching supports {', '.join(ATTACH_MODES)} "
                         "(a seccomp filter cannot be installed into a process that already runs)")
    _check_env_records(env_records)
    if pid == os.getpid():
        raise ValueError(f"pid={pid} is this Python process; a process cannot trace itself")
    if not procfs.exists(pid):
        raise ProcessNotFound(f"no process with pid {pid} (it may have exited); check the pid with ps")
    st = procfs.stat(pid)
    if st is not None and st.state in ("Z", "X"):
        raise ProcessNotFound(f"process {pid} ({st.comm}) has already exited: it is a zombie that its parent "
                              f"(pid {st.ppid}) has not reaped yet; there is nothing to attach to")
    label = ("--attach", str(pid), *procfs.cmdline(pid))
    tracer = tracer_binary()
    with tempfile.TemporaryFile(prefix="gorun-kit-trace-") as out:  # no name on disk (O_TMPFILE)
        # after ``duration``, SIGTERM: the tracer detaches and the process goes on
        try:
            done = sessions.run_tool([tracer, "--output-fd", str(out.fileno()), "--mode", mode, "--env", env_records,
                                      *(["--verify"] if verify else []), "--attach", str(pid)],
                                     timeout=duration, pass_fds=(out.fileno(),), stop_signal=signal.SIGTERM,
                                     grace=_GRACE)
        except KeyboardInterrupt as exc:
            partial = _parse(out, label, None, None, None, strict=False)
            raise TraceInterrupted(f"following pid {pid} was interrupted ({str(exc) or 'Ctrl-C'}); "
                                   "the tracer detached, the process runs on", partial) from exc
        detached = done.timed_out and done.returncode == 128 + signal.SIGTERM
        trace = _parse(out, label, done.returncode, done.stdout, done.stderr, strict=True)
        return dataclasses.replace(trace, returncode=None) if detached else trace


def _parse(out, cmd, returncode, stdout, stderr, *, strict: bool) -> Trace | None:
    """The Trace in the tracer's output ``out`` (a binary file object, or a
    path). ``strict``: raise TracerError for an incomplete or failed run;
    otherwise return what there is, or None."""
    err_text = (stderr or b"").decode(errors="replace")
    if hasattr(out, "read"):
        out.seek(0)
        data = out.read()
    else:
        try:
            data = Path(out).read_bytes()
        except FileNotFoundError:
            data = b""
    lines = [l.decode("utf-8", errors="surrogateescape") for l in data.splitlines()]
    if strict and returncode is not None and returncode < 0:
        # the tracer itself was killed, not by us (by the traced program, or
        # from outside): it had no chance to write its records
        raise TracerError(f"tracing {' '.join(cmd)!r} failed: the tracer was killed by "
                          f"{_signal_name(-returncode)} before it could write its records "
                          f"(a traced program, or someone else, sent that signal)", err_text)
    if not strict and lines and not lines[-1].endswith("}"):
        lines = lines[:-1]  # a record cut short by the kill
    # only the tracer's own lines count: the traced command shares its stderr
    ours = "\n".join(l for l in err_text.splitlines() if l.startswith("tracer:"))
    try:
        trace = from_lines(lines, command=tuple(cmd), returncode=returncode)
    except TraceFormatError as exc:
        if not strict:
            return None
        raise TracerError(f"tracing {' '.join(cmd)!r} failed: {ours or exc}", err_text) from None
    if strict and returncode == TRACER_EXIT_ERROR and any(l.startswith("tracer: error:") for l in ours.splitlines()):
        raise TracerError(f"tracing {' '.join(cmd)!r} failed: {ours}", err_text)
    return dataclasses.replace(trace, stdout=stdout, stderr=stderr)


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"
