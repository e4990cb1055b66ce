"""The ptrace stops of one child and the stop counts, on made-up tracer
records: the texts chapter 3 prints beside each stop and count (the graph's
labels, the notes after the counts) and the errors for traces they cannot
be read from. No tracer runs here."""
from __future__ import annotations

import pytest

from gorun_kit.trace import ExecEvent, ExitEvent, SpawnEvent, Trace
from gorun_kit.trace.flags import CLONE_FLAGS, flag_names
from gorun_kit.trace.stops import PtraceStop, StopCount, child_stops, stop_counts

VFORK = CLONE_FLAGS["CLONE_VM"] | CLONE_FLAGS["CLONE_VFORK"] | 17


def spawn(ts, parent, child, flags=VFORK, exit_signal="SIGCHLD", syscall="clone"):
    return SpawnEvent(ts_ns=ts, parent_pid=parent, parent_tid=parent, child_pid=child, child_tid=child,
                      syscall=syscall, flags=flags, flag_names=flag_names(flags), exit_signal=exit_signal,
                      is_thread=False)


def execd(ts, pid, filename):
    return ExecEvent(ts_ns=ts, pid=pid, tid=pid, syscall="execve", filename=filename, argv=("x",), envp=(),
                     former_tid=None)


def traced(*events, stops=None, tool="tracer", mode="events", command=("go", "run", "lab")):
    stats = {"type": "end"} if stops is False else {"type": "end", "stops": stops or {}}
    return Trace(command=command, mode=mode, root_pid=40, returncode=0, events=tuple(events), stats=stats,
                 tool=tool, start_ns=1)


def test_each_stop_of_a_child_says_what_the_tracer_does_there():
    t = traced(spawn(5, 40, 41, syscall="clone3"), execd(9, 41, "/usr/local/bin/sleepy"),
               ExitEvent(ts_ns=12, pid=41, tid=41, exit_code=4, signal=None, last_thread=True))
    assert child_stops(t) == (
        PtraceStop(0, "parent", 40, "spawn_event", "PTRACE_EVENT_VFORK", 5,
                   "clone3(VM|VFORK): the tracer reads the flags, learns the new pid 41"),
        PtraceStop(1, "child", 41, "initial", "PTRACE_EVENT_STOP", None,
                   "the new task starts stopped (auto-attached); the tracer resumes it"),
        PtraceStop(2, "child", 41, "seccomp", "PTRACE_EVENT_SECCOMP", None,
                   "execve entry: the tracer copies filename, argv, envp (sleepy)"),
        PtraceStop(3, "child", 41, "exec_event", "PTRACE_EVENT_EXEC", 9,
                   "the new program is in place: the exec record is written"),
        PtraceStop(4, "child", 41, "exit", "exited (waitpid, not a stop)", 12, "exit code 4"),
        PtraceStop(5, "parent", 40, "signal", "signal-delivery stop (SIGCHLD)", None,
                   "the child's end sends SIGCHLD to the parent; the tracer passes it on"))


def test_a_child_with_another_exit_signal_sends_that_one():
    t = traced(spawn(5, 40, 41, flags=CLONE_FLAGS["CLONE_VM"] | 10, exit_signal="SIGUSR1"), execd(9, 41, "prog"),
               ExitEvent(ts_ns=12, pid=41, tid=41, exit_code=None, signal="SIGKILL", last_thread=True))
    *_, seccomp, _, end, sig = child_stops(t)
    assert seccomp.detail.endswith("(prog)") and end.detail == "killed by SIGKILL"
    assert (sig.ptrace, sig.detail) == ("signal-delivery stop (SIGUSR1)",
                                        "the child's end sends SIGUSR1 to the parent; the tracer passes it on")
    assert child_stops(t)[0].ptrace == "PTRACE_EVENT_CLONE"


def test_each_count_says_what_it_counts():
    t = traced(stops={"spawn_event": 1, "initial": 2, "seccomp": 3, "exec_event": 4, "signal": 5})
    assert stop_counts(t) == (
        StopCount("spawn_event", 0, 1, "one per clone/fork/vfork"),
        StopCount("initial", 0, 2, "one per new task"),
        StopCount("seccomp", 0, 3, "one per execve entry"),
        StopCount("exec_event", 0, 4, "one per successful execve"),
        StopCount("signal", 0, 5, "at least one SIGCHLD per child with an exit signal; more when other signals arrive"))


def test_traces_the_stops_cannot_be_read_from_are_refused_with_the_reason():
    child = (spawn(5, 40, 41), execd(9, 41, "/bin/x"))
    for tool, mode in (("strace", "events"), ("tracer", "seccomp")):
        with pytest.raises(ValueError) as e:
            child_stops(traced(*child, tool=tool, mode=mode))
        assert str(e.value) == (f"the stops are read from the production tracer in events mode; this trace is "
                                f"{tool} in mode {mode!r} (use gorun_kit.trace.run(cmd))")
    with pytest.raises(ValueError) as e:
        stop_counts(traced(*child, stops=False))
    assert str(e.value) == "the trace has no end record with the tracer's stop counts (was it cut short?)"
    with pytest.raises(ValueError) as e:
        child_stops(traced(spawn(5, 40, 41), command=("a", "b")))
    assert str(e.value) == "no child process that exec'd in the trace of 'a b'"
    with pytest.raises(ValueError) as e:
        child_stops(traced(*child), 42)
    assert str(e.value) == "no child process 42 in the trace of 'go run lab'"
