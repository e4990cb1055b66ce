"""Every clone and every exec of a program tree, from the course's ptrace tracer.

Public API
==========

Running::

    run(cmd, *, env=None, cwd=None, mode="events", timeout=None, capture=True, stdin=DEVNULL,
        env_records="delta", verify=False) -> Trace
        Trace ``cmd`` (a list of arguments) with the C tracer (gorun_kit/_src/tracer). ``mode``:
        "events" (default: seccomp stops only at execve/execveat, clone flags
        from the PTRACE_EVENT_CLONE/FORK/VFORK stops), "seccomp" (seccomp stops
        at clone/clone3/fork/vfork too) or "syscalls" (PTRACE_SYSCALL, every
        syscall stops). ``stdin`` as for subprocess (None: ours). Raises
        CommandNotFound (CommandNotExecutable: a directory, no execute
        permission, a missing #! interpreter), TraceTimeout (``.partial``),
        TraceInterrupted (a KeyboardInterrupt, ``.partial``), TracerError
        (ptrace not permitted, the tracer killed, ...). Nothing is left
        running, and no file: the records go to a file with no name.
        ``env_records`` (ENV_MODES): the tracer writes each envp as a
        difference ("delta", the default), in full, or not at all ("none":
        ``envp`` is ()); ``ExecEvent.envp`` is always the full environment.
        ``verify``: every exec record is compared with /proc/<pid>/cmdline
        and environ at the exec stop, and the envp this module rebuilds with
        the tracer's CRC-32 of environ: ``stats["verify"]`` = {"execs",
        "mismatches", "first", "rebuilt_checked"}.
    attach(pid, *, mode="events", duration=None, env_records="delta", verify=False) -> Trace
        Follow a running process (``tracer --attach``) until it exits or
        ``duration`` seconds pass; then detach (it runs on; ``returncode`` is
        None). Execs come from /proc at the exec event; failed execs are not
        seen. Raises ProcessNotFound, TracerError.
    strace_run(cmd, *, env=None, cwd=None, timeout=None, capture=True, syscalls=(), pass_fds=(), stdin=DEVNULL) -> Trace
        The same records parsed from ``strace -f`` (an independent cross-check;
        ``Trace.tool == "strace"``, timestamps from strace's clock). ``syscalls``
        names more syscalls to trace ("openat", or a class such as "%file"):
        their calls are ``Trace.syscalls(name, tid=...)``. ``pass_fds``: our
        file descriptors the traced program inherits.
    parse_strace(lines, *, command=(), returncode=None, syscalls=()) -> Trace
        The parser behind strace_run, for output made with ``strace_args()``.
    load(path) -> Trace            a tracer JSON Lines file (``--output``; schema 1 or 2)
    apply_env_edits(base, edits), env_edits(base, new)
                                   the delta format of envp (schema 2, ``--env delta``)
    tracer_binary() -> str         the built tracer executable

Records (frozen dataclasses with ``to_dict()``; ``type`` is a class constant):

    SpawnEvent(ts_ns, parent_pid, parent_tid, child_pid, child_tid, syscall,
               flags: int, flag_names: tuple[str], exit_signal: str|None, is_thread: bool)
        syscall is "clone", "clone3", "fork" or "vfork"; ``has("CLONE_VM", ...)``.
    ExecEvent(ts_ns, pid, tid, syscall, filename, argv: tuple, envp: tuple,
              former_tid: int|None, source="entry", complete=True)
        former_tid: the tid that called execve when it was not the thread group
        leader (the kernel gave it the leader's tid = pid). ``filename_bytes``,
        ``argv_bytes``, ``envp_bytes``: exact bytes (os.fsencode), ``program``.
    ExecFailedEvent(ts_ns, pid, tid, syscall, filename, argv, envp, errno: str, source, complete)
        errno is the name ("ENOENT"); the same ``*_bytes`` properties.
    ExitEvent(ts_ns, pid, tid, exit_code: int|None, signal: str|None, last_thread: bool, core_dumped)
    SyscallEvent(tid, ts_ns, name, args: tuple[str], ret: int|None, errno: str|None)
        strace only: any other syscall asked for; ``args`` as strace decodes
        them, a string argument as the string itself.

``stats`` is the tracer's ``end`` record: ``exit_status``, ``tracer_cpu_ns``,
``stops`` by kind, ``mem_read_calls``/``mem_read_bytes``, ``records``.
The tracer itself is ``gorun_kit/_src/tracer`` (schema in its README.md);
``gorun-kit trace [--json FILE] [--mode M] -- CMD...`` and
``gorun-kit trace --attach PID [--duration S]`` are the command line;
``gorun_kit.viz.trace`` draws traces.

Strings are ``str``; bytes that are not UTF-8 appear as U+DC80..U+DCFF
(surrogateescape), so ``os.fsencode(s)`` gives back the exact bytes.

Trace (frozen): ``command, mode, root_pid, returncode, events, stats, tool,
start_ns, stdout, stderr, calls, attached``; views ``spawns, execs, exec_failures, exits``,
``syscalls(name=None, *, tid=None)``;
``processes() -> {pid: Process}``, ``threads() -> {tid: Thread}``,
``process_tree() -> {parent pid: (child pids)}``, ``thread_tree(pid) ->
{tid: (tids it created)}``, ``thread_tids(pid) -> frozenset`` (the
CLONE_THREAD children of a process), ``edges()``, ``classify() -> {SpawnEvent:
kind}``, ``spawn_kinds() -> Counter``, ``lifetimes() -> (Lifetime, ...)``,
``summary()`` (untrusted text shown through ``escape()``), ``to_dicts()``,
``write_jsonl(path)`` ("-": stdout); ``attached``: made by ``attach``.

    Process(pid, parent_pid, spawn, kind, execs, exec_failures, tids, start_ns,
            end_ns, exit_code, signal) with ``program``
    Thread(tid, pid, parent_tid, spawn, start_ns, end_ns, exit)
    Lifetime(kind "process"|"thread", id, pid, start_ns, end_ns, label)

The ptrace stops of one child (``gorun_kit.trace.stops``): ``child_stops(trace,
child=None) -> (PtraceStop, ...)`` in their logical order, with the record's time
where there is one; ``stop_counts(trace) -> (StopCount, ...)``: per kind of stop,
the number the records predict against the tracer's own count.

Spawn kinds (``SPAWN_KINDS``, ``classify_spawn(spawn, child_execs)``):
go-thread, pthread, thread, go-exec, go-pidfd-probe, go-exec-nopidfd,
glibc-fork, posix_spawn, vfork, fork, process.
"""
from __future__ import annotations

from .records import (CLONE_FLAGS, SCHEMA_VERSION, SPAWN_KINDS, Event, ExecEvent, ExecFailedEvent, ExitEvent, Lifetime,
                      Process, SpawnEvent, SyscallEvent, Thread, Trace, TraceFormatError, classify_spawn,
                      apply_env_edits, env_edits, escape, from_lines, load, parse_records)
from .runner import (ATTACH_MODES, ENV_MODES, MODES, CommandNotExecutable, CommandNotFound, ProcessNotFound, TraceError,
                     TraceInterrupted, TracerError, TraceTimeout, attach, run, tracer_binary, tracer_source)
from .strace import parse_strace, strace_args, strace_run

__all__ = [
    "run", "attach", "strace_run", "load", "from_lines", "parse_records", "parse_strace", "strace_args", "tracer_binary",
    "tracer_source",
    "SpawnEvent", "ExecEvent", "ExecFailedEvent", "ExitEvent", "SyscallEvent", "Event", "Process", "Thread", "Lifetime", "Trace",
    "classify_spawn", "SPAWN_KINDS", "CLONE_FLAGS", "MODES", "ATTACH_MODES", "ENV_MODES", "SCHEMA_VERSION",
    "apply_env_edits", "env_edits",
    "TraceError", "TracerError", "TraceTimeout", "TraceInterrupted", "CommandNotFound", "CommandNotExecutable",
    "ProcessNotFound", "TraceFormatError", "escape",
]
