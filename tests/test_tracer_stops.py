"""The tracer on what the other tests never make a tracee do: execveat (relative to
a dirfd, on an fd with an empty path, failing), clone() with an exit signal of its
own, and a group-stop that must last until SIGCONT; in --mode seccomp with
--env delta, where every spawn and exec costs exactly one seccomp stop.

One live run, shared: the tracer follows a shell that runs labs_c/tests/rare_calls,
two /bin/true after exporting a variable, and then stops itself with SIGSTOP.
While it is stopped the test watches it from outside (/proc/<pid>/stat, its
stdout), then sends SIGCONT and lets it finish."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from gorun_kit import trace

sys.path.insert(0, os.path.dirname(__file__))
from trace_helpers import all_pids, c_prog, leftovers, marked_env  # noqa: E402

pytestmark = pytest.mark.live

AT_EMPTY_PATH = 0x1000
STOPPED = "tT"  # "T" stopped by a signal, "t" the same seen through a tracer
WATCH = 0.3  # seconds the stopped shell is watched for signs of life


@dataclass(frozen=True)
class StoppedRun:
    lines_before_stop: list[str]  # the shell's stdout up to its SIGSTOP
    states: str  # /proc/<shell>/stat states seen while it should be stopped
    said_while_stopped: bytes  # what the shell wrote before SIGCONT (nothing, if it was stopped)
    rest: bytes  # its stdout after SIGCONT
    returncode: int
    records: list[dict]  # the tracer's JSON Lines, as written
    trace: trace.Trace


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


def _read_line(stream, deadline: float) -> str:
    line = b""
    while not line.endswith(b"\n"):
        if not select.select([stream], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise AssertionError(f"no full line from the traced shell in time (got {line!r})")
        chunk = os.read(stream.fileno(), 1)
        if not chunk:
            raise AssertionError(f"the traced shell closed its stdout early (got {line!r})")
        line += chunk
    return line.decode()


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> StoppedRun:
    prog = c_prog("rare_calls")
    out = tmp_path_factory.mktemp("stops") / "t.jsonl"
    env, mark = marked_env()
    script = (f'{prog}; X_ADDED=1; export X_ADDED; /bin/true first; /bin/true second; '
              'echo "stopping $$"; kill -STOP $$; echo resumed')
    proc = subprocess.Popen([trace.tracer_binary(), "--mode", "seccomp", "--env", "delta", "--output", str(out),
                             "--", "/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        lines = [_read_line(proc.stdout, deadline) for _ in range(7)]
        assert lines[6].startswith("stopping "), lines
        shell = int(lines[6].split()[1])
        while _state(shell) not in STOPPED and time.monotonic() < deadline:
            time.sleep(0.01)
        states = _state(shell)
        time.sleep(WATCH)
        states += _state(shell)
        said = os.read(proc.stdout.fileno(), 4096) if select.select([proc.stdout], [], [], 0)[0] else b""
        os.kill(shell, signal.SIGCONT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.terminate()  # the tracer kills its tree on SIGTERM
            proc.communicate(timeout=30)
    t = trace.load(out)
    assert not leftovers(mark, all_pids(t)), leftovers(mark, all_pids(t))
    records = [json.loads(line) for line in out.read_text(errors="surrogateescape").splitlines()]
    return StoppedRun(lines, states, said, rest, proc.returncode, records, t)


def _exec(run: StoppedRun, kind: str, marker: str) -> tuple[dict, trace.ExecEvent]:
    """The record (as written, and as parsed: envp rebuilt from the delta) of
    the one exec of ``kind`` whose argv holds ``marker``."""
    raw = [r for r in run.records if r["type"] in ("exec", "exec_failed")]
    parsed = [e for e in run.trace.events if hasattr(e, "envp")]
    assert len(raw) == len(parsed)
    found = [(r, e) for r, e in zip(raw, parsed) if r["type"] == kind and marker in r["argv"]]
    assert len(found) == 1, raw
    return found[0]


def _fds(run: StoppedRun) -> tuple[int, int]:
    word, dirfd, progfd = run.lines_before_stop[0].split()
    assert word == "fds"
    return int(dirfd), int(progfd)


def test_the_children_ran_as_asked(stopped_run):
    assert stopped_run.lines_before_stop[1:6] == ["relative 0\n", "empty-path 0\n", "missing 127\n",
                                                  "clone-sigusr1 0\n", "posix_spawn 0\n"]


def test_execveat_relative_to_a_directory_fd(stopped_run):
    r, e = _exec(stopped_run, "exec", "relative-to-dirfd")
    assert (r["syscall"], e.filename, e.argv) == ("execveat", "true", ("true", "relative-to-dirfd"))
    assert e.envp == ("EXECVEAT_CASE=relative", "SECOND=1")
    assert (r["dirfd"], r["at_flags"]) == (_fds(stopped_run)[0], 0)
    assert e.source == "entry" and e.complete  # read at the syscall's entry, not from /proc


def test_execveat_of_a_program_fd_with_an_empty_path(stopped_run):
    r, e = _exec(stopped_run, "exec", "empty-path")
    assert (r["syscall"], e.filename, e.argv, e.envp) == ("execveat", "", ("true", "empty-path"),
                                                         ("EXECVEAT_CASE=empty-path",))
    assert (r["dirfd"], r["at_flags"]) == (_fds(stopped_run)[1], AT_EMPTY_PATH)
    assert e.source == "entry"


def test_failed_execveat_records_the_callers_argv_and_envp(stopped_run):
    """A failed exec's envp is read from the caller's memory, through execveat's
    own envp register (r10, where execve has it in rdx)."""
    r, e = _exec(stopped_run, "exec_failed", "never-runs")
    assert (r["syscall"], e.filename, e.errno) == ("execveat", "no-such-program-here", "ENOENT")
    assert e.argv == ("missing", "never-runs", "third")
    assert e.envp == ("EXECVEAT_CASE=missing", "ONLY_IN_THE_FAILED_ONE=3")
    assert (r["dirfd"], r["at_flags"], e.complete) == (_fds(stopped_run)[0], 0, True)


def test_exit_signal_of_a_clone_child(stopped_run):
    """clone() carries the exit signal in its flags' low byte; clone3 in a field."""
    rare = next(e.pid for e in stopped_run.trace.execs if e.program == "rare_calls")
    spawned = {(s.syscall, s.exit_signal) for s in stopped_run.trace.spawns if s.parent_pid == rare}
    assert spawned == {("clone", "SIGCHLD"), ("clone", "SIGUSR1"), ("clone3", "SIGCHLD")}
    assert not any(s.is_thread for s in stopped_run.trace.spawns)


def test_seccomp_mode_stops_once_at_every_spawn_and_exec_entry(stopped_run):
    t = stopped_run.trace
    assert t.mode == "seccomp" and {s.syscall for s in t.spawns} >= {"clone", "clone3"}
    assert t.stats["stops"]["seccomp"] == len(t.spawns) + len(t.execs) + len(t.exec_failures)


def test_delta_picks_the_last_exec_as_base_when_it_is_closer(stopped_run):
    """The shell's two children get the same environment, which is not the shell's
    own (it exported a variable, and orders its variables its own way): the second
    record names the first's as its base (0) and needs no edit, where the shell's
    environment would need at least one."""
    _, first = _exec(stopped_run, "exec", "first")
    second, parsed = _exec(stopped_run, "exec", "second")
    assert "X_ADDED=1" in first.envp and parsed.envp == first.envp
    assert (second["env_base"], second["env_edits"]) == (0, [])


def test_a_group_stop_lasts_until_sigcont(stopped_run):
    """SIGSTOP stops the shell under the tracer as it would without: it stays
    stopped (and says nothing) until SIGCONT; then it goes on."""
    assert len(stopped_run.states) == 2 and set(stopped_run.states) <= set(STOPPED), stopped_run.states
    assert stopped_run.said_while_stopped == b""
    assert stopped_run.rest == b"resumed\n" and stopped_run.returncode == 0
    assert stopped_run.trace.stats["stops"]["group"] >= 1


def test_env_none_writes_no_environment():
    """--env none (a second, tiny run): exec records carry no envp at all."""
    t = trace.run(["/bin/sh", "-c", "/bin/true"], env_records="none", timeout=30)
    assert t.returncode == 0 and [e.program for e in t.execs] == ["sh", "true"]
    assert all(e.envp == () for e in t.execs)
