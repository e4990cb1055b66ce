"""gorun_kit.sessions: a tracer and what it traces stop together, nothing left over."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from gorun_kit import sessions

pytestmark = pytest.mark.live


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_stopped_tracee_and_its_tracer_both_go():
    # strace -f stops its tracee at every syscall: the shape gorun_kit.threads.gdb and
    # threads.observe have to clean up after a timeout.
    strace = subprocess.run(["which", "strace"], capture_output=True, text=True).stdout.strip()
    if not strace:
        pytest.skip("strace is not installed")
    proc = subprocess.Popen([strace, "-f", "-qq", "-o", "/dev/null", "sleep", "300"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sessions.children_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    kids = sessions.children_of(proc.pid)
    assert kids, "strace did not start sleep"
    sessions.kill_with_tracees(proc)
    assert proc.returncode is not None
    deadline = time.monotonic() + 10
    while any(_state(k) is not None for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_state(k) is None for k in kids), {k: _state(k) for k in kids}


def test_children_of_lists_our_child_until_it_is_reaped():
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert child.pid in sessions.children_of(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert child.pid not in sessions.children_of(os.getpid())
    assert sessions.children_of(2**22 + 12345) == []  # no such process


def test_run_tool_timeout_stops_the_tool_and_its_whole_tree():
    # strace -f follows sh and the sleep it starts: both tracees and strace must go
    strace = subprocess.run(["which", "strace"], capture_output=True, text=True).stdout.strip()
    if not strace:
        pytest.skip("strace is not installed")
    done = sessions.run_tool([strace, "-f", "-qq", "-o", "/dev/null", "sh", "-c", "sleep 317; echo never"],
                             timeout=1.0)
    assert done.timed_out and done.returncode is not None and b"never" not in (done.stdout or b"")
    deadline = time.monotonic() + 10
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sleepers() == []


def _sleepers() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _cmdline(int(p)) == "sleep 317"]


def test_tool_session_stops_everything_when_the_block_raises():
    with pytest.raises(KeyboardInterrupt):
        with sessions.tool_session(["sh", "-c", "sleep 300 & sleep 300"]) as proc:
            deadline = time.monotonic() + 10
            while len(sessions.descendants(proc.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            kids = sessions.descendants(proc.pid)
            assert len(kids) == 2
            raise KeyboardInterrupt
    assert proc.returncode is not None
    deadline = time.monotonic() + 10  # SIGKILLed processes take a moment to exit and be reaped
    while any(_state(k) is not None for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_state(k) is None for k in kids), {k: _state(k) for k in kids}


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""
