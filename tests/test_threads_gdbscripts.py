"""gorun_kit/threads/gdbscripts: the scripts gdb runs, run here against a fake
``gdb`` module (tests/fake_gdb.py) and a made-up stopped Go program laid out
with the field offsets of go1.27.3's runtime. The scripts are imported under
their package names, so mutmut reaches them; tests/test_threads_gdb.py and
tests/test_ch04_scheduler.py run them in real gdb."""
from __future__ import annotations

import importlib
import json
import sys

import pytest

import fake_gdb

SCRIPTS = "gorun_kit.threads.gdbscripts"
# go1.27.3 linux/amd64, read from threads_mpg's DWARF by gdb.runtime_offsets
GO1_27 = {"g.m": 48, "g.stack": 0, "g.sched": 56, "g.goid": 152, "g.atomicstatus": 144, "m.g0": 0, "m.tls": 128,
          "m.id": 232, "m.procid": 64, "m.curg": 184, "m.p": 208, "m.mstartfn": 176, "m.alllink": 352,
          "p.id": 0, "p.status": 4, "p.m": 48, "stack.lo": 0, "stack.hi": 8, "gobuf.sp": 0, "gobuf.pc": 8}
# a runtime that moved every field, none at offset 0: the scripts use the offsets they are given
MOVED = {"g.m": 64, "g.stack": 16, "g.sched": 80, "g.goid": 200, "g.atomicstatus": 196, "m.g0": 8, "m.tls": 136,
         "m.id": 240, "m.procid": 72, "m.curg": 192, "m.p": 216, "m.mstartfn": 184, "m.alllink": 360,
         "p.id": 8, "p.status": 12, "p.m": 56, "stack.lo": 8, "stack.hi": 24, "gobuf.sp": 8, "gobuf.pc": 24}
OFFSETS = GO1_27


@pytest.fixture(autouse=True, params=["go1.27.3", "moved"])
def layout(request, monkeypatch):
    """Every test runs with both layouts (``OFFSETS`` is read when a test runs)."""
    monkeypatch.setattr(sys.modules[__name__], "OFFSETS", GO1_27 if request.param == "go1.27.3" else MOVED)


def _tls(m):
    """&m.tls+8: the FS base of m's thread."""
    return m + OFFSETS["m.tls"] + 8


GOGO, SNAPSHOT, MSTART, ALLP, ALLM = 0x4cd060, 0x49c040, 0x47d040, 0x579100, 0x578eb8
SYSMON_FN, SYSMON_CODE, SPINNING_FN, SPINNING_CODE = 0x56e2f8, 0x4538c0, 0x56e258, 0x44c3c0


def _load(name, gdb, monkeypatch, **env):
    """Import gdbscripts/<name>.py as gdb would run it: with ``gdb`` importable and
    gdbsetup.py importable by its bare name; the script runs at import."""
    monkeypatch.setenv("GORUN_KIT_GDB_OFFSETS", json.dumps(OFFSETS))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(sys.modules, "gdb", gdb)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for mod in ("gdbsetup", f"{SCRIPTS}.gdbsetup", f"{SCRIPTS}.{name}"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    setup = importlib.import_module(f"{SCRIPTS}.gdbsetup")
    monkeypatch.setitem(sys.modules, "gdbsetup", setup)
    return importlib.import_module(f"{SCRIPTS}.{name}")


def _printed(capsys, prefix):
    return [json.loads(line[len(prefix) + 1:]) for line in capsys.readouterr().out.splitlines()
            if line.startswith(prefix + " ")]


QUIET = ["set pagination off", "set confirm off", "set language c", "set startup-with-shell off",
         "handle SIGURG nostop noprint pass", "handle SIGPIPE nostop noprint pass",
         "handle SIGCHLD nostop noprint pass", "handle SIGPROF nostop noprint pass"]


# ---------------------------------------------------------------------------
# gdbsetup.py

def test_gdbsetup_quiets_gdb_and_reads_little_endian_words(monkeypatch):
    gdb = fake_gdb.make()
    monkeypatch.setenv("GORUN_KIT_GDB_OFFSETS", '{"m.tls": 136}')
    monkeypatch.setitem(sys.modules, "gdb", gdb)
    monkeypatch.delitem(sys.modules, f"{SCRIPTS}.gdbsetup", raising=False)
    setup = importlib.import_module(f"{SCRIPTS}.gdbsetup")
    assert setup.OFFSETS == {"m.tls": 136}
    setup.quiet_go_session()
    assert gdb.commands == QUIET
    gdb.write(0x1000, 0x0102030405060708)
    gdb.write(0x1008, 0xFFFFFFFFFFFFFFFF)
    assert setup.u64(0x1000) == 0x0102030405060708 and setup.u64(0x1008) == 2**64 - 1
    assert setup.u64(0x1004) == 0xFFFFFFFF01020304  # eight bytes from where it is asked, nothing aligned
    assert gdb.reads[-1] == (0x1004, 8)
    with pytest.raises(fake_gdb.MemoryError):
        setup.u64(0x1009)


# ---------------------------------------------------------------------------
# mstart_entry.py: threads at the first instruction of runtime.mstart

def _mstart_program(gdb, tids):
    """Threads as runtime.clone's child branch leaves them at mstart: FS = &m.tls+8,
    g0 in the TLS slot and R14, rsp = g0.stack.hi-8 holding a return address."""
    for i, tid in enumerate(tids):
        m, g0 = 0xc000100000 + 0x1000 * i, 0xc000200000 + 0x1000 * i
        lo, hi = 0xc000400000 + 0x10000 * i, 0xc000404000 + 0x10000 * i
        fs = m + OFFSETS["m.tls"] + 8
        gdb.write(fs - 8, g0)
        gdb.write(g0 + OFFSETS["g.m"], m)
        gdb.write(m + OFFSETS["m.g0"], g0)
        gdb.write(g0 + OFFSETS["g.stack"] + OFFSETS["stack.lo"], lo)
        gdb.write(g0 + OFFSETS["g.stack"] + OFFSETS["stack.hi"], hi)
        gdb.write(g0 + OFFSETS["g.sched"] + OFFSETS["gobuf.sp"], 0x11 * i)
        gdb.write(g0 + OFFSETS["g.sched"] + OFFSETS["gobuf.pc"], 0x22 * i)
        gdb.write(hi - 8, 0x480700 + i)  # the return address
        gdb.add_thread(tid, {"rsp": hi - 8, "r14": g0, "fs_base": fs, "gs_base": 7 * i})
        gdb.hits.append((MSTART, tid))


def test_mstart_entry_records_each_thread_at_mstart(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _mstart_program(gdb, [100, 101, 102])
    _load("mstart_entry", gdb, monkeypatch, GORUN_KIT_GDB_MSTART=hex(MSTART), GORUN_KIT_GDB_LIMIT="16")
    assert gdb.commands == [*QUIET, "run"] and gdb.exited
    assert [b.location for b in gdb.breakpoints] == [f"*{MSTART:#x}"]
    recs = _printed(capsys, "GORUN_KIT_MSTART")
    assert [r["tid"] for r in recs] == [100, 101, 102] and {r["pid"] for r in recs} == {100}
    assert recs[1] == {"pid": 100, "tid": 101, "rsp": 0xc000413ff8, "r14": 0xc000201000, "fs_base": _tls(0xc000101000),
                       "gs_base": 7, "tls_g": 0xc000201000, "g_m": 0xc000101000, "m_g0": 0xc000201000,
                       "m_tls": _tls(0xc000101000) - 8, "g0_stack_lo": 0xc000410000, "g0_stack_hi": 0xc000414000,
                       "g0_sched_sp": 0x11, "g0_sched_pc": 0x22, "return_address": 0x480701}
    assert list(recs[1]) == ["pid", "tid", "rsp", "r14", "fs_base", "gs_base", "tls_g", "g_m", "m_g0", "m_tls",
                             "g0_stack_lo", "g0_stack_hi", "g0_sched_sp", "g0_sched_pc", "return_address"]
    # the breakpoint never stops the program: stop() answers False, so gdb counts no hit
    assert gdb.breakpoints[0].hit_count == 0 and gdb.breakpoints[0].enabled


def test_mstart_entry_stops_recording_at_the_limit(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _mstart_program(gdb, [100, 101, 102, 103])
    _load("mstart_entry", gdb, monkeypatch, GORUN_KIT_GDB_MSTART=hex(MSTART), GORUN_KIT_GDB_LIMIT="2")
    assert [r["tid"] for r in _printed(capsys, "GORUN_KIT_MSTART")] == [100, 101]
    assert not gdb.breakpoints[0].enabled and gdb.exited


def test_mstart_entry_records_sixteen_threads_without_a_limit(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _mstart_program(gdb, range(100, 118))
    monkeypatch.delenv("GORUN_KIT_GDB_LIMIT", raising=False)
    mod = _load("mstart_entry", gdb, monkeypatch, GORUN_KIT_GDB_MSTART=hex(MSTART))
    assert mod.LIMIT == 16
    assert [r["tid"] for r in _printed(capsys, "GORUN_KIT_MSTART")] == list(range(100, 116))


# ---------------------------------------------------------------------------
# snapshot.py: every thread at the snapshot function, and a new M's first schedule

M0, G0_M0 = 0x57a440, 0x579680  # m0 and its g0 are in the data segment
STACK0 = (0x7ffffffee530, 0x7fffffffe530)


def _m(i):
    return 0x2878b856c008 + 0x800 * i


def _g(n):
    return 0x2878b8604000 + 0x200 * n


def _snapshot_program(gdb, *, with_clone_child=True):
    """threads_mpg at main.snapshot, as gdb found it in a real run (2026-12-01):
    m0 in nanosleep for g8, sysmon idle on g0, M2 and M3 spinning g6/g7 on P2/P3,
    M4 running g1 (main) at main.snapshot on P0, and M5 just cloned by M4 (its
    thread stopped in runtime.clone before it stored g0 at FS-8). allm is newest first."""
    # m, id, procid, g0, g0 stack, curg, curg's status, P held, mstartfn
    ms = [(M0, 0, 100, G0_M0, STACK0, _g(8), 3, None, 0),
          (_m(1), 1, 101, _g(20), (0x2878b8540000, 0x2878b8544000), 0, 0, None, SYSMON_FN),
          (_m(2), 2, 102, _g(21), (0x2878b8548000, 0x2878b854c000), _g(6), 2, 2, SPINNING_FN),
          (_m(3), 3, 103, _g(22), (0x2878b8550000, 0x2878b8554000), _g(7), 2, 3, 0),
          (_m(4), 4, 104, _g(23), (0x2878b8558000, 0x2878b855c000), _g(1), 2, 0, SPINNING_FN)]
    if with_clone_child:
        ms.append((_m(5), 5, 0, _g(24), (0x2878b8560000, 0x2878b8564000), 0, 0, None, SPINNING_FN))
    ps = {0: 0x2878b8700000, 1: 0x2878b8704000, 2: 0x2878b8708000, 3: 0x2878b870c000}
    holder = {p: m for m, _, _, _, _, _, _, p, _ in ms if p is not None}
    gdb.write(ALLM, ms[-1][0])
    for (m, mid, procid, g0, (lo, hi), curg, status, p, fn), older in zip(ms, [0, *[x[0] for x in ms]]):
        gdb.write(m + OFFSETS["m.alllink"], older)
        gdb.write(m + OFFSETS["m.g0"], g0)
        gdb.write(m + OFFSETS["m.id"], mid)
        gdb.write(m + OFFSETS["m.procid"], procid)
        gdb.write(m + OFFSETS["m.curg"], curg)
        gdb.write(m + OFFSETS["m.p"], 0 if p is None else ps[p])
        gdb.write(m + OFFSETS["m.mstartfn"], fn)
        gdb.write(m + OFFSETS["m.tls"], 0)  # the TLS slot, written below for the threads that have one
        gdb.write(g0 + OFFSETS["g.m"], m)
        gdb.write(g0 + OFFSETS["g.goid"], 0)
        gdb.write(g0 + OFFSETS["g.atomicstatus"], 0, 4)
        gdb.write(g0 + OFFSETS["g.stack"] + OFFSETS["stack.lo"], lo)
        gdb.write(g0 + OFFSETS["g.stack"] + OFFSETS["stack.hi"], hi)
        if curg:
            gdb.write(curg + OFFSETS["g.m"], m)
            gdb.write(curg + OFFSETS["g.goid"], (curg - _g(0)) // 0x200)
            gdb.write(curg + OFFSETS["g.atomicstatus"], status, 4)
    gdb.write(SYSMON_FN, SYSMON_CODE)
    gdb.write(SPINNING_FN, SPINNING_CODE)
    for i, pp in ps.items():
        gdb.write(pp + OFFSETS["p.id"], i, 4)
        gdb.write(pp + OFFSETS["p.status"], 0 if i == 1 else 1, 4)
        gdb.write(pp + OFFSETS["p.m"], holder.get(i, 0))
    gdb.write(ALLP, 0x2878b8720000)
    gdb.write(ALLP + 8, len(ps))
    gdb.write(ALLP + 16, 8)  # cap
    for i, pp in ps.items():
        gdb.write(0x2878b8720000 + 8 * i, pp)
    # the threads: FS base = &m.tls+8; the TLS slot holds the g each runs as
    tls = {100: _g(8), 101: _g(20), 102: _g(6), 103: _g(7), 104: _g(1), 105: 0}
    frames = {100: ("internal/runtime/syscall/linux.Syscall6", "syscall.RawSyscall6", "syscall.Nanosleep"),
              101: ("runtime.usleep", "runtime.sysmon", "runtime.mstart1"),
              102: ("main.spin", "main.main.gowrap1", "runtime.goexit"),
              103: (0x49bfb1, "main.spin"),
              104: ("main.snapshot", "main.main"),
              105: ("runtime.clone", 0)}
    for (m, *_), tid in zip(ms, tls):
        gdb.write(m + OFFSETS["m.tls"], tls[tid])
        gdb.add_thread(tid, {"fs_base": m + OFFSETS["m.tls"] + 8}, frames[tid])


SCHEDULE_FRAMES = ["runtime.gogo", "runtime.execute", "runtime.schedule", "runtime.mstart1", "runtime.mstart0",
                   "runtime.mstart", "runtime.clone", 0x2878b8540000, 0]


def _run_snapshot(gdb, monkeypatch):
    return _load("snapshot", gdb, monkeypatch, GORUN_KIT_GDB_SNAPSHOT=hex(SNAPSHOT), GORUN_KIT_GDB_GOGO=hex(GOGO),
                 GORUN_KIT_GDB_ALLP=hex(ALLP), GORUN_KIT_GDB_ALLM=hex(ALLM))


def test_snapshot_reads_every_thread_its_m_and_every_p(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.current = gdb.inferior._threads[1]  # the thread gdb had selected when it stopped
    gdb.inferior._threads[2].frames = SCHEDULE_FRAMES
    # m0 reaches gogo first (ignored), then M2 (recorded), then M3 (the probe is off by then);
    # M4 stops at main.snapshot, and a second arrival there comes after the read
    gdb.hits[:] = [(GOGO, 100), (GOGO, 102), (GOGO, 103), (SNAPSHOT, 104), (SNAPSHOT, 102)]
    mod = _run_snapshot(gdb, monkeypatch)
    gogo, at = gdb.breakpoints
    assert (gogo.location, at.location) == (f"*{GOGO:#x}", f"*{SNAPSHOT:#x}")
    assert gdb.commands == [*QUIET, "run", "continue"] and gdb.exited
    assert not gogo.enabled and not at.enabled and at.hit_count == 1 and gogo.hit_count == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[0] for line in out] == ["GORUN_KIT_SCHEDULE", "GORUN_KIT_SNAPSHOT"]
    sched = json.loads(out[0].split(" ", 1)[1])
    assert sched == {"tid": 102, "frames": SCHEDULE_FRAMES[:7] + ["0x2878b8540000", "0x0"]}
    snap = json.loads(out[1].split(" ", 1)[1])
    assert snap["pid"] == 100 and [t["tid"] for t in snap["threads"]] == [100, 101, 102, 103, 104, 105]
    t = {r["tid"]: r for r in snap["threads"]}
    assert t[100] == {"tid": 100, "fs_base": _tls(M0), "tls_g": _g(8), "tls_goid": 8, "m": M0,
                      "top": "internal/runtime/syscall/linux.Syscall6", "m_id": 0, "procid": 100, "m_tls": _tls(M0) - 8,
                      "g0": G0_M0, "g0_lo": STACK0[0], "g0_hi": STACK0[1], "curg": _g(8), "curg_goid": 8,
                      "curg_status": 3, "p": 0, "p_id": -1, "mstartfn": 0}
    assert t[101] == {"tid": 101, "fs_base": _tls(_m(1)), "tls_g": _g(20), "tls_goid": 0, "m": _m(1),
                      "top": "runtime.usleep", "m_id": 1, "procid": 101, "m_tls": _tls(_m(1)) - 8, "g0": _g(20),
                      "g0_lo": 0x2878b8540000, "g0_hi": 0x2878b8544000, "curg": 0, "curg_goid": 0, "curg_status": 0,
                      "p": 0, "p_id": -1, "mstartfn": SYSMON_CODE}
    assert (t[102]["curg_goid"], t[102]["curg_status"], t[102]["p"], t[102]["p_id"]) == (6, 2, 0x2878b8708000, 2)
    assert t[103]["top"] == "0x49bfb1" and t[103]["p_id"] == 3 and t[103]["mstartfn"] == 0
    assert (t[104]["top"], t[104]["tls_goid"], t[104]["p_id"], t[104]["mstartfn"]) == ("main.snapshot", 1, 0,
                                                                                     SPINNING_CODE)
    # the thread still in runtime.clone: nothing at FS-8, its M found on allm by its FS base
    assert t[105] == {"tid": 105, "fs_base": _tls(_m(5)), "tls_g": 0, "tls_goid": 0, "m": _m(5),
                      "top": "runtime.clone", "m_id": 5, "procid": 0, "m_tls": _tls(_m(5)) - 8, "g0": _g(24),
                      "g0_lo": 0x2878b8560000, "g0_hi": 0x2878b8564000, "curg": 0, "curg_goid": 0, "curg_status": 0,
                      "p": 0, "p_id": -1, "mstartfn": SPINNING_CODE}
    assert snap["ps"] == [{"p": 0x2878b8700000, "id": 0, "status": 1, "m": _m(4)},
                          {"p": 0x2878b8704000, "id": 1, "status": 0, "m": 0},
                          {"p": 0x2878b8708000, "id": 2, "status": 1, "m": _m(2)},
                          {"p": 0x2878b870c000, "id": 3, "status": 1, "m": _m(3)}]
    # it visited the threads in tid order and left gdb on the thread it found selected
    assert gdb.switches == [100, 101, 102, 103, 104, 105, 104] and gdb.current.ptid[1] == 104
    assert mod.ms_by_fs_base() == {_tls(m): m for m in (M0, *map(_m, range(1, 6)))}


def test_snapshot_names_no_m_for_a_thread_whose_fs_base_no_m_has(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.inferior._threads[-1].regs["fs_base"] = 0x7f0000001000  # e.g. a thread not made by the Go runtime
    gdb.write(0x7f0000001000 - 8, 0)
    gdb.hits[:] = [(SNAPSHOT, 104)]
    _run_snapshot(gdb, monkeypatch)
    out = _printed(capsys, "GORUN_KIT_SNAPSHOT")[0]
    assert out["threads"][-1] == {"tid": 105, "fs_base": 0x7f0000001000, "tls_g": 0, "tls_goid": 0, "m": 0,
                                  "top": "runtime.clone"}
    assert _printed(capsys, "GORUN_KIT_SCHEDULE") == []


def test_snapshot_names_the_m_of_a_thread_whose_m_has_left_allm(monkeypatch, capsys):
    """mexit takes an M off allm before its thread exits: such a thread still has its g0
    at FS-8, and the M comes from that g, not from allm."""
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.write(_m(3) + OFFSETS["m.alllink"], _m(1))  # M4 -> M3 -> M1: M2 has left
    gdb.inferior._threads[2].frames = ["runtime.exitThread", "runtime.mexit"]
    gdb.write(_m(2) + OFFSETS["m.tls"], _g(21))  # on its g0
    gdb.hits[:] = [(SNAPSHOT, 104)]
    mod = _run_snapshot(gdb, monkeypatch)
    assert _tls(_m(2)) not in mod.ms_by_fs_base()
    t = {r["tid"]: r for r in _printed(capsys, "GORUN_KIT_SNAPSHOT")[0]["threads"]}
    assert (t[102]["m"], t[102]["m_id"], t[102]["tls_g"], t[102]["g0"], t[102]["top"]) == (
        _m(2), 2, _g(21), _g(21), "runtime.exitThread")


def test_snapshot_stops_at_a_cycle_in_allm(monkeypatch):
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb, with_clone_child=False)
    gdb.write(M0 + OFFSETS["m.alllink"], _m(2))  # m0 -> M2 -> M1 -> m0 ... (a list being changed as we read it)
    gdb.hits[:] = []
    mod = _run_snapshot(gdb, monkeypatch)
    assert gdb.exited and mod.ms_by_fs_base() == {_tls(m): m for m in (M0, *map(_m, range(1, 5)))}
    gdb.write(ALLM, 0)
    assert mod.ms_by_fs_base() == {}


def test_snapshot_prints_nothing_when_the_function_is_never_reached(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.hits[:] = [(GOGO, 101)]
    _run_snapshot(gdb, monkeypatch)
    assert gdb.commands == [*QUIET, "run"] and gdb.breakpoints[1].enabled
    assert _printed(capsys, "GORUN_KIT_SNAPSHOT") == []


def test_first_schedule_keeps_sixteen_frames_and_stops_at_an_unwinding_error(monkeypatch, capsys):
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.inferior._threads[1].frames = [f"f{i}" for i in range(20)]
    gdb.inferior._threads[2].frames = ["runtime.gogo", "runtime.execute", "error", "never"]
    gdb.hits[:] = [(GOGO, 101)]
    _run_snapshot(gdb, monkeypatch)
    assert _printed(capsys, "GORUN_KIT_SCHEDULE") == [{"tid": 101, "frames": [f"f{i}" for i in range(16)]}]
    gdb = fake_gdb.make(pid=100)
    _snapshot_program(gdb)
    gdb.inferior._threads[2].frames = ["runtime.gogo", "runtime.execute", "error", "never"]
    gdb.hits[:] = [(GOGO, 102)]
    _run_snapshot(gdb, monkeypatch)
    assert _printed(capsys, "GORUN_KIT_SCHEDULE") == [{"tid": 102, "frames": ["runtime.gogo", "runtime.execute"]}]
