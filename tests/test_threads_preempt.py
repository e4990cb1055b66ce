"""gorun_kit.threads.preempt: SIGURG senders matched to hook records."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gorun_kit import threads
from gorun_kit.build import build_go
from gorun_kit.threads import preempt

LABS = Path(__file__).resolve().parents[1] / "labs_go"
pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def test_sigurg_senders_names_sysmon_from_the_records():
    built = threads.build(LABS / "threads_gomaxprocs", extension=threads.CALLERS_EXTENSION.read_text())
    run = preempt.sigurg_senders(built.path, ["4"])
    assert run.sysmon is not None and run.sysmon.tid is not None
    assert run.sigurg, "four goroutines spinning 60 ms on 4 Ps get preempted"
    assert run.m_of_tid(run.sysmon.tid) == run.sysmon
    senders = run.senders()
    assert sum(senders.values()) == len(run.sigurg)
    assert f"M{run.sysmon.m} runtime.sysmon" in senders
    # targets are threads of the program, and never the sender itself
    assert all(run.m_of_tid(target) is not None and target != caller for caller, target in run.sigurg)


def test_sigurg_senders_refuses_a_binary_without_the_hook():
    plain = build_go(LABS / "threads_gomaxprocs").path
    with pytest.raises(ValueError, match="no records"):
        preempt.sigurg_senders(plain, ["1"])
