"""The same records, parsed from ``strace -f`` output: an independent cross-check.

strace is run with ``-f -v -xx -ttt -s <ARG_MAX>`` so that every string is
printed in full as hex escapes (exact bytes, whatever they are), every argv
and envp is printed whole, and each line carries a timestamp. Only the
process-creation syscalls are traced; the ``+++ exited with N +++`` /
``+++ killed by SIG +++`` lines give the exits, and ``+++ superseded by
execve in pid N +++`` the tid change of an exec from a non-leader thread.
"""
from __future__ import annotations

import dataclasses
import os
import re
import signal as _signal
import subprocess
import tempfile
from typing import Iterable, Mapping, Sequence

from ..toolchain import find_tool
from .records import (CLONE_FLAGS, Event, ExecEvent, ExecFailedEvent, ExitEvent, SpawnEvent, Trace)

__all__ = ["strace_run", "parse_strace", "STRACE_ARGS"]

_TRACED = "clone,clone3,fork,vfork,execve,execveat"
STRACE_ARGS = ("-f", "-v", "-xx", "-ttt", "-s", str(os.sysconf("SC_ARG_MAX") if hasattr(os, "sysconf") else 2097152),
               "-e", f"trace={_TRACED}", "-e", "signal=none")

_LINE = re.compile(r"^(?P<tid>\d+)\s+(?P<ts>\d+)\.(?P<us>\d+)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?|0x[0-9a-f]+)(?:\s+(?P<err>E[A-Z0-9]+))?")
_STR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
_EXITED = re.compile(r"^\+\+\+ exited with (\d+) \+\+\+")
_KILLED = re.compile(r"^\+\+\+ killed by (SIG\w+)( \(core dumped\))? \+\+\+")
_SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+")
_PID_CHANGED = re.compile(r"<pid changed to (\d+) \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")


def _flags_value(text: str) -> int:
    value = 0
    for tok in text.split("|"):
        tok = tok.strip()
        if tok in CLONE_FLAGS:
            value |= CLONE_FLAGS[tok]
        elif tok.startswith("SIG"):
            value |= int(getattr(_signal, tok, 0))
        elif tok:
            value |= int(tok, 0)
    return value


def _flag_names(value: int, clone3: bool) -> tuple[str, ...]:
    names = [n for n, bit in CLONE_FLAGS.items() if value & bit and (clone3 or bit > 0xff)]
    if not clone3 and value & 0xff:
        try:
            names.append(_signal.Signals(value & 0xff).name)
        except ValueError:
            names.append(f"SIG{value & 0xff}")
    return tuple(names)


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


def parse_strace(lines: Iterable[str], *, command: Sequence[str] = (), returncode: int | None = None) -> Trace:
    """Records from ``strace -f`` output made with STRACE_ARGS."""
    events: list[Event] = []
    pending: dict[int, str] = {}
    tgid: dict[int, int] = {}
    nthreads: dict[int, int] = {}
    superseded: dict[int, int] = {}
    root = start_ns = None
    for raw in lines:
        m = _LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        tid = int(m["tid"])
        ts = int(m["ts"]) * 1_000_000_000 + int(m["us"].ljust(6, "0")[:6]) * 1000
        rest = m["rest"]
        if root is None:
            root, start_ns = tid, ts
            tgid[tid] = tid
            nthreads[tid] = 1
        pid = tgid.get(tid, tid)
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[: -len("<unfinished ...>")].rstrip()
            continue
        changed = _PID_CHANGED.search(rest)
        if changed:
            # an execve from a non-leader thread: it finishes under the leader's tid
            pending[int(changed[1])] = rest[: changed.start()].rstrip()
            continue
        r = _RESUMED.match(rest)
        if r:
            rest = pending.pop(tid, r[1] + "(") + r[2]
        if rest.startswith("+++"):
            s = _SUPERSEDED.match(rest)
            if s:
                # the exec'ing thread N took this (leader) tid; its pending execve moves here
                former = int(s[1])
                if former in pending:
                    pending[tid] = pending.pop(former)
                superseded[tid] = former
                nthreads[pid] = nthreads.get(pid, 1) - 1
                continue
            e, k = _EXITED.match(rest), _KILLED.match(rest)
            if e or k:
                nthreads[pid] = nthreads.get(pid, 1) - 1
                events.append(ExitEvent(ts_ns=ts, pid=pid, tid=tid, exit_code=int(e[1]) if e else None,
                                        signal=k[1] if k else None, last_thread=nthreads[pid] <= 0,
                                        core_dumped=bool(k and k[2])))
            continue
        c = _CALL.match(rest)
        if not c:
            continue
        name, args, ret = c["name"], c["args"], c["ret"]
        if name in ("clone", "clone3", "fork", "vfork"):
            if ret in ("?",) or int(ret, 0) < 0:
                continue
            child = int(ret, 0)
            parts = _split_top(args)
            if name == "clone":
                fl = next((p[len("flags="):] for p in parts if p.startswith("flags=")), "0")
                flags = _flags_value(fl)
                sig = flags & 0xff
            elif name == "clone3":
                first = parts[0].split(" => ")[0] if parts else "{}"  # strace adds "=> {parent_tid=..}"
                inner = _split_top(first.strip("{}"))
                kv = dict(p.split("=", 1) for p in inner if "=" in p)
                flags = _flags_value(kv.get("flags", "0"))
                es = kv.get("exit_signal", "0")
                sig = int(getattr(_signal, es, 0)) if es.startswith("SIG") else int(es, 0)
            else:
                flags = CLONE_FLAGS["CLONE_VM"] | CLONE_FLAGS["CLONE_VFORK"] if name == "vfork" else 0
                sig = int(_signal.SIGCHLD)
            is_thread = bool(flags & CLONE_FLAGS["CLONE_THREAD"])
            child_pid = pid if is_thread else child
            tgid[child] = child_pid
            nthreads[child_pid] = nthreads.get(child_pid, 0) + 1
            try:
                sig_name = _signal.Signals(sig).name if sig else None
            except ValueError:
                sig_name = f"SIG{sig}"
            events.append(SpawnEvent(ts_ns=ts, parent_pid=pid, parent_tid=tid, child_pid=child_pid, child_tid=child,
                                     syscall=name, flags=flags, flag_names=_flag_names(flags, name == "clone3"),
                                     exit_signal=sig_name, is_thread=is_thread))
        elif name in ("execve", "execveat"):
            parts = _split_top(args)
            if name == "execveat":
                parts = parts[1:]
            if len(parts) < 3:
                continue
            (filename,), c1 = _strings(parts[0]) if parts[0].startswith('"') else ([""], False)
            argv, c2 = _strings(parts[1])
            envp, c3 = _strings(parts[2])
            common = dict(ts_ns=ts, pid=pid, tid=tid, syscall=name, filename=filename, argv=tuple(argv),
                          envp=tuple(envp), source="strace", complete=c1 and c2 and c3)
            if ret == "0":
                events.append(ExecEvent(former_tid=superseded.pop(tid, None), **common))
            elif c["err"]:
                events.append(ExecFailedEvent(errno=c["err"], **common))
    return Trace(command=tuple(command), mode="strace", root_pid=root or 0, returncode=returncode,
                 events=tuple(events), tool="strace", start_ns=start_ns)


def strace_run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | os.PathLike | None = None,
               timeout: float | None = None, capture: bool = True) -> Trace:
    """Run ``cmd`` under ``strace -f`` and return the same records as trace.run.

    Timestamps are strace's wall clock (``-ttt``), not CLOCK_MONOTONIC. On a
    timeout the tree is killed (strace's tracees die with it: we kill the
    whole process group strace leads) and TraceTimeout is raised.
    """
    from .runner import TraceTimeout, _resolve

    if isinstance(cmd, (str, bytes)) or not cmd:
        raise ValueError(f"cmd must be a non-empty list of arguments, not {cmd!r}")
    cmd = [os.fsdecode(c) for c in cmd]  # bytes arguments kept exactly (surrogateescape)
    _resolve(cmd, env, cwd)
    strace = find_tool("strace").path
    with tempfile.TemporaryDirectory(prefix="gorun-kit-strace-") as tmp:
        out = os.path.join(tmp, "strace.txt")
        pipe = subprocess.PIPE if capture else None
        proc = subprocess.Popen([strace, *STRACE_ARGS, "-o", out, "--", *cmd], env=env, cwd=cwd,
                                stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException as exc:
            # strace does not kill its tracees when it dies: kill the session's group.
            try:
                os.killpg(proc.pid, _signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise TraceTimeout(f"{' '.join(cmd)!r} did not finish within {timeout} s under strace; "
                                   "the traced processes were killed", None) from None
            raise
        with open(out, encoding="ascii", errors="replace") as f:
            trace = parse_strace(f, command=cmd, returncode=proc.returncode)
    return dataclasses.replace(trace, stdout=stdout, stderr=stderr)
