"""gorun_kit.threads.proc: the threads of an idle Go program and their roles.

The role of each thread is cross-checked against the kernel's own view
(/proc's tids, and the thread group leader) and against the runtime's
memory (an M's procid equals the tid of the thread parked on it).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gorun_kit.threads import proc
from gorun_kit.build import build_go

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux")


def test_idle_go_program_roles_and_cleanup():
    exe = build_go(REPO / "labs_go" / "ch1_idle").path
    roles = proc.observe_idle(exe)
    tids = [r.task.tid for r in roles]
    assert len(roles) >= 2 and len(set(tids)) == len(tids)
    leaders = [r for r in roles if r.leader]
    assert len(leaders) == 1 and leaders[0].m_id == 0 and "m0" in leaders[0].role
    # The runtime never renames threads: every comm is the program's name.
    assert {r.task.comm for r in roles} == {Path(exe).name[:15]}
    # sysmon is recognised by the address it sleeps on, exactly once.
    assert sum("sysmon" in r.role for r in roles) == 1
    sysmon = next(r for r in roles if "sysmon" in r.role)
    assert "sched.sysmonnote" in sysmon.evidence or "usleep" in sysmon.role
    # Ms read from memory have distinct ids, none of them 0 (that is m0).
    ids = [r.m_id for r in roles if r.m_id is not None and not r.leader]
    assert len(set(ids)) == len(ids) and 0 not in ids
    # Nothing left behind: no process runs this executable any more.
    leftover = subprocess.run(["pgrep", "-f", exe], capture_output=True, text=True).stdout.split()
    assert leftover == []


def test_read_tasks_of_this_process_and_bad_pid():
    tasks = proc.read_tasks(os.getpid())
    assert os.getpid() in {t.tid for t in tasks}
    with pytest.raises(ProcessLookupError, match="no process"):
        proc.read_tasks(2 ** 22 + 12345)


def test_program_that_never_gets_ready_is_reaped(tmp_path):
    script = tmp_path / "quiet.sh"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(RuntimeError, match="exited before saying it was ready"):
        proc.observe_idle(script)


def test_silent_program_times_out_and_is_killed(tmp_path):
    script = tmp_path / "silent.sh"  # its path is unique, so pgrep finds only this one
    script.write_text("#!/bin/sh\nwhile :; do sleep 1; done\n")
    script.chmod(0o755)
    with pytest.raises(RuntimeError, match="did not print its ready line"):
        proc.observe_idle(script, timeout=0.5)
    assert subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True).stdout.split() == []
