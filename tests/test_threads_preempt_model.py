"""gorun_kit.threads.preempt.sigurg_senders without strace: a stand-in for
``trace.strace_run`` that writes the hook's records where the kit asked and
hands back strace's lines, parsed by the kit's own parser. The real run is
tests/test_threads_preempt.py."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gorun_kit import trace
from gorun_kit.threads import preempt
from gorun_kit.threads.hook import ENV
from gorun_kit.trace.strace import parse_strace

RECORDS = """\
gorunkit-thread v1 start t=100 m=0 tid=50 procid=50 g0_lo=0x1000 g0_hi=0x11000 fs=0x5008 gs=0x0 m_tls=0x5000 fn=none
gorunkit-thread v1 new t=200 m=1 by_m=0 by_tid=50 fn=runtime.sysmon
gorunkit-thread v1 clone t=210 m=1 by_m=0 by_tid=50 cgo=0
gorunkit-thread v1 start t=400 m=1 tid=51 procid=51 g0_lo=0x20000 g0_hi=0x24000 fs=0x6008 gs=0x0 m_tls=0x6000 fn=runtime.sysmon
gorunkit-thread v1 new t=500 m=2 by_m=0 by_tid=50 fn=none
gorunkit-thread v1 clone t=505 m=2 by_m=0 by_tid=50 cgo=0
gorunkit-thread v1 start t=900 m=2 tid=52 procid=52 g0_lo=0x30000 g0_hi=0x34000 fs=0x7008 gs=0x0 m_tls=0x7000 fn=none
"""
# what strace -f -e tgkill wrote for such a run: sysmon preempts M2's and m0's goroutines,
# M2 signals m0 (a GC suspendG), one tgkill with another signal, one split by another thread's line
STRACE = """\
51 1700000000.000100 tgkill(50, 52, SIGURG) = 0
51 1700000000.000200 tgkill(50, 50, SIGURG) = 0
52 1700000000.000300 tgkill(50, 50, SIGURG <unfinished ...>
51 1700000000.000310 tgkill(50, 52, SIGPROF) = 0
52 1700000000.000320 <... tgkill resumed>) = 0
50 1700000000.000400 tgkill(50, 51, SIGQUIT) = 0
50 1700000000.000500 +++ exited with 0 +++
"""


def _fake_strace(monkeypatch, records=RECORDS, lines=STRACE):
    seen = {}

    def strace_run(cmd, *, env=None, timeout=None, syscalls=(), writable=(), **kw):
        seen.update(cmd=cmd, env=env, timeout=timeout, syscalls=syscalls, writable=writable, kw=kw)
        path = Path(env[ENV])
        seen["work"] = path.parent
        assert path.parent.is_dir() and [str(path.parent)] == list(writable)
        if records is not None:
            path.write_text(records)
        return parse_strace(lines.splitlines(keepends=True), command=cmd, returncode=0, syscalls=syscalls)

    monkeypatch.setattr(trace, "strace_run", strace_run)
    return seen


def test_sigurg_senders_matches_each_signal_to_the_m_that_sent_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GORUN_KIT_TEST_MARKER", "ours")
    seen = _fake_strace(monkeypatch)
    run = preempt.sigurg_senders(tmp_path / "prog", ["4", "x"], timeout=7)
    assert seen["cmd"] == [str(tmp_path / "prog"), "4", "x"] and seen["syscalls"] == ["tgkill"]
    assert seen["timeout"] == 7 and seen["kw"] == {}
    assert seen["env"]["GORUN_KIT_TEST_MARKER"] == "ours"  # without env=, the program gets ours
    assert seen["env"][ENV] == str(seen["work"] / "records.txt")
    assert seen["work"].parent == tmp_path / "cache" / "threads" / "preempt"
    assert seen["work"].name.startswith("run.") and not seen["work"].exists()  # removed afterwards
    assert run.sigurg == ((51, 52), (51, 50), (52, 50))
    assert run.other_tgkills == 2
    assert [m.m for m in run.ms] == [0, 1, 2] and run.sysmon.tid == 51
    assert run.senders() == {"M1 runtime.sysmon": 2, "M2 none": 1}


def test_sigurg_senders_gives_the_program_the_environment_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GORUN_KIT_TEST_MARKER", "ours")
    seen = _fake_strace(monkeypatch)
    preempt.sigurg_senders("prog", env={"ONLY": "this"})
    assert set(seen["env"]) == {"ONLY", ENV} and seen["cmd"] == ["prog"] and seen["timeout"] == 120


@pytest.mark.parametrize("records", [None, "", " \n\n"])
def test_sigurg_senders_refuses_a_run_without_records(tmp_path, monkeypatch, records):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "cache"))
    seen = _fake_strace(monkeypatch, records=records)
    with pytest.raises(ValueError, match=r"^prog: the hook wrote no records \(is it built with "
                                         r"gorun_kit.threads.build\?\)$"):
        preempt.sigurg_senders("prog")
    assert not seen["work"].exists()


def test_sigurg_senders_removes_its_scratch_directory_when_strace_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("GORUN_KIT_CACHE", str(tmp_path / "cache"))
    seen = {}

    def strace_run(cmd, *, env=None, **kw):
        seen["work"] = Path(env[ENV]).parent
        Path(env[ENV]).write_text(RECORDS)
        raise trace.TraceTimeout("too slow", None)

    monkeypatch.setattr(trace, "strace_run", strace_run)
    with pytest.raises(trace.TraceTimeout):
        preempt.sigurg_senders("prog")
    assert not seen["work"].exists() and os.listdir(seen["work"].parent) == []


def test_a_run_without_sigurg():
    run = preempt.PreemptionRun((), (), 3)
    assert run.senders() == {} and run.sysmon is None and run.m_of_tid(50) is None
