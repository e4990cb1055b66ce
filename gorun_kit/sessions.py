"""Stopping a debugger or tracer (gdb, strace) together with what it runs.

Such a tool is started with ``start_new_session=True`` and is the parent of
the program it runs, which may sit in a ptrace stop. Killing the tool first
would orphan the program -- stopped, or as a zombie on an init that may not
reap -- so the program goes first (SIGKILL ends it even in a ptrace stop),
the tool gets a moment to reap it and exit, and then the whole session is
killed and the tool reaped.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Iterable

__all__ = ["children_of", "kill_with_tracees"]


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s children (every thread's), from /proc."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return kids


def kill_with_tracees(proc: subprocess.Popen, tracees: Iterable[int] = ()) -> None:
    """SIGKILL ``tracees`` (default: ``proc``'s children), let ``proc`` reap
    them, then SIGKILL ``proc``'s session and reap ``proc``."""
    targets = list(tracees) or children_of(proc.pid)
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if targets:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
