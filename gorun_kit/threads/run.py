"""Running a hooked program once under a thread tracer, with /proc watched beside it.

:func:`observe` builds a program with the hook (:mod:`.hook`), runs it under
gorun_kit.trace (the course's ptrace tracer) or ``strace -f`` while this
thread samples ``/proc/<pid>/task``, and hands the hook's records, the
tracer's thread clones, the sampled tids and ``GODEBUG=schedtrace``'s
``threads=`` to :func:`~.crosscheck.cross_checks`.

The hook writes its records to the destination named by ``$GORUN_KIT_THREADS``:
``fd:N`` (an inherited descriptor, open for writing, N >= 3) or an absolute
file path (created, appended to). Records never go into the program's own
stdout or stderr: ``fd:0``-``fd:2``, a descriptor that is not open for
writing, a path that cannot be opened, or a destination that is the same
file as fd 1 or 2 is refused when the hook first opens it -- one line on
stderr names the value and what to give instead, recording is off, and the
program runs on unchanged. Without the variable a patched program behaves
exactly as an unpatched one.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import threading
import time
from typing import Mapping, Sequence

from .. import procfs, sessions, trace
from ..cache import scratch_dir
from ..records import Record
from ..toolchain import GoToolchain, find_go, go_env
from .crosscheck import cross_checks
from .hook import ENV, build
from .records import ThreadReport, ms_from_records, parse_records

__all__ = ["TRACERS", "TracedRun", "observe", "run_hooked"]

TRACERS = ("auto", "gorun_kit.trace", "strace")
_SCHED = re.compile(r"^SCHED \d+ms: .*\bthreads=(\d+)")
_RUNS_AREA = "threads/runs"  # not the build's tmp area: the build sweeps entries there that are not its own
_FIND_WITHIN = 10.0  # seconds the program gets to appear under the tracer
_POLL_S = 0.0005  # the /proc sampler's period
_BURST_GAP_NS = 20_000_000  # exits closer than this belong to one exit_group (see _teardown_ns)


@dataclasses.dataclass(frozen=True)
class TracedRun(Record):
    """One run of a hooked program under a thread tracer, /proc sampled beside it.

    Times are CLOCK_MONOTONIC ns (the clock of the hook's ``nanotime``).
    """

    tracer: str  # "gorun_kit.trace" or "strace"
    pid: int  # the program's pid (the tracer's root process)
    exit_status: int  # the program's, as the tracer reports it
    stdout: bytes
    stderr: bytes  # with GODEBUG=schedtrace's SCHED lines still in it
    hook_output: str  # what the hook wrote to $GORUN_KIT_THREADS
    clones: tuple[tuple[int, int], ...]  # (parent tid, child tid) of every CLONE_THREAD in the program
    tasks: tuple[int, ...]  # every tid seen in /proc/<pid>/task while it ran, sorted
    t_end: int  # when the program was seen to have ended
    proc_window: tuple[int, int] | None  # when the sampler's first and last look at the whole process began (None: no such look)


def _poll_tasks(pid: int, seen: set[int], looks: list[tuple[int, int]], runner: threading.Thread) -> None:
    """Add the tids of ``pid`` to ``seen`` every ~0.5 ms until it is gone (or
    the tracer has returned); ``looks`` gets (began, completed) of each listing."""
    while runner.is_alive():
        began = time.monotonic_ns()
        try:
            tids = procfs.tids(pid)
        except ProcessLookupError:
            return
        if tids:  # a zombie lists no tasks: that is no look at the process
            seen.update(tids)
            looks.append((began, time.monotonic_ns()))
        time.sleep(_POLL_S)


def _teardown_ns(exit_times: Sequence[int]) -> int | None:
    """When the process began to exit: the first of the final burst of
    thread exits. exit_group ends every thread within microseconds, but the
    tracer stamps each exit when it gets to it, which on a busy machine can
    be milliseconds later; a locked thread that exits earlier in the run
    stands apart by more than that."""
    times = sorted(exit_times)
    if not times:
        return None
    i = len(times) - 1
    while i > 0 and times[i] - times[i - 1] < _BURST_GAP_NS:
        i -= 1
    return times[i]


def _whole_looks(looks: Sequence[tuple[int, int]], teardown: int | None) -> list[tuple[int, int]]:
    """The looks that saw the process whole: one that completed after the
    process began exiting may miss threads already gone."""
    return [look for look in looks if teardown is None or look[1] <= teardown]


def _proc_window(looks: Sequence[tuple[int, int]], teardown: int | None) -> tuple[int, int] | None:
    """When the first and the last whole look (:func:`_whole_looks`) began.
    A look that began after a thread started lists it, if it still runs."""
    whole = _whole_looks(looks, teardown)
    return (whole[0][0], whole[-1][0]) if whole else None


def _find_program(binary: str, runner: threading.Thread) -> int | None:
    """The pid of the process running ``binary`` below us, while the tracer starts it."""
    deadline = time.monotonic() + _FIND_WITHIN
    while runner.is_alive() and time.monotonic() < deadline:
        pid = procfs.descendant_running(os.getpid(), binary)
        if pid:
            return pid
        time.sleep(0.0002)
    return None


def _kill_program(pid: int) -> None:
    """SIGKILL the program and what it started, parents first (the order of
    :func:`gorun_kit.sessions.kill_with_tracees`: no parent sees its child die
    and acts on it); the tracer then sees its tracees end, reaps them and
    returns. The tracer itself is the helper thread's, which reaps it."""
    for victim in [pid, *sessions.descendants(pid)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _trace_and_sample(start_tracer, binary: str) -> tuple[trace.Trace, set[int], list[tuple[int, int]], int]:
    """Run ``start_tracer()`` in a helper thread while this one samples the
    program's tasks; (its Trace, the tids seen, the looks' times, the end time)."""
    result: dict = {}

    def target():
        try:
            result["trace"] = start_tracer()
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc

    runner = threading.Thread(target=target, daemon=True)
    runner.start()
    seen: set[int] = set()
    looks: list[tuple[int, int]] = []
    pid = None
    try:
        pid = _find_program(binary, runner)
        if pid:
            _poll_tasks(pid, seen, looks, runner)
    except BaseException:
        # Interrupted while the tracer runs in the helper thread: end the
        # program so the tracer returns, and wait for it. Before the program
        # was found, the tracer may still be starting it: find it first.
        if not pid:
            pid = _find_program(binary, runner)
        if pid:
            _kill_program(pid)
        runner.join(10)
        raise
    t_end = time.monotonic_ns()
    runner.join()
    if "error" in result:
        raise result["error"]
    return result["trace"], seen, looks, t_end


def _traced_run(tracer: str, t: trace.Trace, hook_output: str, seen: set[int], looks: list[tuple[int, int]],
                t_end: int) -> TracedRun:
    root = t.root_pid
    clones = tuple((s.parent_tid, s.child_tid) for s in t.spawns if s.is_thread and s.child_pid == root)
    if tracer == "strace":
        # strace stamps its lines with the wall clock, not ours: no exit
        # times to compare, so the last look may be a partial one.
        window = _proc_window(looks, None)
    else:
        exits = [e.ts_ns for e in t.exits if e.pid == root]
        whole = _whole_looks(looks, _teardown_ns(exits))
        window = _proc_window(looks, _teardown_ns(exits))
        if whole and any(ts < whole[0][1] for ts in exits):
            window = None  # a thread ended before the sampler's first look: it could not be seen
    return TracedRun(tracer=tracer, pid=root, exit_status=t.returncode, stdout=t.stdout or b"",
                     stderr=t.stderr or b"", hook_output=hook_output, clones=clones,
                     tasks=tuple(sorted(seen)), t_end=t_end, proc_window=window)


def _decode(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def run_hooked(binary: str, args: Sequence[str] = (), *, env: Mapping[str, str], timeout: float = 120,
               tracer: str = "gorun_kit.trace") -> TracedRun:
    """Run the hooked executable ``binary`` once under ``tracer``
    ("gorun_kit.trace" or "strace") with ``env``, sampling /proc beside it.

    The hook's records go to a file (the course's tracer starts the program
    with fds 0-2 only) or, under strace, to an inherited descriptor. Raises
    TimeoutError (gorun_kit.trace.TraceTimeout) after ``timeout`` seconds;
    the program and the tracer are gone by then, as after any error. The
    program may hold someone else's runtime code (``observe(extension=...)``):
    it runs in the sandbox ``$GORUN_KIT_CONFINE`` names, if any.
    """
    cmd = [binary, *args]
    run_env = dict(env)
    work = scratch_dir(_RUNS_AREA, "observe")
    try:
        records = work / "records.txt"
        if tracer == "strace":
            with open(records, "w+b") as fh:
                run_env[ENV] = f"fd:{fh.fileno()}"
                got = _trace_and_sample(lambda: trace.strace_run(cmd, env=run_env, timeout=timeout,
                                                                 pass_fds=(fh.fileno(),), confine=True), binary)
        else:
            run_env[ENV] = str(records)
            got = _trace_and_sample(lambda: trace.run(cmd, env=run_env, timeout=timeout, confine=True,
                                                      writable=[str(work)]), binary)
        hook_output = _decode(records.read_bytes()) if records.exists() else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _traced_run(tracer, got[0], hook_output, *got[1:])


def _run_env(env: Mapping[str, str] | None, tc: GoToolchain, schedtrace_ms: int) -> dict[str, str]:
    """The program's environment: ``env`` (default ours) for ``tc``, with schedtrace on."""
    run_env = go_env(base=dict(os.environ if env is None else env), toolchain=tc)
    if schedtrace_ms:
        godebug = [x for x in run_env.get("GODEBUG", "").split(",") if x]
        run_env["GODEBUG"] = ",".join(godebug + [f"schedtrace={schedtrace_ms}"])
    return run_env


def _split_sched(stderr: str) -> tuple[str, int | None]:
    """(stderr without the SCHED lines, threads= of the last SCHED line)."""
    kept, threads = [], None
    for line in stderr.splitlines(keepends=True):
        m = _SCHED.match(line)
        if m:
            threads = int(m.group(1))
        else:
            kept.append(line)
    return "".join(kept), threads


def _report(program: str, args: Sequence[str], go_version: str, binary: str, run: TracedRun,
            schedtrace_ms: int) -> ThreadReport:
    recs = parse_records(run.hook_output)
    stderr, sched = _split_sched(_decode(run.stderr))
    report = ThreadReport(
        program=program, args=tuple(args), go_version=go_version, binary=binary, pid=run.pid,
        exit_status=run.exit_status, stdout=_decode(run.stdout), stderr=stderr, ms=ms_from_records(recs),
        t0=min((r["t"] for r in recs), default=0), t_end=run.t_end, tracer=run.tracer,
        traced_threads=run.clones, proc_tasks=run.tasks, schedtrace_threads=sched, checks=(),
        proc_window=run.proc_window, schedtrace_ms=schedtrace_ms)
    return dataclasses.replace(report, checks=tuple(cross_checks(report)))


def observe(program: str | os.PathLike, *, args: Sequence[str] = (), env: Mapping[str, str] | None = None,
            go: GoToolchain | None = None, cgo: bool | None = None, schedtrace_ms: int = 20,
            timeout: float = 120, extension: str | None = None, tracer: str = "auto") -> ThreadReport:
    """Build ``program`` with the hook, run it once under a thread tracer, and cross-check.

    In the same run: the hook's records, the tracer's CLONE_THREAD children,
    ``/proc/<pid>/task`` sampled while it runs, and
    ``GODEBUG=schedtrace=<schedtrace_ms>`` (its SCHED lines are taken out of
    the stderr the report shows; 0 turns it off).

    ``tracer``: "auto" or "gorun_kit.trace" (the course's ptrace tracer), or
    "strace". ``extension``: Go source replacing the hook's extension point
    (see :func:`~.hook.patch`). Raises TimeoutError after ``timeout`` seconds
    (nothing is left running), and what :func:`~.hook.build` raises.
    """
    if tracer not in TRACERS:
        raise ValueError(f"tracer={tracer!r}: use {', '.join(map(repr, TRACERS))}")
    tc = go or find_go()
    binary = build(program, go=tc, cgo=cgo, extension=extension)
    run = run_hooked(binary.path, args, env=_run_env(env, tc, schedtrace_ms), timeout=timeout,
                     tracer="strace" if tracer == "strace" else "gorun_kit.trace")
    return _report(os.fspath(program), args, tc.version, binary.path, run, schedtrace_ms)
