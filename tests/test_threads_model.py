"""gorun_kit.threads on made-up inputs: the hook's record lines, the merged Ms,
the report's text views, the cross-checks, the splices into a made-up
proc.go, the scheduler readers on a made-up GOROOT and the thread roles on a
made-up /proc. No Go build, no live program: every test takes milliseconds."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from fake_tools import fake_objdump
from gorun_kit import binary as kit_binary
from gorun_kit import goroot, procfs, threads
from gorun_kit.binary import Symbol
from gorun_kit.threads import crosscheck, gdb, hook, proc, scheduler
from gorun_kit.threads.records import Cause, MRecord
from gorun_kit.toolchain import GoToolchain


# ---------------------------------------------------------------------------
# record lines

def test_record_values_are_decimal_hex_or_text():
    recs = threads.parse_records(
        "\n  \ngorunkit-thread v1 start t=7 m=3 tid=-1 fs=0x1f g0_lo=0xABC fn=runtime.mstart via=a<b\n\n")
    assert recs == [{"kind": "start", "t": 7, "m": 3, "tid": -1, "fs": 31, "g0_lo": 0xABC, "fn": "runtime.mstart",
                     "via": "a<b"}]
    assert [r["kind"] for r in threads.parse_records(
        "gorunkit-thread v1 new t=1 m=1\ngorunkit-thread v1 clone t=2 m=1\n")] == ["new", "clone"]
    assert threads.parse_records("") == []


@pytest.mark.parametrize("line,says", [
    ("gorunkit-thread v2 new t=1 m=1", "not a thread-hook record"),
    ("gorunkit-thread v1 exit t=1 m=1", "not a thread-hook record"),
    (" gorunkit-thread v1 new t=1 m=1", "not a thread-hook record"),
    ("xgorunkit-thread v1 new t=1 m=1", "not a thread-hook record"),
    ("gorunkit-thread v1 new t=1 m=1 trailing", "'trailing' is not key=value"),
    ("gorunkit-thread v1 start t=1 m=1 fs=0xzz", "fs=0xzz is not a hex number"),
])
def test_a_malformed_line_is_an_error_naming_it_and_its_number(line, says):
    good = "gorunkit-thread v1 new t=1 m=1 by_m=0 by_tid=5 fn=none"
    with pytest.raises(ValueError) as info:
        threads.parse_records(f"{good}\n{line}\n")
    assert says in str(info.value) and "line 2" in str(info.value)


def _new(m, t=10, by_m=0, by_tid=50, fn="none", **extra):
    return {"kind": "new", "t": t, "m": m, "by_m": by_m, "by_tid": by_tid, "fn": fn, **extra}


def _clone(m, t=20, by_m=0, by_tid=50, cgo=0):
    return {"kind": "clone", "t": t, "m": m, "by_m": by_m, "by_tid": by_tid, "cgo": cgo}


def _start(m, tid, t=30, fn="none", lo=0x1000, hi=0x3000, fs=0x5008, m_tls=0x5000, **extra):
    return {"kind": "start", "t": t, "m": m, "tid": tid, "procid": tid, "g0_lo": lo, "g0_hi": hi, "fs": fs,
            "gs": 0, "m_tls": m_tls, "fn": fn, **extra}


def test_the_records_of_each_m_merge_by_id_whatever_their_order():
    ms = threads.ms_from_records([_start(2, 52, t=35), _new(2, t=11, by_m=1, by_tid=51, fn="runtime.mspinning"),
                                  _clone(2, t=21, by_m=0, by_tid=50, cgo=1), _start(0, 50, t=5)])
    assert [m.m for m in ms] == [0, 2]
    m0, m2 = ms
    assert (m0.tid, m0.t_start, m0.start_fn, m0.asked_by_m, m0.cloned_by_m, m0.t_new, m0.cgo) == \
        (50, 5, "none", None, None, None, None)
    assert (m2.asked_by_m, m2.asked_by_tid, m2.t_new, m2.start_fn) == (1, 51, 11, "runtime.mspinning")
    assert (m2.cloned_by_m, m2.cloned_by_tid, m2.t_clone, m2.cgo) == (0, 50, 21, True)
    assert (m2.tid, m2.procid, m2.t_start, m2.g0_lo, m2.g0_hi, m2.fs_base, m2.gs_base, m2.m_tls) == \
        (52, 52, 35, 0x1000, 0x3000, 0x5008, 0, 0x5000)
    assert threads.ms_from_records([_clone(4, cgo=0)])[0].cgo is False


def test_newm_names_the_start_function_before_the_thread_does():
    # newm's fn is the M's mstartfn; the start record's fn is only a fallback
    for order in ([_new(1, fn="runtime.sysmon"), _start(1, 51, fn="none")],
                  [_start(1, 51, fn="none"), _new(1, fn="runtime.sysmon")]):
        assert threads.ms_from_records(order)[0].start_fn == "runtime.sysmon"
    assert threads.ms_from_records([_start(1, 51, fn="runtime.templateThread")])[0].start_fn == "runtime.templateThread"
    assert threads.ms_from_records([_clone(1)])[0].start_fn == "none"  # no fn said at all


def test_unknown_fields_are_kept_as_extension_fields():
    ms = threads.ms_from_records([_new(1, via="runtime.startm<runtime.wakep", zz=3), _start(1, 51, aa="x")])
    m = ms[0]
    assert m.extra == (("aa", "x"), ("via", "runtime.startm<runtime.wakep"), ("zz", 3))
    assert m.get("zz") == 3 and m.get("missing") is None and m.get("missing", 9) == 9
    assert m.via == ("runtime.startm", "runtime.wakep")
    assert dataclasses.replace(m, extra=(("via", ""),)).via == ()
    assert dataclasses.replace(m, extra=(("via", 5),)).via == ()
    assert threads.ms_from_records([_start(0, 50)])[0].extra == ()


@pytest.mark.parametrize("record,says", [
    ({"kind": "new", "t": 1, "m": 1}, "(new): no 'by_m', 'by_tid', 'fn' field"),
    ({"kind": "start", "t": 1, "m": 1, "tid": 5}, "procid"),
    ({"kind": "clone", "t": 1, "by_m": 0, "by_tid": 5, "cgo": 0}, "'m'"),
    ({"kind": "exit", "t": 1, "m": 1}, "kind 'exit' is none of new, clone, start"),
])
def test_a_record_missing_a_field_is_an_error_naming_it(record, says):
    with pytest.raises(ValueError) as info:
        threads.ms_from_records([_new(0), record])
    assert says in str(info.value) and "record 2" in str(info.value)


def test_g0_size_and_the_fs_base_relation():
    m = threads.ms_from_records([_start(1, 51, lo=0x1000, hi=0x9000, fs=0x7008, m_tls=0x7000)])[0]
    assert m.g0_size == 0x8000 and m.fs_is_m_tls_plus_8 is True
    other = dataclasses.replace(m, fs_base=0x7010)
    assert other.fs_is_m_tls_plus_8 is False
    unstarted = threads.ms_from_records([_new(1)])[0]
    assert unstarted.g0_size is None and unstarted.fs_is_m_tls_plus_8 is None
    assert m.to_dict()["g0_size"] == 0x8000 and m.to_dict()["fs_is_m_tls_plus_8"] is True


# ---------------------------------------------------------------------------
# causes of thread creation

def _m_via(m: int, via: str, fn: str = "none") -> MRecord:
    return threads.ms_from_records([_new(m, fn=fn, via=via)])[0]


@pytest.mark.parametrize("via,creator,reason", [
    ("runtime.startm<runtime.wakep<runtime.newproc.func1<runtime.systemstack<runtime.newproc",
     "runtime.newproc", "a new goroutine and an idle P: wakep starts a spinning M"),
    ("runtime.startm<runtime.handoffp<runtime.stoplockedm<runtime.schedule",
     "runtime.stoplockedm", "a locked goroutine blocked: its M handed the P on"),
    ("runtime.startm<runtime.wakep<runtime.ready<runtime.goready",
     "runtime.ready", "wakep: work and an idle P"),
    ("runtime.startm<runtime.handoffp<runtime.exitsyscall0",
     "runtime.exitsyscall0", "handoffp: a P with work and no M"),
    ("runtime.startm<main.f", "main.f", "other"),
    ("runtime.startm<runtime.wakep<runtime.resetspinning<runtime.schedule",
     "runtime.resetspinning", "a spinning M found work and woke one more (wakep)"),
])
def test_the_creator_is_the_first_caller_that_is_not_plumbing(via, creator, reason):
    cause = threads.creation_cause(_m_via(3, via))
    chain = via.split("<")
    i = chain.index(creator if creator != "runtime.newproc" else "runtime.newproc.func1")
    assert cause == Cause(creator, tuple(reversed(chain[:i + 1])) + ("runtime.newm",), reason)


def test_every_plumbing_call_is_skipped_on_the_way_to_the_creator():
    via = ("runtime.newm<runtime.systemstack<runtime.mcall<runtime.schedule<runtime.park_m"
           "<runtime.startTemplateThread<main.lock")
    cause = threads.creation_cause(_m_via(5, via))
    assert cause.creator == "main.lock"
    assert cause.path == tuple(reversed(via.split("<"))) + ("runtime.newm",)
    assert cause.reason == "template thread: makes Ms for locked threads (started by main.lock)"


def test_only_the_calls_up_to_the_creator_give_the_reason():
    cause = threads.creation_cause(_m_via(2, "runtime.startm<main.f<runtime.newproc"))
    assert (cause.creator, cause.reason) == ("main.f", "other")


def test_a_chain_of_plumbing_only_ends_at_its_outermost_call():
    cause = threads.creation_cause(_m_via(2, "runtime.startm<runtime.handoffp<runtime.mcall"))
    assert cause.creator == "runtime.mcall"
    assert cause.path == ("runtime.mcall", "runtime.handoffp", "runtime.startm", "runtime.newm")
    assert cause.reason == "handoffp: a P with work and no M"


def test_the_template_thread_says_who_started_it_and_sysmon_is_mains():
    cause = threads.creation_cause(_m_via(3, "runtime.startTemplateThread<runtime.LockOSThread<main.main",
                                          fn="runtime.templateThread"))
    assert cause.creator == "runtime.LockOSThread"
    assert cause.reason == "template thread: makes Ms for locked threads (started by runtime.LockOSThread)"
    assert cause.path == ("runtime.LockOSThread", "runtime.startTemplateThread", "runtime.newm")
    sysmon = threads.creation_cause(_m_via(1, "runtime.main.func1<runtime.systemstack", fn="runtime.sysmon"))
    assert sysmon == Cause("runtime.main", ("runtime.main", "runtime.newm"), "sysmon, started before main.main")
    assert threads.creation_cause(threads.ms_from_records([_new(1, fn="runtime.sysmon")])[0]) is None


def _report(ms=(), **kw) -> threads.ThreadReport:
    base = dict(program="p", args=(), go_version="go1.27.3", binary="-", pid=50, exit_status=0, stdout="",
                stderr="", ms=tuple(ms), t0=0, t_end=10**9, tracer="test", traced_threads=(), proc_tasks=(),
                schedtrace_threads=None, checks=(), proc_window=None, schedtrace_ms=0)
    base.update(kw)
    return threads.ThreadReport(**base)


def test_path_through_takes_the_first_m_that_passes_the_step():
    r = _report([threads.ms_from_records([_start(0, 50)])[0],
                 _m_via(1, "runtime.startm<runtime.handoffp<runtime.retake<runtime.sysmon"),
                 _m_via(2, "runtime.startm<runtime.wakep<runtime.newproc")])
    assert threads.path_through(r, "retake") == "retake -> handoffp -> startm -> newm"
    assert threads.path_through(r, "startm") == "retake -> handoffp -> startm -> newm"
    assert threads.path_through(r, "wakep") == "newproc -> wakep -> startm -> newm"
    assert threads.path_through(r, "sysmon") == "none"  # beyond the creator: not on the path
    assert threads.path_through(_report(), "retake") == "none"


def test_the_causes_table_groups_ms_by_path_and_orders_by_reason():
    # by reason ("a locked..." before "sysmon..."), not by path ("retake" before "stoplockedm")
    a = _report([_m_via(1, "runtime.startm<runtime.handoffp<runtime.stoplockedm"),
                 _m_via(2, "runtime.startm<runtime.handoffp<runtime.retake"),
                 _m_via(4, "runtime.startm<runtime.handoffp<runtime.retake")])
    b = _report([_m_via(3, "runtime.startm<runtime.handoffp<runtime.stoplockedm"),
                 *threads.ms_from_records([_start(0, 50)])])
    assert threads.causes_table({"a": a, "b": b}) == (
        "stoplockedm -> handoffp -> startm -> newm\n"
        "    a locked goroutine blocked: its M handed the P on\n"
        "    Ms: a:M1, b:M3\n"
        "retake -> handoffp -> startm -> newm\n"
        "    sysmon took the P of a goroutine stuck in a syscall or cgo call\n"
        "    Ms: a:M2, a:M4")
    assert threads.causes_table({}) == ""


# ---------------------------------------------------------------------------
# the report's views

SAMPLE = [_start(0, 50, t=1_000_000, lo=0x0, hi=0x10000, fs=0x5008, m_tls=0x5000),
          _new(1, t=200, by_m=0, by_tid=50, fn="runtime.sysmon"), _clone(1, t=210, by_m=0, by_tid=50),
          _start(1, 51, t=2_001_000_000, lo=0x20000, hi=0x24000, fs=0x6000, m_tls=0x6000),
          _new(2, t=300, by_m=1, by_tid=51, fn="runtime.templateThread"), _clone(2, t=310, by_m=1, by_tid=51),
          _new(3, t=400, by_m=1, by_tid=51), _clone(3, t=410, by_m=2, by_tid=52)]


def test_tree_puts_each_m_under_its_asker_and_names_a_different_cloner():
    r = _report(threads.ms_from_records(SAMPLE), t0=100)
    assert r.tree() == ("M0 (none, tid 50)\n"
                        "  └─ M1 (runtime.sysmon, tid 51)\n"
                        "    └─ M2 (runtime.templateThread, never started)\n"
                        "    └─ M3 (none, never started, cloned by M2)")
    assert r.edges() == [(0, 1), (1, 2), (1, 3)]
    assert r.tids == (50, 51)
    swapped = threads.ms_from_records([_start(0, 60), _start(1, 55), _start(2, 58)])
    assert _report(swapped).tids == (55, 58, 60)
    assert _report().tree() == "" and _report().edges() == []
    # an M asked for by one the hook has no record of (cgo's extra M) is still shown
    orphan = threads.ms_from_records([M0, _new(4, by_m=3), _clone(4, by_m=3, by_tid=53), _start(4, 54),
                                      _new(5, by_m=4), _start(5, 55)])
    assert _report(orphan).tree() == ("M0 (none, tid 50)\n"
                                      "M4 (none, tid 54, asked by M3 (no record of it))\n"
                                      "  └─ M5 (none, tid 55)")


def test_table_has_a_row_per_m_with_times_from_t0():
    r = _report(threads.ms_from_records(SAMPLE), t0=1_000_000)
    rows = r.table().splitlines()
    assert rows[0].split() == ["M", "tid", "start", "fn", "asked", "by", "cloned", "by", "start", "ms", "g0", "size",
                               "fs-&m.tls"]
    assert rows[1].split() == ["0", "50", "none", "-", "-", "0.000", str(0x10000), "+8"]
    assert rows[2].split() == ["1", "51", "runtime.sysmon", "M0", "M0", "2000.000", str(0x4000), "other"]
    assert rows[4].split() == ["3", "-", "none", "M1", "M2", "-", "-", "-"]
    assert len(rows) == 5
    assert len({len(row) for row in rows}) == 1  # the columns line up


def test_summary_lists_every_check_with_its_verdict_and_ok_needs_them_all():
    good = threads.CrossCheck("first", True, (), (), "fine")
    vague = threads.CrossCheck("second", True, (), (), "late", conclusive=False)
    bad = threads.CrossCheck("third", False, (1,), (2,), "differs")
    r = _report(threads.ms_from_records(SAMPLE), checks=(good, vague), exit_status=3, program="prog")
    assert r.ok is True and r.to_dict()["ok"] is True
    assert r.summary() == "prog: 4 Ms, exit status 3, go1.27.3\n  [ok] first: fine\n  [inconclusive] second: late"
    assert dataclasses.replace(r, checks=(good, bad)).ok is False
    assert (good.verdict, vague.verdict, bad.verdict) == ("ok", "inconclusive", "MISMATCH")
    assert threads.CrossCheck("x", False, (), (), "", conclusive=False).verdict == "MISMATCH"
    assert _report().ok is True


# ---------------------------------------------------------------------------
# the cross-checks

M0 = _start(0, 50, t=100)
M1 = [_new(1, t=150), _clone(1, t=160, by_tid=50), _start(1, 51, t=200)]
M2_UNSTARTED = [_new(2, t=300), _clone(2, t=310, by_tid=50)]



def _one(records, which, **kw):
    checks = threads.cross_checks(_report(threads.ms_from_records(records), **kw))
    return {"tracer": checks[0], "proc": checks[1], "cloner": checks[2],
            "sched": checks[3] if len(checks) > 3 else None}[which]


def test_the_tracer_check_needs_the_main_thread_and_every_clone_accounted_for():
    c = _one([M0, *M1], "tracer", traced_threads=((50, 51),), tracer="strace")
    assert c.ok and c.hook == (51,) and c.other == (51,)
    assert c.name == "hook tids == CLONE_THREAD children (strace) + the main thread"
    assert c.detail == "hook 1 threads besides main, tracer 1"
    assert not _one([M0, *M1], "tracer", traced_threads=((50, 51),), pid=49).ok  # main thread not in the hook
    assert not _one([M0, *M1], "tracer", traced_threads=()).ok  # a hook thread the tracer did not see
    assert not _one([M0, *M1], "tracer", traced_threads=((50, 51), (50, 52))).ok  # a clone no M explains
    gone = _one([M0, *M1, *M2_UNSTARTED], "tracer", traced_threads=((50, 51), (50, 52)))
    assert gone.ok and gone.detail.endswith("tracer 2 (+1 cloned but gone before minit, no tid in the hook)")
    assert not _one([M0, *M1, *M2_UNSTARTED], "tracer", traced_threads=((50, 51),)).ok  # the unstarted one unseen


def test_the_proc_check_is_conclusive_only_when_a_look_came_after_the_last_start():
    c = _one([M0, *M1], "proc", proc_tasks=(50, 51), proc_window=(120, 200))
    assert c.ok and c.conclusive and c.hook == (50, 51) and c.other == (50, 51)
    assert c.detail == "hook 2, /proc 2" and c.name == "hook tids == /proc/<pid>/task sampled while running"
    missed = _one([M0, *M1], "proc", proc_tasks=(50,), proc_window=(120, 200))
    assert not missed.ok and missed.conclusive
    late = _one([M0, *M1], "proc", proc_tasks=(50,), proc_window=(120, 199))
    assert late.ok and not late.conclusive and late.detail.endswith(
        "; the sampler's last look at the whole process came before the last M started")
    never = _one([M0, *M1], "proc", proc_tasks=(50, 51), proc_window=None)
    assert never.ok and not never.conclusive
    # only threads besides main count: m0 starting late is not a missed thread
    only_main = _one([_start(0, 50, t=10**6)], "proc", proc_tasks=(50,), proc_window=(1, 2))
    assert only_main.ok and only_main.conclusive
    # a task no M explains, unless an M cloned but never started does
    assert not _one([M0, *M1], "proc", proc_tasks=(50, 51, 60), proc_window=(120, 200)).ok
    assert not _one([M0, *M1], "proc", proc_tasks=(50, 51, 60), proc_window=(120, 150)).ok
    assert _one([M0, *M1, *M2_UNSTARTED], "proc", proc_tasks=(50, 51, 60), proc_window=(120, 400)).ok


def test_the_cloner_check_compares_newm1s_thread_with_the_clones_caller():
    c = _one([M0, *M1], "cloner", traced_threads=((50, 51),))
    assert c.ok and c.hook == (50,) and c.other == (50,)
    assert c.name == "the thread that ran newm1 is the clone's caller in the tracer"
    assert c.detail == "newm1's gettid() == tracer's parent tid for every traced thread"
    assert not _one([M0, *M1], "cloner", traced_threads=((49, 51),)).ok
    assert not _one([M0, *M1], "cloner", traced_threads=()).ok  # nothing compared is no agreement
    no_clone = [M0, _new(1, t=150), _start(1, 51, t=200)]
    c = _one(no_clone, "cloner", traced_threads=((50, 51),))
    assert not c.ok and c.hook == (0,) and c.other == (50,)


def test_the_schedtrace_check_counts_ids_never_started():
    ms = [M0, *M1, *M2_UNSTARTED, _new(4, t=500), _clone(4, t=510), _start(4, 54, t=600)]
    long_after = dict(t_end=500 + 60_000_000, schedtrace_ms=20)  # (2*20 + 20) ms after the last newm
    c = _one(ms, "sched", schedtrace_threads=5, **long_after)
    assert c.ok and c.conclusive and c.hook == (3, 1, 1) and c.other == (5,)
    assert c.detail == ("hook 3 started (+1 cloned but gone before minit, no tid in the hook) + 1 never started (M3), "
                        "schedtrace threads=5")
    assert c.name == "hook Ms (+ ids never started) == last GODEBUG=schedtrace threads="
    assert not _one(ms, "sched", schedtrace_threads=4, **long_after).ok
    assert not _one(ms, "sched", schedtrace_threads=6, **long_after).ok
    just_short = _one(ms, "sched", schedtrace_threads=4, t_end=500 + 60_000_000 - 1, schedtrace_ms=20)
    assert just_short.ok and not just_short.conclusive
    assert just_short.detail.endswith("; the last SCHED line may predate the last M")
    assert not _one(ms, "sched", schedtrace_threads=6, t_end=500 + 60_000_000 - 1, schedtrace_ms=20).ok
    assert not _one(ms, "sched", schedtrace_threads=5, t_end=10**12, schedtrace_ms=0).conclusive
    assert _one(ms, "sched", schedtrace_threads=5, t_end=10**12, schedtrace_ms=1).conclusive
    assert _one(ms, "sched", schedtrace_threads=5, t_end=600, schedtrace_ms=20).ok  # as many as known, early
    gaps = _one([M0, _new(3, t=100), _start(3, 53)], "sched", schedtrace_threads=4, **long_after)
    assert gaps.ok and gaps.detail == "hook 2 started + 2 never started (M1, M2), schedtrace threads=4"


def test_the_schedtrace_check_without_a_newm_times_from_the_first_record():
    c = _one([M0], "sched", schedtrace_threads=1, t0=0, t_end=60_000_000, schedtrace_ms=20)
    assert c.ok and c.conclusive and c.detail == "hook 1 started, schedtrace threads=1"
    assert not _one([M0], "sched", schedtrace_threads=1, t0=1, t_end=60_000_000, schedtrace_ms=20).conclusive
    empty = _one([], "sched", schedtrace_threads=0, t_end=10**12, schedtrace_ms=20)
    assert empty.ok and empty.hook == (0, 0, 0)


def test_the_schedtrace_check_runs_only_when_schedtrace_did():
    assert len(threads.cross_checks(_report(threads.ms_from_records([M0])))) == 3
    assert len(threads.cross_checks(_report(threads.ms_from_records([M0]), schedtrace_threads=1))) == 4
    assert crosscheck.__all__ == ["CrossCheck", "cross_checks"]


# ---------------------------------------------------------------------------
# the splices, on a made-up runtime

PROC_GO = """package runtime

import (
	"internal/abi"
	"internal/runtime/atomic"
)

func main() {
	mp := getg().m
	gcenable()
	fn := main_main
	fn()
	exit(0)
}

func newm(fn func(), pp *p, id int64) {
	mp := allocm(pp, fn, id)
	newm1(mp)
}

func newm1(mp *m) {
	newosproc(mp)
}

func mstart1() {
	gp := getg()
	minit()
	schedule()
}

func os_beforeExit(exitCode int) {
	runExitHooks(exitCode)
}
"""
OS_LINUX_GO = """package runtime

import (
	"internal/runtime/syscall/linux"
	"unsafe"
)
"""


def _goroot(tmp_path: Path, proc_go: str = PROC_GO, *, version="go1.26.4", goos="linux", goarch="amd64",
            os_linux: str = OS_LINUX_GO) -> GoToolchain:
    runtime = tmp_path / "goroot" / "src" / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    (runtime / "proc.go").write_text(proc_go)
    (runtime / "os_linux.go").write_text(os_linux)
    return GoToolchain(go="/nonexistent/go", goroot=str(tmp_path / "goroot"), version=version, goos=goos,
                       goarch=goarch, source="test")


def test_patch_appends_each_call_to_its_anchor_line(tmp_path, private_cache):
    tc = _goroot(tmp_path)
    p = threads.patch(tc)
    original = PROC_GO.split("\n")
    proc_go = str(tc.src("runtime", "proc.go"))
    patched = Path(dict(p.replace)[proc_go]).read_text().split("\n")
    assert p.go_version == "go1.26.4" and len(patched) == len(original)
    assert p.spliced == (("gorunkitThreadsNew(mp)", 17), ("gorunkitThreadsClone(mp)", 21),
                         ("gorunkitThreadsStart()", 27), ("gorunkitExecTraceStart()", 10),
                         ("gorunkitExecTraceStop()", 12), ("gorunkitExecTraceStop()", 31))
    assert patched[16] == "\tmp := allocm(pp, fn, id); gorunkitThreadsNew(mp)"
    assert patched[20] == "func newm1(mp *m) { gorunkitThreadsClone(mp)"  # a func line gets no ';'
    assert patched[26] == "\tminit(); gorunkitThreadsStart()"
    assert patched[9] == "\tgcenable(); gorunkitExecTraceStart()"
    assert patched[11] == "\tfn(); gorunkitExecTraceStop()"
    assert patched[30] == "func os_beforeExit(exitCode int) { gorunkitExecTraceStop()"
    assert [i for i, (a, b) in enumerate(zip(original, patched)) if a != b] == [9, 11, 16, 20, 26, 30]
    # every added file is mapped into GOROOT/src/runtime from the cache, GOROOT untouched
    names = {Path(k).name: Path(v) for k, v in p.replace}
    assert set(names) == {"proc.go", hook.HOOK_FILE, hook.EXT_FILE, hook.EXECTRACE_FILE}
    assert all(Path(k).parent == tc.src("runtime") for k, _ in p.replace)
    assert all(private_cache / "threads" in v.parents and v.name == name for name, v in names.items())
    assert sorted(os.listdir(tc.src("runtime"))) == ["os_linux.go", "proc.go"]
    assert json.loads(Path(p.overlay).read_text())["Replace"] == {k: v for k, v in p.replace}
    # the templates get this release's names and import paths
    hook_src = names[hook.HOOK_FILE].read_text()
    assert f'"{threads.ENV}"' in hook_src and '"internal/runtime/atomic"' in hook_src
    assert '"internal/runtime/syscall/linux"' in hook_src and "@" not in hook_src.replace("@@", "")
    exectrace_src = names[hook.EXECTRACE_FILE].read_text()
    assert f'"{threads.EXECTRACE_ENV}"' in exectrace_src and f'"{threads.ENV}"' not in exectrace_src
    assert names[hook.EXT_FILE].read_text() == threads.default_extension()
    assert "func gorunkitExtendNew" in threads.default_extension()


def test_the_import_paths_of_older_releases_are_found_too(tmp_path, private_cache):
    older = PROC_GO.replace('"internal/runtime/atomic"', '"runtime/internal/atomic"')
    tc = _goroot(tmp_path, older, version="go1.22.12",
                 os_linux='package runtime\n\nimport "runtime/internal/syscall"\n')
    hook_src = Path(dict(threads.patch(tc).replace)[str(tc.src("runtime", hook.HOOK_FILE))]).read_text()
    assert '"runtime/internal/atomic"' in hook_src and '"runtime/internal/syscall"' in hook_src
    # the atomic import may sit in os_linux.go instead, under a name
    moved = _goroot(tmp_path / "b", PROC_GO.replace('\t"internal/runtime/atomic"\n', ""),
                    os_linux=OS_LINUX_GO.replace('"unsafe"', 'rtatomic "internal/runtime/atomic"'))
    assert '"internal/runtime/atomic"' in Path(dict(threads.patch(moved).replace)[
        str(moved.src("runtime", hook.HOOK_FILE))]).read_text()


def test_an_extension_replaces_the_extension_file_and_must_be_package_runtime(tmp_path, private_cache):
    tc = _goroot(tmp_path)
    ext = "// mine\npackage runtime\n\nfunc gorunkitExtendNew(mp *m) {}\n"
    p = threads.patch(tc, extension=ext)
    assert Path(dict(p.replace)[str(tc.src("runtime", hook.EXT_FILE))]).read_text() == ext
    for bad in ("package main\n", "package runtimex\n", "// package runtime\n"):
        with pytest.raises(ValueError, match=r"extension: the Go source must start with 'package runtime' \(start "
                                             r"from gorun_kit.threads.default_extension\(\) and edit its two functions"):
            threads.patch(tc, extension=bad)


@pytest.mark.parametrize("kw,says", [
    (dict(version="go1.21.9"), "Go 1.21 is not a supported release"),
    (dict(version="go1.28rc1"), "Go 1.28 is not a supported release"),
    (dict(goos="darwin"), "needs linux/amd64, not darwin/amd64"),
    (dict(goarch="arm64"), "needs linux/amd64, not linux/arm64"),
])
def test_an_unsupported_toolchain_is_named_with_the_supported_releases(tmp_path, kw, says):
    tc = _goroot(tmp_path, **kw)
    with pytest.raises(threads.UnsupportedRelease) as info:
        threads.patch(tc)
    msg = str(info.value)
    assert says in msg and tc.version in msg and tc.goroot in msg
    assert "Supported releases: Go 1.22, 1.23, 1.24, 1.25, 1.26, 1.27 on linux/amd64" in msg
    assert "goreleases.install('1.27')" in msg
    assert info.value.version == tc.version


def test_a_goroot_without_proc_go_or_already_patched_is_refused(tmp_path):
    tc = _goroot(tmp_path)
    for name in (hook.HOOK_FILE, hook.EXT_FILE, hook.EXECTRACE_FILE):
        extra = tc.src("runtime", name)
        extra.write_text("package runtime\n")
        with pytest.raises(threads.UnsupportedRelease, match=f"already has runtime/{name}"):
            threads.patch(tc)
        extra.unlink()
    tc.src("runtime", "proc.go").unlink()
    with pytest.raises(threads.UnsupportedRelease, match="proc.go is missing"):
        threads.patch(tc)


@pytest.mark.parametrize("edit,says", [
    (lambda t: t.replace("func newm1(mp *m) {", "func newm1(mp *m, n int) {"),
     "proc.go has 0 functions matching '^func newm1"),
    (lambda t: t + "\nfunc mstart1() {\n}\n", "proc.go has 2 functions matching '^func mstart1"),
    (lambda t: t.replace("\tminit()\n", "\tminit2()\n"), "proc.go: func mstart1() { has 0 lines matching"),
    (lambda t: t.replace("\tminit()\n", "\tminit()\n\tminit()\n"), "proc.go: func mstart1() { has 2 lines matching"),
    (lambda t: t.replace("\tgcenable()\n", ""), "proc.go: func main() { has 0 lines matching"),
    (lambda t: t.replace("func os_beforeExit(exitCode int) {\n\trunExitHooks(exitCode)\n}\n",
                         "func os_beforeExit(exitCode int) {\n\trunExitHooks(exitCode)\n"),
     "function at proc.go:31 has no closing brace"),
])
def test_a_runtime_without_an_anchor_is_refused_naming_the_release(tmp_path, edit, says):
    tc = _goroot(tmp_path, edit(PROC_GO))
    with pytest.raises(threads.UnsupportedRelease) as info:
        threads.patch(tc)
    assert says in str(info.value) and "go1.26.4" in str(info.value)
    assert "(need one)" in str(info.value) or "no closing brace" in str(info.value)


def test_an_anchor_is_looked_for_only_inside_its_function(tmp_path):
    # minit() after mstart1's closing brace is not mstart1's
    moved = PROC_GO.replace("\tminit()\n", "").replace("func os_beforeExit",
                                                        "func other() {\n\tminit()\n}\n\nfunc os_beforeExit")
    with pytest.raises(threads.UnsupportedRelease, match="0 lines matching"):
        threads.patch(_goroot(tmp_path, moved))


def test_functions_without_blank_lines_between_them_are_found(tmp_path, private_cache):
    tight = PROC_GO.replace("}\n\nfunc", "}\nfunc")
    p = threads.patch(_goroot(tmp_path, tight))
    assert [line for _, line in p.spliced] == [16, 19, 24, 10, 12, 27]
    # a matching line in an earlier function is not the anchor
    before = PROC_GO.replace("func mstart1() {", "func prior() {\n\tminit()\n}\n\nfunc mstart1() {")
    assert threads.patch(_goroot(tmp_path / "b", before)).spliced[2] == ("gorunkitThreadsStart()", 31)


def test_a_runtime_without_the_imports_the_hook_needs_is_refused(tmp_path):
    tc = _goroot(tmp_path, PROC_GO.replace('\t"internal/runtime/atomic"\n', ""))
    with pytest.raises(threads.UnsupportedRelease,
                       match=r"no import matching .*atomic.* in runtime/proc.go, os_linux.go"):
        threads.patch(tc)
    tc = _goroot(tmp_path / "b", os_linux="package runtime\n")
    with pytest.raises(threads.UnsupportedRelease, match=r"in runtime/os_linux.go"):
        threads.patch(tc)


def test_build_refuses_a_missing_program_before_patching(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.go' does not exist"):
        threads.build(tmp_path / "nope.go", go=_goroot(tmp_path, version="go1.9"))


def test_build_turns_cgo_on_for_programs_that_import_c(tmp_path, private_cache, monkeypatch):
    seen = []
    monkeypatch.setattr(hook, "build_go", lambda src, **kw: seen.append((src, kw)) or "built")
    tc = _goroot(tmp_path)
    pure = tmp_path / "pure.go"
    pure.write_text('package main\n\n// import "C" in a comment\nimport "fmt"\n')
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.go").write_text("package main\n")
    (pkg / "b.go").write_text('package main\n\n/*\n#include <stdio.h>\n*/\nimport "C"\n')
    assert threads.build(pure, go=tc) == "built"
    threads.build(pkg, go=tc)
    threads.build(pkg, go=tc, cgo=False)
    threads.build(pure, go=tc, cgo=True, gocache=tmp_path / "gc")
    cfile = tmp_path / "c.go"
    cfile.write_bytes(b'package main\n\n// caf\xe9 in Latin-1\nimport "C"\n')
    threads.build(cfile, go=tc)
    assert [kw["cgo"] for _, kw in seen] == [False, True, False, True, True]
    assert seen[3][1]["gocache"] == tmp_path / "gc" and seen[0][1]["go"] is tc
    assert seen[0][1]["overlay"] == threads.patch(tc).overlay and seen[0][0] == pure
    threads.build(pkg, go=tc, extension="package runtime\n// other\n")
    assert seen[-1][1]["overlay"] != seen[0][1]["overlay"]
    monkeypatch.setenv("HOME", str(tmp_path))
    threads.build("~/pure.go", go=tc)
    assert seen[-1][0] == pure


def test_the_seed_patch_goes_at_the_end_of_newm1(tmp_path, private_cache, monkeypatch):
    seen = []
    monkeypatch.setattr(hook, "build_go", lambda src, **kw: seen.append((src, kw)) or "built")
    tc = _goroot(tmp_path)
    assert threads.seed_patch_attempt(tmp_path / "p.go", go=tc) == "built"
    replace = json.loads(Path(seen[0][1]["overlay"]).read_text())["Replace"]
    assert list(replace) == [str(tc.src("runtime", "proc.go"))] and Path(list(replace.values())[0]).name == "proc.go"
    patched = Path(replace[str(tc.src("runtime", "proc.go"))]).read_text()
    assert "func newm1(mp *m) {\n\tnewosproc(mp)\n\ttraceThreadCreate(mp)\n}\n" in patched
    assert patched.endswith("\n" + threads.SEED_PATCH) and seen[0][0] == tmp_path / "p.go" and seen[0][1]["go"] is tc
    assert threads.SEED_PATCH.startswith("func traceThreadCreate(mp *m) {\n") and "openat(" in threads.SEED_PATCH
    # an empty newm1: the call goes on its own closing line, not a later function's
    empty = _goroot(tmp_path / "b",
                    PROC_GO.replace("func newm1(mp *m) {\n\tnewosproc(mp)\n}", "func newm1(mp *m) {\n}"))
    threads.seed_patch_attempt(tmp_path / "p.go", go=empty)
    patched = Path(json.loads(Path(seen[1][1]["overlay"]).read_text())["Replace"][str(empty.src("runtime", "proc.go"))])
    assert "func newm1(mp *m) {\n\ttraceThreadCreate(mp)\n}\n\nfunc mstart1" in patched.read_text()
    with pytest.raises(threads.UnsupportedRelease, match="go1.26.4.*0 functions matching"):
        threads.seed_patch_attempt(tmp_path / "p.go", go=_goroot(tmp_path / "c", PROC_GO.replace("func newm1", "func newm2")))


# ---------------------------------------------------------------------------
# the scheduler readers, on a made-up GOROOT

RUNTIME2_OLD = "package runtime\n\nconst (\n\t_Pidle = iota\n\t_Prunning\n\t_Psyscall\n\t_Pgcstop\n\t_Pdead\n)\n"
RETAKE_OLD = """package runtime

func retake(now int64) uint32 {
	for i := 0; i < len(allp); i++ {
		s := pp.status
		if s == _Psyscall {
			if atomic.Cas(&pp.status, s, _Pidle) {
				n++
				handoffp(pp)
			}
		}
	}
	return uint32(n)
}
"""
RETAKE_NEW = """package runtime

func retake(now int64) uint32 {
	for i := 0; i < len(allp); i++ {
		if pp.status != _Prunning {
			continue
		}
		thread, ok := setBlockOnExitSyscall(pp)
		if ok {
			thread.takeP()
			handoffp(pp)
		}
	}
	return 0
}

func setBlockOnExitSyscall(pp *p) (t syscallThread, ok bool) {
	if status := gp.atomicstatus.Load(); status != _Gsyscall {
		return
	}
	return
}
"""


def _source_root(tmp_path: Path, proc_go: str, runtime2: str) -> GoToolchain:
    tc = _goroot(tmp_path, proc_go, version="go1.99.1")
    tc.src("runtime", "runtime2.go").write_text(runtime2)
    tc.src("runtime", "os_windows.go").write_text("package runtime\n\nconst (\n\t_Pidle = 7\n)\n")
    return tc


def test_retake_of_an_older_release_parks_the_p_in_psyscall(tmp_path):
    r = scheduler.syscall_retake(_source_root(tmp_path, RETAKE_OLD, RUNTIME2_OLD))
    assert r.style == "p-state" and r.go_version == "go1.99.1"
    assert [c.text for c in r.p_states] == ["_Pidle = iota", "_Prunning", "_Psyscall", "_Pgcstop", "_Pdead"]
    assert all(c.file == "src/runtime/runtime2.go" for c in r.p_states)
    assert [(what, c.line, c.text) for what, c in r.steps] == [
        ("retake looks for Ps in _Psyscall", 6, "if s == _Psyscall {"),
        ("take the P by moving it to _Pidle", 7, "if atomic.Cas(&pp.status, s, _Pidle) {"),
        ("hand it on: handoffp -> startm -> (newm if no idle M)", 9, "handoffp(pp)")]
    assert all(c.symbol == "runtime.retake" and c.file == "src/runtime/proc.go" for _, c in r.steps)


def test_retake_of_a_newer_release_looks_at_the_goroutine(tmp_path):
    runtime2 = RUNTIME2_OLD.replace("_Psyscall\n", "_Psyscall_unused\n")
    r = scheduler.syscall_retake(_source_root(tmp_path, RETAKE_NEW, runtime2))
    assert r.style == "goroutine-state"
    assert [(c.line, c.symbol, c.text) for _, c in r.steps] == [
        (5, "runtime.retake", "if pp.status != _Prunning {"),
        (8, "runtime.retake", "thread, ok := setBlockOnExitSyscall(pp)"),
        (18, "runtime.setBlockOnExitSyscall", "if status := gp.atomicstatus.Load(); status != _Gsyscall {"),
        (10, "runtime.retake", "thread.takeP()"),
        (11, "runtime.retake", "handoffp(pp)")]
    assert [what for what, _ in r.steps] == [
        "retake skips every P that is not _Prunning", "for a running P, ask whether its goroutine is in a syscall",
        "the test is on the goroutine's state, not the P's", "take the P from the thread in the syscall",
        "hand it on: handoffp -> startm -> (newm if no idle M)"]
    assert r.go_version == "go1.99.1" and all(c.go_version == "go1.99.1" for _, c in r.steps)
    with pytest.raises(goroot.SourceNotFound, match="go1.99.1 has no _Psyscall_unused next to "
                                                    "setBlockOnExitSyscall: the P states changed"):
        scheduler.syscall_retake(_source_root(tmp_path / "b", RETAKE_NEW, RUNTIME2_OLD))
    with pytest.raises(goroot.SourceNotFound) as info:
        scheduler.syscall_retake(_source_root(tmp_path / "c", RETAKE_NEW.replace("thread.takeP()", "grab()"), runtime2))
    assert "runtime.retake (src/runtime/proc.go:3) has no line matching 'thread\\\\.takeP\\\\(\\\\)'" in str(info.value)
    assert "go1.99.1: the retake mechanism changed" in str(info.value)


def test_hook_diff_is_a_unified_diff_of_the_splices(tmp_path, private_cache):
    tc = _goroot(tmp_path)
    diff = scheduler.hook_diff(threads.patch(tc), go=tc, context=0)
    lines = diff.splitlines()
    assert lines[:2] == ["--- src/runtime/proc.go (go1.26.4)", "+++ src/runtime/proc.go (with the hook)"]
    assert "+\tminit(); gorunkitThreadsStart()" in lines and "-\tminit()" in lines
    assert sum(line.startswith("@@") for line in lines) == 6 and len(lines) == 2 + 6 * 3
    wider = scheduler.hook_diff(threads.patch(tc), go=tc)
    assert "\tgp := getg()\n" in wider and "\tgp := getg()\n" not in diff
    assert sum(line.startswith("@@") for line in wider.splitlines()) == 2  # two lines of context: two hunks
    no_proc = dataclasses.replace(threads.patch(tc), replace=(("/x/src/runtime/other.go", "/y"),))
    with pytest.raises(ValueError, match="^this patch does not replace runtime/proc.go$"):
        scheduler.hook_diff(no_proc, go=tc)
    elsewhere = _goroot(tmp_path / "b", version="go1.25.1")
    with pytest.raises(ValueError, match="go1.26.4.*not go1.25.1.*: pass the patch's toolchain as go=$"):
        scheduler.hook_diff(threads.patch(tc), go=elsewhere)


OBJDUMP = """
bin:     file format elf64-x86-64

Disassembly of section .text:

0000000000401000 <runtime.gorunkitThreadsStart>:
  401000:\tcall   402000 <runtime.(*gorunkitLine).flush>
  401005:\tcall   403010 <runtime.write1.abi0+0x10>
  40100a:\tcall   402000 <runtime.(*gorunkitLine).flush>
  40100f:\tmov    %rax,%rbx
  401012:\tjmp    404000 <runtime.mallocgc>

0000000000402000 <runtime.(*gorunkitLine).flush>:
  402000:\tret

0000000000405000 <runtime.gorunkitExecTraceStart>:
  405000:\tcall   406000 <runtime.mallocgc>

0000000000407000 <runtime.other>:
  407000:\tcall   406000 <runtime.mallocgc>
"""


def test_hook_calls_reads_the_direct_calls_of_each_hook_function(tmp_path, monkeypatch):
    fake_objdump(tmp_path, monkeypatch, OBJDUMP)
    assert scheduler.hook_calls(tmp_path / "bin.exe") == {
        "runtime.gorunkitThreadsStart": ("runtime.(*gorunkitLine).flush", "runtime.write1.abi0"),
        "runtime.(*gorunkitLine).flush": ()}
    assert (tmp_path / "args.txt").read_text() == f"-d --no-show-raw-insn {tmp_path / 'bin.exe'}\n"
    assert scheduler.hook_calls("x", exclude="") == {
        "runtime.gorunkitThreadsStart": ("runtime.(*gorunkitLine).flush", "runtime.write1.abi0"),
        "runtime.(*gorunkitLine).flush": (), "runtime.gorunkitExecTraceStart": ("runtime.mallocgc",)}
    assert scheduler.hook_calls("x", prefix="other") == {"runtime.other": ("runtime.mallocgc",)}
    with pytest.raises(ValueError, match="x: no function whose symbol contains 'nothing'"):
        scheduler.hook_calls("x", prefix="nothing")


def test_a_failing_objdump_is_an_error_not_an_empty_answer(tmp_path, monkeypatch):
    import subprocess
    fake_objdump(tmp_path, monkeypatch, OBJDUMP)
    (tmp_path / "bin" / "objdump").write_text("#!/bin/sh\necho 'objdump: x: file format not recognized' >&2\nexit 1\n")
    with pytest.raises(subprocess.CalledProcessError):
        scheduler.hook_calls("x")


def test_hook_calls_needs_objdump(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    from gorun_kit.binary import ToolchainMissing
    with pytest.raises(ToolchainMissing, match="objdump") as info:
        scheduler.hook_calls("x")
    assert "looked for objdump on PATH; it comes with binutils" in str(info.value)


def test_allocator_calls_match_whole_names_only():
    for name in ("runtime.mallocgcSmallNoscan", "runtime.makeslicecopy", "runtime.convTstring", "runtime.rawstring",
                 "runtime.rawbyteslice", "runtime.slicebytetostring", "runtime.stringtoslicebyte",
                 "runtime.gcWriteBarrier.abi0", "runtime.newobject", "runtime.growslice", "runtime.concatstrings"):
        assert scheduler.ALLOCATOR_CALLS.match(name), name
    for name in ("runtime.newobjectx", "xruntime.newobject", "runtime.mallocgc.abi1", "main.growslice",
                 "runtime.newproc", "runtime.growslice.abi0x"):
        assert not scheduler.ALLOCATOR_CALLS.match(name), name


# ---------------------------------------------------------------------------
# thread roles, on a made-up /proc and binary

M_LAYOUT = {"g0": 0, "procid": 0x48, "id": 0xe8, "park": 0x168}
SCHED_LAYOUT = {"lock": 0, "midle": 0x10, "sysmonnote": 0x90, "sysmonwait": 0x98}
SYMBOLS = (Symbol("runtime.sched", 0x600000, 0x400, "object", "runtime", True),
           Symbol("runtime.m0", 0x610000, 0x400, "object", "runtime", True),
           Symbol("runtime.allp", 0x620000, 0x18, "object", "runtime", True))
HEAP_M = 0xc000100000  # an m on the heap whose procid is 104


def _fake_proc(tmp_path: Path, monkeypatch, pid: int, tasks: dict[int, tuple[str, str | None, str]]) -> None:
    """/proc/<pid>/task/<tid>/{stat,syscall,wchan} and /proc/<pid>/mem for ``tasks``:
    tid -> (state, syscall text or None for unreadable, wchan)."""
    root = tmp_path / "proc"
    for tid, (state, syscall, wchan) in tasks.items():
        d = root / str(pid) / "task" / str(tid)
        d.mkdir(parents=True)
        (d / "stat").write_text(f"{tid} (my prog) {state} 1 {pid} 0 0\n")
        if syscall is not None:
            (d / "syscall").write_text(syscall + "\n")
        (d / "wchan").write_text(wchan)
    mem = bytearray(0x200)
    mem[0x48:0x50] = (104).to_bytes(8, "little")
    mem[0xe8:0xf0] = (5).to_bytes(8, "little")
    (root / str(pid) / "mem").write_bytes(bytes(mem))
    monkeypatch.setattr(procfs, "_ROOT", root)
    real_read_word = procfs.read_word
    # the made-up mem file holds the m at HEAP_M from offset 0
    monkeypatch.setattr(procfs, "read_word",
                        lambda p, addr: real_read_word(p, addr - HEAP_M) if addr >= HEAP_M else None)
    monkeypatch.setattr(kit_binary, "read_symbols", lambda path: SYMBOLS if path == "prog" else ())
    layouts = {"runtime.schedt": SCHED_LAYOUT, "runtime.m": M_LAYOUT}
    monkeypatch.setattr(kit_binary, "struct_layouts",
                        lambda path, names: {n: layouts[n] if path == "prog" else {} for n in names})


def _sc(nr: int, *args: int) -> str:
    return " ".join([str(nr), *(hex(a) for a in args), "0x7ffd0000", "0x401000"])


TASKS = {
    100: ("S", _sc(202, 0x610000 + 0x168, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    101: ("S", _sc(202, 0x600000 + 0x90, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    102: ("S", _sc(281, 4, 0x7ffd, 128, 10, 0, 0), "ep_poll"),
    103: ("R", "running", "0"),
    104: ("S", _sc(202, HEAP_M + 0x168, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    105: ("S", _sc(202, HEAP_M + 0x168, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    106: ("S", _sc(230, 1, 0, 0x7ffd, 0, 0, 0), "hrtimer_nanosleep"),
    107: ("S", _sc(202, 0x600000 + 0x10, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    108: ("S", _sc(202, 0x620000 + 8, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    109: ("S", None, "do_wait"),
    110: ("S", "-1 0x7ffd0000 0x401000", "0"),
    111: ("S", _sc(999, 1, 2, 3, 4, 5, 6), "x"),
    112: ("S", _sc(35, 0, 0, 0, 0, 0, 0), "hrtimer_nanosleep"),
    113: ("S", _sc(202, 0x610000 + 0x48, 0x80, 0, 0, 0, 0), "futex_wait_queue"),
    114: ("S", _sc(232, 5, 0x7ffd, 128, 20, 0, 0), "ep_poll"),
    115: ("S", _sc(441, 6, 0x7ffd, 128, 0x7ffe, 0, 0), "ep_poll"),
    116: ("S", _sc(0, 0, 0x7ffd, 1, 0, 0, 0), "pipe_read"),
    117: ("S", _sc(7, 0x7ffd, 1, 10, 0, 0, 0), "do_poll"),
    118: ("S", _sc(61, 5, 0, 0, 0, 0, 0), "do_wait"),
    119: ("S", _sc(247, 1, 5, 0, 4, 0, 0), "do_wait"),
}


def test_read_tasks_names_syscalls_and_keeps_their_arguments(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, 100, TASKS)
    tasks = {t.tid: t for t in proc.read_tasks(100)}
    assert sorted(tasks) == sorted(TASKS)
    assert tasks[100] == proc.Task(100, "my prog", "S", "futex", (0x610168, 0x80, 0, 0, 0, 0), "futex_wait_queue")
    assert (tasks[102].syscall, tasks[102].args) == ("epoll_pwait", (4, 0x7ffd, 128, 10, 0, 0))
    assert (tasks[103].syscall, tasks[103].args, tasks[103].state, tasks[103].wchan) == ("running", (), "R", "0")
    assert tasks[109].syscall.startswith("unreadable: ") and tasks[109].args == ()
    assert (tasks[110].syscall, tasks[110].args) == ("not in a syscall", ())
    assert (tasks[111].syscall, tasks[111].args) == ("999", (1, 2, 3, 4, 5, 6))
    assert tasks[112].syscall == "nanosleep" and tasks[106].syscall == "clock_nanosleep"
    assert [tasks[t].syscall for t in range(114, 120)] == ["epoll_wait", "epoll_pwait2", "read", "poll", "wait4",
                                                          "waitid"]


def test_thread_roles_from_the_futex_address_and_the_syscall(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, 100, TASKS)
    roles = {r.task.tid: r for r in proc.thread_roles(100, "prog")}
    got = {tid: (r.leader, r.role, r.m_id, r.certain) for tid, r in roles.items()}
    assert got == {
        100: (True, "m0, parked (stopm) on m0.park", 0, True),
        101: (False, "sysmon, asleep because every P is idle", None, True),
        102: (False, "waiting in the network poller for the next timer or I/O", None, True),
        103: (False, "running Go code", None, True),
        104: (False, "an idle M, parked (stopm) on its m.park", 5, True),
        105: (False, "waiting on a futex on the heap", None, False),
        106: (False, "probably sysmon between checks (runtime.usleep)", None, False),
        107: (False, "waiting on sched.midle", None, False),
        108: (False, "waiting on runtime.allp", None, False),
        109: (False, "unknown", None, False),
        110: (False, "unknown", None, False),
        111: (False, "unknown", None, False),
        112: (False, "probably sysmon between checks (runtime.usleep)", None, False),
        113: (False, "m0, parked (stopm) on m0.procid", 0, False),
        114: (False, "waiting in the network poller for the next timer or I/O", None, True),
        115: (False, "waiting in the network poller for the next timer or I/O", None, True),
        116: (False, "unknown", None, False),
        117: (False, "unknown", None, False),
        118: (False, "unknown", None, False),
        119: (False, "unknown", None, False),
    }
    assert roles[114].evidence == "epoll_wait(epfd=5, timeout=20 ms): findRunnable's netpoll(delay)"
    assert roles[101].evidence == "futex on 0x600090 = runtime.sched+0x90 (sched.sysmonnote)"
    assert roles[102].evidence == "epoll_pwait(epfd=4, timeout=10 ms): findRunnable's netpoll(delay)"
    assert roles[103].evidence == "state R"
    assert roles[100].evidence == "futex on 0x610168 = runtime.m0+0x168"
    assert roles[104].evidence == (f"futex on heap {HEAP_M + 0x168:#x}; the m at {HEAP_M:#x} has procid 104 = "
                                   "this tid, id 5")
    assert roles[105].evidence == f"futex on heap {HEAP_M + 0x168:#x} (not an m.park whose procid is this thread)"
    assert roles[106].evidence == "clock_nanosleep: only sysmon and a few spin loops sleep this way"
    assert roles[107].evidence == "futex on 0x600010 = runtime.sched+0x10 (sched.midle)"
    assert roles[108].evidence == "futex on 0x620008 inside runtime.allp"
    assert roles[109].evidence.startswith("unreadable: ") and roles[109].evidence.endswith(", wchan do_wait")
    assert roles[111].evidence == "999, wchan x"


def test_the_leader_is_m0_whatever_it_is_doing(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, 101, {k: v for k, v in TASKS.items() if k != 100})
    leader = [r for r in proc.thread_roles(101, "prog") if r.leader]
    assert len(leader) == 1 and leader[0].task.tid == 101
    assert leader[0].role == "main thread (m0); sysmon, asleep because every P is idle" and leader[0].m_id == 0


def test_without_dwarf_a_heap_futex_stays_unknown(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, 100, {100: TASKS[103], 104: TASKS[104], 105: TASKS[107], 106: TASKS[100],
                                            107: ("R", _sc(202, 0x600000, 0, 0, 0, 0, 0), "0"),
                                            108: ("S", "running", "0")})
    monkeypatch.setattr(kit_binary, "struct_layouts", lambda path, names: {"runtime.schedt": {}, "runtime.m": {}})
    roles = {r.task.tid: r for r in proc.thread_roles(100, "prog")}
    assert (roles[104].role, roles[104].m_id, roles[104].certain) == ("unknown", None, False)
    assert roles[104].evidence == "futex, wchan futex_wait_queue"
    assert roles[105].role == "waiting on sched.?" and "(sched.?)" in roles[105].evidence
    assert roles[106].role == "m0, parked (stopm) on m0.?" and not roles[106].certain
    assert roles[107].role == roles[108].role == "running Go code"
    # an m layout without the id field: the M is still recognised, its number is not read
    monkeypatch.setattr(kit_binary, "struct_layouts", lambda path, names: {
        "runtime.schedt": SCHED_LAYOUT, "runtime.m": {"procid": 0x48, "park": 0x168}})
    m = [r for r in proc.thread_roles(100, "prog") if r.task.tid == 104][0]
    assert m.role == "an idle M, parked (stopm) on its m.park" and m.m_id is None and m.certain
    monkeypatch.setattr(kit_binary, "struct_layouts", lambda path, names: {
        "runtime.schedt": SCHED_LAYOUT, "runtime.m": {"park": 0x168}})
    assert [r.role for r in proc.thread_roles(100, "prog") if r.task.tid == 104] == ["unknown"]


def test_a_thread_that_exits_while_listed_is_left_out(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, 100, {100: TASKS[103], 104: TASKS[104]})
    (tmp_path / "proc" / "100" / "task" / "100" / "stat").unlink()
    assert [t.tid for t in proc.read_tasks(100)] == [104]


# ---------------------------------------------------------------------------
# gdb's records, without gdb

def _state(**kw) -> gdb.ThreadState:
    base = dict(tid=10, top="main/x.spin", fs_base=0x1108, tls_g=0xc000, tls_goid=7, m=0x1000, m_id=0, procid=10,
                m_tls=0x1100, g0=0xa0, g0_lo=0x10000, g0_hi=0x14000, curg=0xc000, curg_goid=7,
                curg_status="_Grunning", p_id=0, start_fn="")
    base.update(kw)
    return gdb.ThreadState(**base)


def test_thread_state_roles():
    assert _state(start_fn="runtime.sysmon").role == "sysmon"
    assert _state(start_fn="runtime.templateThread").role == "template thread"
    assert _state(curg_status="_Gsyscall").role == "in a syscall (g7)"
    assert _state().role == "running g7, stopped in x.spin"
    assert _state(tls_g=0xa0).role == "scheduling (on g0)" and _state(tls_g=0xa0).on_g0
    assert _state(curg_goid=0, p_id=-1).role == "idle, no P"
    assert _state(curg_goid=0, p_id=0).role == "scheduling (on g0)"
    assert _state().fs_is_m_tls_plus_8 and not _state(fs_base=0x1100).fs_is_m_tls_plus_8


def test_snapshot_table_has_a_row_per_thread():
    snap = gdb.SchedulerSnapshot("x", 10, (_state(), _state(tid=11, m_id=1, p_id=-1, curg_goid=0, tls_g=0xa0)),
                                 (), None, ())
    rows = snap.table().splitlines()
    assert rows[0].split()[:3] == ["tid", "M", "FS"] and len(rows) == 3
    assert rows[1].split() == ["10", "0", "0x1108", "0x1108", "0x10000..0x14000", "16", "P0", "g7", "running", "g7,",
                               "stopped", "in", "x.spin"]
    assert rows[2].split()[6:] == ["-", "-", "idle,", "no", "P"]


def test_mstart_entry_properties():
    e = gdb.MstartEntry(pid=5, tid=5, rsp=0x1ff8, r14=0xa0, fs_base=0, gs_base=0, tls_g=0xa0, g_m=0, m_g0=0xa0,
                        m_tls=0, g0_stack_lo=0x1000, g0_stack_hi=0x2000, g0_sched_sp=0, g0_sched_pc=0,
                        return_address=0, return_symbol="runtime.clone.abi0")
    assert e.main_thread and e.on_g0 and e.below_stack_hi == 8
    assert not dataclasses.replace(e, tid=6).main_thread and not dataclasses.replace(e, r14=0).on_g0


def test_mstart_entries_checks_its_arguments_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gdb.mstart_entries(tmp_path / "nope")
    exe = tmp_path / "exe"
    exe.write_text("")
    with pytest.raises(ValueError, match="limit=0"):
        gdb.mstart_entries(exe, limit=0)


def test_runtime_offsets_name_a_missing_layout(monkeypatch):
    layouts = {"runtime.g": {"m": 48, "stack": 0, "sched": 56}, "runtime.m": {"g0": 0, "tls": 136},
               "runtime.stack": {"lo": 0, "hi": 8}, "runtime.gobuf": {"sp": 0, "pc": 8}}
    monkeypatch.setattr(kit_binary, "struct_layouts", lambda path, names: {n: layouts[n] for n in names})
    assert gdb.runtime_offsets("exe") == {"g.m": 48, "g.stack": 0, "g.sched": 56, "m.g0": 0, "m.tls": 136,
                                          "stack.lo": 0, "stack.hi": 8, "gobuf.sp": 0, "gobuf.pc": 8}
    assert gdb.runtime_offsets("exe", {"runtime.m": ("tls",)}) == {"m.tls": 136}
    layouts["runtime.m"] = {"g0": 0}
    with pytest.raises(ValueError, match=r"exe: no DWARF layout of runtime.m \(fields \['tls'\]\)"):
        gdb.runtime_offsets("exe")


def test_gdb_probes_refuse_a_binary_without_the_symbols_they_stop_at(tmp_path, monkeypatch):
    exe = tmp_path / "exe"
    exe.write_text("")
    monkeypatch.setattr(kit_binary, "read_symbols", lambda path: SYMBOLS)
    with pytest.raises(ValueError, match="no runtime.mstart in its symbol table"):
        gdb.mstart_entries(exe)
    with pytest.raises(ValueError, match="no main.snapshot, runtime.gogo.abi0, runtime.allm in its symbol table"):
        gdb.snapshot(exe)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gdb.snapshot(tmp_path / "nope")


# ---------------------------------------------------------------------------
# one run's glue: the tracer's events and the SCHED lines into a report

def _spawn(parent_tid, child_tid, child_pid=50, is_thread=True):
    from gorun_kit.trace.records import SpawnEvent
    return SpawnEvent(ts_ns=1, parent_pid=50, parent_tid=parent_tid, child_pid=child_pid, child_tid=child_tid,
                      syscall="clone", flags=0, flag_names=(), exit_signal=None, is_thread=is_thread)


def _exit(ts, tid, pid=50):
    from gorun_kit.trace.records import ExitEvent
    return ExitEvent(ts_ns=ts, pid=pid, tid=tid, exit_code=0, signal=None, last_thread=False)


def _trace(events, tool="tracer"):
    from gorun_kit.trace import Trace
    return Trace(command=("p",), mode="threads", root_pid=50, returncode=3, events=tuple(events), tool=tool,
                 stdout=b"out", stderr=b"SCHED 0ms: gomaxprocs=2 threads=4 idle=1\nerr\n")


def test_a_traced_run_keeps_the_programs_thread_clones_and_a_whole_look_window():
    from gorun_kit.threads import run
    ms = 1_000_000
    events = [_spawn(50, 51), _spawn(51, 52), _spawn(50, 60, child_pid=60, is_thread=False),
              _spawn(60, 61, child_pid=60), _exit(100 * ms, 52), _exit(100 * ms + 10, 51), _exit(100 * ms + 20, 50)]
    looks = [(10 * ms, 10 * ms + 5), (50 * ms, 50 * ms + 5), (100 * ms + 1, 100 * ms + 30)]
    got = run._traced_run("gorun_kit.trace", _trace(events), "records", {50, 51, 52}, looks, 200 * ms)
    assert got.clones == ((50, 51), (51, 52))  # only CLONE_THREAD of the program itself
    assert (got.pid, got.exit_status, got.stdout, got.hook_output, got.tasks, got.t_end) == \
        (50, 3, b"out", "records", (50, 51, 52), 200 * ms)
    assert got.proc_window == (10 * ms, 50 * ms)  # the look that ended during the teardown does not count
    # a thread that ended before the first whole look: the window says nothing
    early = run._traced_run("gorun_kit.trace", _trace([*events, _exit(5 * ms, 53)]), "", set(), looks, 0)
    assert early.proc_window is None
    # strace's times are another clock: every look counts
    st = run._traced_run("strace", _trace(events, tool="strace"), "", set(), looks, 0)
    assert st.proc_window == (10 * ms, 100 * ms + 1) and st.tracer == "strace"
    # an exit as the first look completed, or between the first and the second look, leaves it whole
    for ts in (10 * ms + 5, 20 * ms):
        assert run._traced_run("gorun_kit.trace", _trace([*events, _exit(ts, 53)]), "", set(), looks,
                               0).proc_window == (10 * ms, 50 * ms)
    bare = run._traced_run("gorun_kit.trace", dataclasses.replace(_trace(events), stdout=None, stderr=None), "",
                           set(), looks, 0)
    assert bare.stdout == b"" and bare.stderr == b""
    assert got.stderr == b"SCHED 0ms: gomaxprocs=2 threads=4 idle=1\nerr\n"


def test_the_teardown_begins_at_the_final_burst_of_exits():
    from gorun_kit.threads import run
    ms = 1_000_000
    assert run._teardown_ns([100 * ms]) == 100 * ms
    assert run._teardown_ns([60 * ms, 100 * ms]) == 100 * ms
    assert run._teardown_ns([80 * ms, 100 * ms]) == 100 * ms  # 20 ms apart: not one burst
    assert run._teardown_ns([81 * ms, 100 * ms]) == 81 * ms
    assert run._proc_window([(1, 5), (6, 10), (11, 12)], 10) == (1, 6)  # a look completed as it began counts


def test_the_report_takes_the_sched_lines_out_of_stderr_and_checks_the_run():
    from gorun_kit.threads import run
    text = "\n".join(f"gorunkit-thread v1 {k} " + " ".join(f"{a}={b}" for a, b in r.items() if a != "kind")
                     for r in [M0, *M1] for k in [r["kind"]])
    traced = run.TracedRun(tracer="strace", pid=50, exit_status=1, stdout=b"hi\xff", hook_output=text,
                           stderr=b"SCHED 0ms: gomaxprocs=2 threads=3 x\nboom\nSCHED 20ms: gomaxprocs=2 threads=2 y\nbang\n",
                           clones=((50, 51),), tasks=(50, 51), t_end=10**9, proc_window=(120, 300))
    r = run._report("prog.go", ["a"], "go1.27.3", "/bin/prog", traced, 20)
    assert (r.program, r.args, r.go_version, r.binary, r.pid, r.exit_status) == \
        ("prog.go", ("a",), "go1.27.3", "/bin/prog", 50, 1)
    assert r.stdout == "hi\ufffd" and r.stderr == "boom\nbang\n" and r.schedtrace_threads == 2
    assert r.tracer == "strace" and r.t_end == 10**9 and r.traced_threads == ((50, 51),) and r.proc_tasks == (50, 51)
    assert r.t0 == 100 and [m.m for m in r.ms] == [0, 1] and r.schedtrace_ms == 20
    assert [c.verdict for c in r.checks] == ["ok", "ok", "ok", "ok"] and r.ok
    quiet = run._report("p", (), "go", "b", dataclasses.replace(traced, hook_output="", stderr=b"x\n"), 0)
    assert quiet.t0 == 0 and quiet.schedtrace_threads is None and len(quiet.checks) == 3


def test_the_run_environment_adds_schedtrace_to_godebug():
    from gorun_kit.threads import run
    tc = GoToolchain(go="/opt/go/bin/go", goroot="/opt/go", version="go1.27.3", goos="linux", goarch="amd64",
                     source="test")
    env = run._run_env({"GODEBUG": "madvdontneed=1", "PATH": "/bin"}, tc, 20)
    assert env["GODEBUG"] == "madvdontneed=1,schedtrace=20" and env["GOTOOLCHAIN"] == "local"
    assert env["PATH"].startswith("/opt/go/bin")
    assert run._run_env({}, tc, 5)["GODEBUG"] == "schedtrace=5"
    assert run._run_env({"GODEBUG": ",a=1,,b=2,"}, tc, 5)["GODEBUG"] == "a=1,b=2,schedtrace=5"
    assert "GODEBUG" not in run._run_env({}, tc, 0)
    assert run._run_env(None, tc, 0)["PATH"].startswith("/opt/go/bin")


def test_sigurg_senders_are_named_by_their_m():
    from gorun_kit.threads import preempt
    ms = threads.ms_from_records([M0, _new(1, fn="runtime.sysmon"), _start(1, 51), _start(2, 52)])
    r = preempt.PreemptionRun(ms, ((51, 50), (51, 52), (52, 50), (77, 50)), 2)
    assert r.m_of_tid(52).m == 2 and r.m_of_tid(99) is None
    assert r.senders() == {"M1 runtime.sysmon": 2, "M2 none": 1, "tid 77": 1}
    assert r.sysmon.m == 1 and preempt.PreemptionRun(ms[:1], (), 0).sysmon is None


def test_observe_builds_runs_and_reports_with_the_callers_settings(tmp_path, monkeypatch):
    from gorun_kit.threads import run
    tc = GoToolchain(go="/opt/go/bin/go", goroot="/opt/go", version="go1.27.3", goos="linux", goarch="amd64",
                     source="test")
    calls = {}

    class Built:
        path = "/cache/prog"

    def fake_build(program, **kw):
        calls["build"] = (program, kw)
        return Built()

    def fake_run(binary, args, **kw):
        calls["run"] = (binary, args, kw)
        return run.TracedRun(tracer=kw["tracer"], pid=50, exit_status=0, stdout=b"", stderr=b"", hook_output="",
                             clones=(), tasks=(), t_end=1, proc_window=None)

    monkeypatch.setattr(run, "build", fake_build)
    monkeypatch.setattr(run, "run_hooked", fake_run)
    r = threads.observe(tmp_path / "p.go", args=("x",), env={"A": "1"}, go=tc, cgo=True, schedtrace_ms=7,
                        timeout=9, extension="package runtime\n")
    assert calls["build"] == (tmp_path / "p.go", {"go": tc, "cgo": True, "extension": "package runtime\n"})
    binary, args, kw = calls["run"]
    assert (binary, args, kw["timeout"], kw["tracer"]) == ("/cache/prog", ("x",), 9, "gorun_kit.trace")
    assert kw["env"]["A"] == "1" and kw["env"]["GODEBUG"] == "schedtrace=7"
    assert kw["env"]["PATH"].split(os.pathsep)[0] == "/opt/go/bin"  # the program runs with the chosen Go first
    assert (r.program, r.args, r.go_version, r.binary, r.schedtrace_ms) == \
        (os.fspath(tmp_path / "p.go"), ("x",), "go1.27.3", "/cache/prog", 7)
    threads.observe("p.go", go=tc, tracer="strace")
    assert calls["run"][2]["tracer"] == "strace" and calls["run"][2]["timeout"] == 120
    assert calls["run"][2]["env"]["GODEBUG"] == "schedtrace=20"
    assert calls["build"][1] == {"go": tc, "cgo": None, "extension": None}
    threads.observe("p.go", go=tc, tracer="gorun_kit.trace")
    assert calls["run"][2]["tracer"] == "gorun_kit.trace"
    with pytest.raises(ValueError, match=r"^tracer='x': use 'auto', 'gorun_kit.trace', 'strace'$"):
        threads.observe("p.go", go=tc, tracer="x")


def test_observe_idle_waits_for_the_ready_line_and_leaves_nothing(tmp_path, monkeypatch):
    import subprocess
    script = tmp_path / "idle_probe.sh"
    script.write_text("#!/bin/sh\necho ready\nexec sleep 30\n")
    script.chmod(0o755)
    seen = {}

    def roles(pid, executable):
        seen["pid"], seen["exe"] = pid, executable
        seen["tids"] = procfs.tids(pid)
        return ("roles",)

    monkeypatch.setattr(proc, "thread_roles", roles)
    assert proc.observe_idle(script, settle=0.05, timeout=5) == ("roles",)
    assert seen["exe"] == script and seen["tids"] == (seen["pid"],)
    assert subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True).stdout.split() == []
