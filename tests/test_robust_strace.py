"""strace losing a race is an instrument failure, not a result: it is told
apart from the traced program's own output, the run is repeated once and
says so, and a second failure is an error, never a wrong Trace."""
from __future__ import annotations

import shutil

import pytest

from gorun_kit import trace
from gorun_kit.trace import TracerError
from gorun_kit.trace.strace import instrument_failure

LISTEN = "strace: ptrace(PTRACE_LISTEN,pid:4242,sig:0): Input/output error"


@pytest.mark.parametrize("stderr, expected", [
    (f"hello\n{LISTEN}\nbye\n", LISTEN),
    (f"{LISTEN}\n".encode(), LISTEN),
    ("strace: wait4(__WALL): No child processes\n", "strace: wait4(__WALL): No child processes"),
    ("strace: ptrace(PTRACE_GETREGSET,1,NT_PRSTATUS): No such process\n",
     "strace: ptrace(PTRACE_GETREGSET,1,NT_PRSTATUS): No such process"),
], ids=["among-program-output", "bytes", "wait4", "getregset"])
def test_strace_own_errors_are_instrument_failures(stderr, expected):
    assert instrument_failure(stderr) == expected
    assert instrument_failure(stderr, 1) == f"{expected} (strace exit status 1)"


@pytest.mark.parametrize("stderr", [
    "", None, b"",
    "strace: Process 4242 attached\nstrace: Process 4242 detached\n",
    "strace: [ Process PID=4242 runs in 32 bit mode. ]\n",
    "open(/etc/x): permission denied\n",  # the program's own message, not strace's
    "my strace: ptrace(PTRACE_LISTEN): Input/output error\n",  # not at a line start
    "strace: exec: No such file or directory\n",  # strace could not start it: a refusal, handled apart
], ids=["empty", "none", "empty-bytes", "attach-notes", "mode-note", "program", "mid-line", "exec-refusal"])
def test_other_stderr_is_not_an_instrument_failure(stderr):
    assert instrument_failure(stderr) is None


needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@pytest.mark.live
@needs_strace
def test_an_ordinary_run_is_not_retried():
    t = trace.strace_run(["sh", "-c", "ls / >/dev/null; echo to-stderr >&2"], timeout=60)
    assert t.retried is None and t.returncode == 0 and t.stderr == b"to-stderr\n"


@pytest.mark.live
@needs_strace
def test_a_run_where_strace_failed_is_repeated_once_and_says_so(tmp_path):
    # The program prints strace's line itself the first time: the same stderr
    # strace would leave, without having to provoke the race.
    marker = tmp_path / "ran-once"
    script = f'if [ ! -e {marker} ]; then : > {marker}; echo "{LISTEN}" >&2; exit 3; fi; echo second'
    t = trace.strace_run(["sh", "-c", script], timeout=60)
    assert t.retried == f"{LISTEN} (strace exit status 3)"
    assert t.returncode == 0 and t.stdout == b"second\n" and t.stderr == b""
    assert t.execs, "the repeated run's records are complete"


@pytest.mark.live
@needs_strace
def test_two_failures_raise_and_return_no_trace():
    with pytest.raises(TracerError, match="failed twice.*PTRACE_LISTEN"):
        trace.strace_run(["sh", "-c", f'echo "{LISTEN}" >&2'], timeout=60)
