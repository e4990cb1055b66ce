"""The same records, parsed from ``strace -f`` output: an independent cross-check.

strace is run with ``-f -v -xx -ttt -s <ARG_MAX>`` so that every string is
printed in full as hex escapes (exact bytes, whatever they are), every argv
and envp is printed whole, and each line carries a timestamp. The
process-creation syscalls are traced, plus those the caller names
(``syscalls=``, kept as SyscallEvent records); the ``+++ exited with N +++`` /
``+++ killed by SIG +++`` lines give the exits, and ``+++ superseded by
execve in pid N +++`` the tid change of an exec from a non-leader thread.

strace can lose a race with the kernel on a loaded machine and say so on
stderr (``strace: ptrace(PTRACE_LISTEN, ...): Input/output error``); its
records are then incomplete although the traced program may have run
correctly. Such a run is an instrument failure, not a result: it is run once
more, and ``Trace.retried`` carries strace's line; a second failure raises
TracerError. Only a captured stderr can be told apart this way.

A known limit of reading text: strace prints lines as calls return, so a new
thread's first line can come before its parent's ``clone`` result line; such a
thread is taken for a process of its own. The tracer's records do not have
this problem: the tracer holds a new task at its first stop until the parent's
spawn event has named it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal as _signal
import subprocess
import tempfile
from typing import Collection, Iterable, Mapping, Sequence

from .. import sessions
from ..toolchain import find_tool
from .flags import CLONE_FLAGS, flag_names, flags_value, signal_name
from .records import (Event, ExecEvent, ExecFailedEvent, ExitEvent, SpawnEvent, SyscallEvent, Trace)

__all__ = ["strace_run", "parse_strace", "strace_args", "struct_fields", "instrument_failure", "STRACE_ARGS"]

_TRACED = "clone,clone3,fork,vfork,execve,execveat"
_FORMAT = ("-f", "-v", "-xx", "-ttt", "-s", str(os.sysconf("SC_ARG_MAX") if hasattr(os, "sysconf") else 2097152))
STRACE_ARGS = (*_FORMAT, "-e", f"trace={_TRACED}", "-e", "signal=none")

_LINE = re.compile(r"^(?P<tid>\d+)\s+(?P<ts>\d+)\.(?P<us>\d+)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>0x[0-9a-f]+|-?\d+|\?)(?:\s+(?P<err>E[A-Z0-9_]+))?")
_STR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
_EXITED = re.compile(r"^\+\+\+ exited with (\d+) \+\+\+")
_KILLED = re.compile(r"^\+\+\+ killed by (SIG\w+)( \(core dumped\))? \+\+\+")
_SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+")
_PID_CHANGED = re.compile(r"<pid changed to (\d+) \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
# strace's own failed system call: "strace: ptrace(PTRACE_LISTEN,pid:12,...): Input/output error",
# "strace: wait4(__WALL): No child processes". Its notes ("strace: Process 12 attached",
# "strace: [ Process PID=12 runs in 32 bit mode. ]") have no "call(...): error" shape.
_OWN_ERROR = re.compile(rb"^strace: (\w+\(.*\): [A-Za-z][^\n]*)$", re.M)


def _strings(text: str) -> tuple[list[str], bool]:
    """The strings of a printed array (or of one string), and whether all were whole."""
    out, complete = [], True
    for m in _STR.finditer(text):
        out.append(os.fsdecode(bytes.fromhex(m.group(1).replace("\\x", ""))))
        if m.group(2):
            complete = False
    return out, complete


def _split_top(args: str) -> list[str]:
    """Split an argument list at top-level commas (not inside [], {}, "")."""
    parts, depth, cur, in_str, i = [], 0, [], False, 0
    while i < len(args):
        c = args[i]
        if in_str:
            if c == "\\":
                cur.append(args[i:i + 2])
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    if cur:
        parts.append("".join(cur).strip())
    return parts


_CREATION = frozenset(("clone", "clone3", "fork", "vfork", "execve", "execveat"))


def _decode(hexstr: str) -> str:
    """A string strace printed with -xx (``\\x2f\\x62...``) as str (surrogateescape)."""
    return os.fsdecode(bytes.fromhex(hexstr.replace("\\x", "")))


def _arg_text(arg: str) -> str:
    """One argument as strace decoded it: a string argument becomes the string;
    strings inside an array or struct are JSON-quoted in place."""
    whole = _STR.fullmatch(arg)
    if whole:
        return _decode(whole[1])
    return _STR.sub(lambda m: json.dumps(_decode(m[1]), ensure_ascii=False) + (m[2] or ""), arg)


class _Parser:
    """The state of one pass over ``strace -f`` output (see parse_strace)."""

    def __init__(self, keep: frozenset[str]):
        self.keep = keep
        self.events: list[Event] = []
        self.calls: list[SyscallEvent] = []
        self.pending: dict[int, str] = {}  # tid -> the first half of an unfinished call
        self.tgid: dict[int, int] = {}
        self.nthreads: dict[int, int] = {}
        self.superseded: dict[int, int] = {}  # leader tid -> the tid whose execve took it over
        self.root: int | None = None
        self.start_ns: int | None = None

    def line(self, raw: str) -> None:
        m = _LINE.match(raw.rstrip("\n"))
        if not m:
            return
        tid = int(m["tid"])
        ts = int(m["ts"]) * 1_000_000_000 + int(m["us"].ljust(6, "0")[:6]) * 1000
        if self.root is None:
            self.root, self.start_ns = tid, ts
            self.tgid[tid] = tid
            self.nthreads[tid] = 1
        rest = self._joined(tid, m["rest"])
        if rest is None:
            return
        if rest.startswith("+++"):
            self._status(tid, ts, rest)
            return
        c = _CALL.match(rest)
        if c:
            self._call(tid, ts, c)

    def _joined(self, tid: int, rest: str) -> str | None:
        """The whole call text once it is complete (None while it is unfinished)."""
        if rest.endswith("<unfinished ...>"):
            self.pending[tid] = rest[: -len("<unfinished ...>")].rstrip()
            return None
        changed = _PID_CHANGED.search(rest)
        if changed:
            # an execve from a non-leader thread: it finishes under the leader's tid
            self.pending[int(changed[1])] = rest[: changed.start()].rstrip()
            return None
        r = _RESUMED.match(rest)
        if r:
            return self.pending.pop(tid, r[1] + "(") + r[2]
        return rest

    def _status(self, tid: int, ts: int, rest: str) -> None:
        """A ``+++ ... +++`` line: a thread exited, was killed or was superseded by an exec."""
        pid = self.tgid.get(tid, tid)
        s = _SUPERSEDED.match(rest)
        if s:
            # the exec'ing thread N took this (leader) tid; its pending execve moves here
            former = int(s[1])
            if former in self.pending:
                self.pending[tid] = self.pending.pop(former)
            self.superseded[tid] = former
            # a leader whose creation the text does not show had the exec'ing thread besides itself
            self.nthreads[pid] = self.nthreads.get(pid, 2) - 1
            return
        e, k = _EXITED.match(rest), _KILLED.match(rest)
        if e or k:
            self.nthreads[pid] = self.nthreads.get(pid, 1) - 1
            self.events.append(ExitEvent(ts_ns=ts, pid=pid, tid=tid, exit_code=int(e[1]) if e else None,
                                         signal=k[1] if k else None, last_thread=self.nthreads[pid] <= 0,
                                         core_dumped=bool(k and k[2])))

    def _call(self, tid: int, ts: int, c: re.Match) -> None:
        name, ret_text = c["name"], c["ret"]
        parts = _split_top(c["args"])
        ret = None if ret_text == "?" else int(ret_text, 0)
        if name not in _CREATION or name in self.keep:
            self.calls.append(SyscallEvent(tid=tid, ts_ns=ts, name=name, args=tuple(_arg_text(p) for p in parts),
                                           ret=ret, errno=c["err"]))
        # 0 is the child's side of the call, never a new task's id
        if name in ("clone", "clone3", "fork", "vfork") and ret is not None and ret > 0:
            self.events.append(self._spawn(tid, ts, name, parts, ret))
        elif name in ("execve", "execveat"):
            self._exec(tid, ts, name, parts, ret, c["err"])

    def _spawn(self, tid: int, ts: int, name: str, parts: list[str], child: int) -> SpawnEvent:
        pid = self.tgid.get(tid, tid)
        flags, sig = _spawn_flags(name, parts)
        is_thread = bool(flags & CLONE_FLAGS["CLONE_THREAD"])
        child_pid = pid if is_thread else child
        self.tgid[child] = child_pid
        self.nthreads[child_pid] = self.nthreads.get(child_pid, 0) + 1
        return SpawnEvent(ts_ns=ts, parent_pid=pid, parent_tid=tid, child_pid=child_pid, child_tid=child,
                          syscall=name, flags=flags,
                          flag_names=flag_names(flags, clone3=name == "clone3", exit_signal=True),
                          exit_signal=signal_name(sig) if sig else None, is_thread=is_thread)

    def _exec(self, tid: int, ts: int, name: str, parts: list[str], ret: int | None, err: str | None) -> None:
        if name == "execveat":
            parts = parts[1:]
        if len(parts) < 3:
            return
        (filename,), c1 = _strings(parts[0]) if parts[0].startswith('"') else ([""], False)
        argv, c2 = _strings(parts[1])
        envp, c3 = _strings(parts[2])
        common = dict(ts_ns=ts, pid=self.tgid.get(tid, tid), tid=tid, syscall=name, filename=filename,
                      argv=tuple(argv), envp=tuple(envp), source="strace", complete=c1 and c2 and c3)
        if ret == 0:
            self.events.append(ExecEvent(former_tid=self.superseded.pop(tid, None), **common))
        elif err:
            self.events.append(ExecFailedEvent(errno=err, **common))


def struct_fields(arg: str) -> dict[str, str]:
    """The ``name=value`` fields of a struct argument as strace prints it, e.g. a
    clone3 SyscallEvent's ``args[0]`` gives ``{"flags": "CLONE_VM|...", "stack_size":
    "0x7fff80", ...}``. What the kernel wrote back (``=> {parent_tid=[12]}``) is
    left out; a nested struct or array stays one string."""
    first = arg.split(" => ")[0].strip()
    if not (first.startswith("{") and first.endswith("}")):
        raise ValueError(f"{arg[:80]!r} is not a struct as strace prints it ({{name=value, ...}})")
    return dict(p.split("=", 1) for p in _split_top(first[1:-1]) if "=" in p)


def _spawn_flags(name: str, parts: list[str]) -> tuple[int, int]:
    """(clone flags, exit signal number) of a clone/clone3/fork/vfork call."""
    if name == "clone":
        fl = next((p[len("flags="):] for p in parts if p.startswith("flags=")), "0")
        flags = flags_value(fl)
        return flags, flags & 0xff
    if name == "clone3":
        try:
            kv = struct_fields(parts[0]) if parts else {}
        except ValueError:  # strace could not read the struct: it printed its address
            kv = {}
        es = kv.get("exit_signal", "0")
        return flags_value(kv.get("flags", "0")), int(getattr(_signal, es, 0)) if es.startswith("SIG") else int(es, 0)
    flags = CLONE_FLAGS["CLONE_VM"] | CLONE_FLAGS["CLONE_VFORK"] if name == "vfork" else 0
    return flags, int(_signal.SIGCHLD)


def parse_strace(lines: Iterable[str], *, command: Sequence[str] = (), returncode: int | None = None,
                 syscalls: Collection[str] = ()) -> Trace:
    """Records from ``strace -f`` output made with STRACE_ARGS (or strace_args()).

    Process-creation calls (clone, clone3, fork, vfork, execve, execveat)
    become SpawnEvent/ExecEvent/ExecFailedEvent records, the ``+++`` lines
    ExitEvents; every other call becomes a SyscallEvent in ``Trace.calls``
    (see ``Trace.syscalls``). A creation call named in ``syscalls`` is kept
    as a SyscallEvent too. A call split into ``<unfinished ...>`` and
    ``<... resumed>`` lines is joined and recorded once, when it returns.
    """
    p = _Parser(frozenset(syscalls))
    for raw in lines:
        p.line(raw)
    return Trace(command=tuple(command), mode="strace", root_pid=p.root or 0, returncode=returncode,
                 events=tuple(p.events), tool="strace", start_ns=p.start_ns, calls=tuple(p.calls))


def strace_args(syscalls: Sequence[str] = ()) -> tuple[str, ...]:
    """STRACE_ARGS with ``syscalls`` traced too (names, or strace's classes such as %process)."""
    for name in syscalls:
        if not isinstance(name, str) or not name or "," in name or name.startswith("!"):
            raise ValueError(f"syscalls: {name!r} is not one syscall name or strace class (e.g. 'openat', '%file')")
    traced = ",".join(dict.fromkeys([*_TRACED.split(","), *syscalls]))
    return (*_FORMAT, "-e", f"trace={traced}", "-e", "signal=none")


def instrument_failure(stderr: bytes | str | None, returncode: int | None = None) -> str | None:
    """strace's first own error line in ``stderr`` (a system call of strace's
    that failed, such as a ptrace request that lost a race), with strace's
    exit status when given; None when strace reported no error of its own."""
    raw = stderr.encode(errors="surrogateescape") if isinstance(stderr, str) else (stderr or b"")
    m = _OWN_ERROR.search(raw)
    if m is None:
        return None
    line = "strace: " + m.group(1).decode(errors="replace").strip()
    return line if returncode is None else f"{line} (strace exit status {returncode})"


def strace_run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | os.PathLike | None = None,
               timeout: float | None = None, capture: bool = True, syscalls: Sequence[str] = (),
               pass_fds: Sequence[int] = (), stdin=subprocess.DEVNULL, confine: bool = False,
               writable: Sequence[str] = ()) -> Trace:
    """Run ``cmd`` under ``strace -f`` and return the same records as trace.run.

    ``syscalls``: more syscalls to trace besides the process-creation ones
    (names such as "openat", or strace classes such as "%file"); their calls
    are ``Trace.syscalls(name)`` (SyscallEvent records). ``pass_fds``: file
    descriptors of ours the traced program inherits (as for subprocess);
    ``confine``/``writable`` as for trace.run;
    ``stdin`` as for subprocess (None: ours; default: /dev/null).
    Timestamps are strace's wall clock (``-ttt``), not CLOCK_MONOTONIC. On a
    timeout (TraceTimeout), an error or KeyboardInterrupt strace and every
    process it traces are killed and reaped. With ``capture``, a run where
    strace reports an error of its own (:func:`instrument_failure`) is run
    once more and the result says so in ``Trace.retried`` (the command runs
    twice then). Raises CommandNotFound, and TracerError when strace itself
    refuses (an unknown syscall name, ptrace not permitted) or fails twice.
    """
    from .runner import TracerError, _resolve

    if isinstance(cmd, (str, bytes)) or not cmd:
        raise ValueError(f"cmd must be a non-empty list of arguments, not {cmd!r}")
    if isinstance(syscalls, str):
        raise ValueError(f"syscalls={syscalls!r}: give a list of names, e.g. [{syscalls!r}]")
    args = strace_args(syscalls)
    cmd = [os.fsdecode(c) for c in cmd]  # bytes arguments kept exactly (surrogateescape)
    _resolve(cmd, env, cwd)
    strace = find_tool("strace").path
    trace = _strace_once(strace, args, cmd, env=env, cwd=cwd, timeout=timeout, capture=capture,
                         syscalls=syscalls, pass_fds=pass_fds, stdin=stdin, confine=confine, writable=writable)
    failure = instrument_failure(trace.stderr, trace.returncode) if capture else None
    if failure is None:
        return trace
    if stdin is not subprocess.DEVNULL:  # the first run read what the caller gave: a second one would not see it
        raise TracerError(f"strace failed running {' '.join(cmd)!r}, so its records cannot be trusted, and it "
                          f"cannot be run again with the same stdin: {failure}", failure)
    trace = _strace_once(strace, args, cmd, env=env, cwd=cwd, timeout=timeout, capture=capture,
                         syscalls=syscalls, pass_fds=pass_fds, stdin=stdin, confine=confine, writable=writable)
    again = instrument_failure(trace.stderr, trace.returncode)
    if again is not None:
        raise TracerError(f"strace failed twice running {' '.join(cmd)!r}, so its records cannot be trusted: "
                          f"{failure}; then {again}", again)
    return dataclasses.replace(trace, retried=failure)


def _strace_once(strace: str, args: Sequence[str], cmd: list[str], *, env, cwd, timeout, capture, syscalls,
                 pass_fds, stdin, confine=False, writable=()) -> Trace:
    """One run of ``cmd`` under strace (see strace_run), nothing retried."""
    from .runner import TraceInterrupted, TracerError, TraceTimeout

    # strace writes into a file with no name on disk, opened through our own
    # /proc entry: nothing to remove afterwards, and no descriptor of it is
    # inherited by the traced programs
    with tempfile.TemporaryFile(prefix="gorun-kit-strace-") as out:
        log = f"/proc/{os.getpid()}/fd/{out.fileno()}"
        pipe = subprocess.PIPE if capture else None
        argv = [strace, *args, "-o", log, "--", *cmd]
        if confine and os.environ.get(sessions.CONFINE_ENV):
            # a sandbox of another uid cannot open our /proc entry: strace gets the file itself
            log = f"/proc/self/fd/{out.fileno()}"
            argv = sessions.confined([strace, *args, "-o", log, "--", *cmd], writable=writable, env=env)
            pass_fds = (*pass_fds, out.fileno())
        try:
            done = sessions.run_tool(argv, env=env, cwd=cwd, timeout=timeout,
                                     stdin=stdin, stdout=pipe, stderr=pipe, pass_fds=pass_fds)
        except KeyboardInterrupt as exc:
            raise TraceInterrupted(f"tracing {' '.join(cmd)!r} with strace was interrupted "
                                   f"({str(exc) or 'Ctrl-C'}); the traced processes were killed",
                                   _partial(out, cmd, syscalls)) from exc
        if done.timed_out:
            raise TraceTimeout(f"{' '.join(cmd)!r} did not finish within {timeout} s under strace; "
                               "the traced processes were killed", _partial(out, cmd, syscalls))
        trace = parse_strace(_lines(out), command=cmd, returncode=done.returncode, syscalls=syscalls)
    if trace.start_ns is None and done.returncode != 0:
        said = (done.stderr or b"").decode(errors="replace").strip()
        raise TracerError(f"strace could not run {' '.join(cmd)!r} (exit status {done.returncode})"
                          + (f": {said}" if said else "; see its message above"), said)
    return dataclasses.replace(trace, stdout=done.stdout, stderr=done.stderr)


def _lines(out) -> list[str]:
    """What strace wrote into the file object ``out`` (empty if it refused its arguments)."""
    out.seek(0)
    return out.read().decode("ascii", errors="replace").splitlines(keepends=True)


def _partial(out, cmd, syscalls) -> Trace | None:
    """The records of a run that was stopped part way (its last line may be cut)."""
    lines = _lines(out)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    try:
        trace = parse_strace(lines, command=cmd, returncode=None, syscalls=syscalls)
    except ValueError:
        return None
    return trace if trace.start_ns is not None else None
