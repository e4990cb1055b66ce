"""gorun_kit.threads.gdb without gdb: what the kit hands gdb and how it reads gdb's
output, with a stand-in ``gdb`` on PATH that prints what a real run printed
(tests/fake_tools.py) and a made-up symbol table and DWARF layout. The real runs
are in tests/test_threads_gdb.py and tests/test_ch04_scheduler.py."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from fake_tools import fake_gdb_tool
from test_threads_model import _state
from gorun_kit import binary as kit_binary
from gorun_kit.binary import Symbol
from gorun_kit.threads import gdb

SCRIPTS = Path(gdb.__file__).parent / "gdbscripts"
LAYOUTS = {"runtime.g": {"stack": 0, "m": 48, "sched": 56, "atomicstatus": 144, "goid": 152},
           "runtime.m": {"g0": 0, "procid": 64, "tls": 128, "mstartfn": 176, "curg": 184, "p": 208, "id": 232,
                         "alllink": 352},
           "runtime.p": {"id": 0, "status": 4, "m": 48},
           "runtime.stack": {"lo": 0, "hi": 8}, "runtime.gobuf": {"sp": 0, "pc": 8}}


def _sym(name, address, size, kind="func"):
    return Symbol(name, address, size, kind, name.rsplit(".", 1)[0] if "." in name else "", True)


SYMBOLS = tuple(sorted([
    _sym("runtime.templateThread", 0x44c0a0, 244), _sym("runtime.mspinning", 0x44c2c0, 12),
    _sym("runtime.sysmon", 0x4538c0, 1157), _sym("runtime.rt0_go.abi0", 0x47cea0, 378),
    _sym("runtime.mstart.abi0", 0x47d040, 11), _sym("runtime.gogo.abi0", 0x47d060, 17),
    _sym("runtime.clone.abi0", 0x480620, 153), _sym("main.snapshot", 0x49c040, 84),
    _sym("main.other", 0x49c0a0, 16),
    _sym("runtime.allm", 0x578eb8, 8, "object"), _sym("runtime.allp", 0x579100, 24, "object")],
    key=lambda s: s.address))


@pytest.fixture
def exe(tmp_path, monkeypatch):
    """A file standing for a Go binary whose symbols and DWARF are the ones above."""
    path = tmp_path / "prog"
    path.write_bytes(b"\x7fELF")
    monkeypatch.setattr(kit_binary, "read_symbols", lambda p: SYMBOLS if Path(p) == path else ())
    monkeypatch.setattr(kit_binary, "struct_layouts",
                        lambda p, names: {n: dict(LAYOUTS[n]) if Path(p) == path else {} for n in names})
    return path


def _call(calls: Path) -> dict:
    return json.loads(calls.read_text())


# ---------------------------------------------------------------------------
# mstart_entries

def _mstart_line(tid, return_address, **kw):
    rec = {"pid": 4000, "tid": tid, "rsp": 0xc000413ff8, "r14": 0xc000201000, "fs_base": 0xc000101088, "gs_base": 0,
           "tls_g": 0xc000201000, "g_m": 0xc000101000, "m_g0": 0xc000201000, "m_tls": 0xc000101080,
           "g0_stack_lo": 0xc000410000, "g0_stack_hi": 0xc000414000, "g0_sched_sp": 0, "g0_sched_pc": 0,
           "return_address": return_address}
    rec.update(kw)
    return "GORUN_KIT_MSTART " + json.dumps(rec)


MSTART_OUT = "\n".join([
    "[Thread debugging using libthread_db enabled]",
    _mstart_line(4000, 0x47cf90, rsp=0x7ffc0000fff8),
    "[New LWP 4003]",
    _mstart_line(4003, 0x48066e),
    "  GORUN_KIT_MSTART not at the start of the line",
    _mstart_line(4004, 0x123),
    "[Inferior 1 (process 4000) exited normally]", ""])


def test_mstart_entries_runs_gdb_with_the_script_and_reads_its_records(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT, "warning: noise\n")
    monkeypatch.setenv("GORUN_KIT_TEST_MARKER", "ours")
    entries = gdb.mstart_entries(exe, ["a b", "-x"], limit=3)
    call = _call(calls)
    assert call["args"] == ["--batch", "-nx", "-iex", "set auto-load off", "-x", str(SCRIPTS / "mstart_entry.py"),
                            "--args", str(exe), "a b", "-x"]
    assert call["script_existed"]
    env = call["env"]
    assert json.loads(env["GORUN_KIT_GDB_OFFSETS"]) == {
        "g.m": 48, "g.stack": 0, "g.sched": 56, "m.g0": 0, "m.tls": 128, "stack.lo": 0, "stack.hi": 8,
        "gobuf.sp": 0, "gobuf.pc": 8}
    assert env["GORUN_KIT_GDB_LIMIT"] == "3" and env["GORUN_KIT_GDB_MSTART"] == "0x47d040"
    assert env["GORUN_KIT_TEST_MARKER"] == "ours"  # without env=, gdb gets our environment
    assert [e.tid for e in entries] == [4000, 4003, 4004]
    assert entries[1] == gdb.MstartEntry(
        pid=4000, tid=4003, rsp=0xc000413ff8, r14=0xc000201000, fs_base=0xc000101088, gs_base=0,
        tls_g=0xc000201000, g_m=0xc000101000, m_g0=0xc000201000, m_tls=0xc000101080, g0_stack_lo=0xc000410000,
        g0_stack_hi=0xc000414000, g0_sched_sp=0, g0_sched_pc=0, return_address=0x48066e,
        return_symbol="runtime.clone.abi0")
    assert [e.return_symbol for e in entries] == ["runtime.rt0_go.abi0", "runtime.clone.abi0", "?"]
    assert [e.main_thread for e in entries] == [True, False, False]
    assert entries[1].on_g0 and entries[1].below_stack_hi == 8
    assert entries[1].to_dict()["main_thread"] is False and entries[1].to_dict()["on_g0"] is True


def test_mstart_entries_gives_gdb_only_the_environment_asked_for(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT)
    monkeypatch.setenv("GORUN_KIT_TEST_MARKER", "ours")
    gdb.mstart_entries(exe, env={"ONLY": "this"}, limit=1)
    env = _call(calls)["env"]
    assert env["ONLY"] == "this" and "GORUN_KIT_TEST_MARKER" not in env and env["GORUN_KIT_GDB_LIMIT"] == "1"


def test_mstart_entries_accepts_mstart_without_its_abi_suffix(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT)
    plain = tuple(dataclasses.replace(s, name="runtime.mstart") if s.name == "runtime.mstart.abi0" else s
                  for s in SYMBOLS)
    monkeypatch.setattr(kit_binary, "read_symbols", lambda p: plain)
    assert len(gdb.mstart_entries(exe)) == 3
    assert _call(calls)["env"]["GORUN_KIT_GDB_MSTART"] == "0x47d040"
    assert _call(calls)["env"]["GORUN_KIT_GDB_LIMIT"] == "16"


def test_mstart_entries_refuses_a_binary_without_mstart(tmp_path, monkeypatch, exe):
    fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT)
    monkeypatch.setattr(kit_binary, "read_symbols",
                        lambda p: tuple(s for s in SYMBOLS if not s.name.startswith("runtime.mstart")))
    with pytest.raises(ValueError, match=f"^{exe}: no runtime.mstart in its symbol table "
                                         r"\(a Go binary built with go build, without -ldflags=-s\)$"):
        gdb.mstart_entries(exe)


def _tail_lines(n):
    return "".join(f"gdb line {i}\n" for i in range(n))


def test_mstart_entries_reports_gdb_failing_with_the_end_of_its_output(tmp_path, monkeypatch, exe):
    fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT, _tail_lines(20), status=1)
    with pytest.raises(gdb.GdbProbeError) as err:
        gdb.mstart_entries(exe)
    # stderr first, then stdout; the last 15 lines of the two
    expected = [f"gdb line {i}" for i in range(12, 20)] + MSTART_OUT.strip().splitlines()
    assert str(err.value) == "gdb on prog exited 1 with 3 records:\n" + "\n".join(expected)
    fake_gdb_tool(tmp_path, monkeypatch, "\n\nno records here\n\n", "\n" + _tail_lines(20), status=0)
    with pytest.raises(gdb.GdbProbeError) as err:
        gdb.mstart_entries(exe)
    tail = [f"gdb line {i}" for i in range(6, 20)] + ["", "", "no records here"]
    assert str(err.value) == "gdb on prog exited 0 with 0 records:\n" + "\n".join(tail[-15:])


def test_mstart_entries_reads_undecodable_output(tmp_path, monkeypatch, exe):
    fake_gdb_tool(tmp_path, monkeypatch, "caf\udce9\n", "\udcff\n", status=1)
    with pytest.raises(gdb.GdbProbeError, match="exited 1 with 0 records:\n\ufffd\ncaf\ufffd$"):
        gdb.mstart_entries(exe)


@pytest.mark.parametrize("probe", ["mstart_entries", "snapshot"])
def test_a_probe_stops_gdb_at_its_timeout(tmp_path, monkeypatch, exe, probe):
    fake_gdb_tool(tmp_path, monkeypatch, MSTART_OUT if probe == "mstart_entries" else SNAPSHOT_OUT, sleep=30)
    with pytest.raises(gdb.GdbProbeError, match=r"^gdb on prog did not finish within 0.5 s; "
                                                r"gdb and the program were killed$"):
        getattr(gdb, probe)(exe, timeout=0.5)


# ---------------------------------------------------------------------------
# snapshot

def _thread(tid, top, fs_base, tls_g, tls_goid, m, **fields):
    return {"tid": tid, "fs_base": fs_base, "tls_g": tls_g, "tls_goid": tls_goid, "m": m, "top": top, **fields}


def _m_fields(m_id, procid, m, g0, lo, hi, curg=0, goid=0, status=0, p=0, p_id=-1, mstartfn=0):
    return dict(m_id=m_id, procid=procid, m_tls=m + 128, g0=g0, g0_lo=lo, g0_hi=hi, curg=curg, curg_goid=goid,
                curg_status=status, p=p, p_id=p_id, mstartfn=mstartfn)


M1, M4, M5 = 0x2878b856c008, 0x2878b8680008, 0x2878b856d808
SNAP = {"pid": 6846, "threads": [
    _thread(6846, "internal/runtime/syscall/linux.Syscall6", 0x57a4c8, 0x2878b8604960, 8, 0x57a440,
            **_m_fields(0, 6846, 0x57a440, 0x579680, 0x7ffffffee530, 0x7fffffffe530, 0x2878b8604960, 8, 3)),
    _thread(6849, "runtime.usleep", M1 + 136, 0x2878b85325a0, 0, M1,
            **_m_fields(1, 6849, M1, 0x2878b85325a0, 0x2878b8540000, 0x2878b8544000, mstartfn=0x4538c0)),
    _thread(6852, "main.snapshot", M4 + 136, 0x2878b85321e0, 1, M4,
            **_m_fields(4, 6852, M4, 0x2878b86841e0, 0x2878b8694000, 0x2878b8698000, 0x2878b85321e0, 1, 2,
                        0x2878b8700000, 0, mstartfn=0x44c2c0)),
    _thread(6853, "runtime.clone", M5 + 136, 0, 0, M5,
            **_m_fields(5, 0, M5, 0x2878b8604d20, 0x2878b8560000, 0x2878b8564000, mstartfn=0x44c0a0)),
    _thread(6854, "runtime.futex", 0x2878b856e090, 0x2878b8604000, 0, 0),
    _thread(6855, "runtime.futex", 0x2878b856e890, 0x2878b8604b40, 9, 0x2878b856e808,
            **_m_fields(6, 6855, 0x2878b856e808, 0x2878b86041e0, 0x2878b8570000, 0x2878b8574000, 0x2878b8604b40,
                        9, 9, mstartfn=0x500000))],
    "ps": [{"p": 0x2878b8700000, "id": 0, "status": 1, "m": M4}, {"p": 0x2878b8704000, "id": 1, "status": 0, "m": 0},
           {"p": 0x2878b8708000, "id": 2, "status": 3, "m": 0}, {"p": 0x2878b870c000, "id": 3, "status": 7, "m": 0}]}
SCHEDULE = {"tid": 6850, "frames": ["runtime.gogo", "runtime.execute", "runtime.schedule", "runtime.mstart1",
                                    "runtime.mstart0", "runtime.mstart", "runtime.clone", "0x2878b8540000", "0x0"]}
SNAPSHOT_OUT = "\n".join([
    "GORUN_KIT_SCHEDULE " + json.dumps(SCHEDULE),
    "GORUN_KIT_SCHEDULE " + json.dumps({"tid": 1, "frames": ["not", "this", "one"]}),
    "[Switching to LWP 6852]",
    "GORUN_KIT_SNAPSHOT " + json.dumps(SNAP),
    "GORUN_KIT_SNAPSHOT " + json.dumps({"pid": 1, "threads": [], "ps": []}),
    "mpg: snapshot taken with 5 goroutines", ""])


def test_snapshot_runs_gdb_with_the_script_and_turns_its_words_into_records(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT)
    snap = gdb.snapshot(exe, ["-n", "4"])
    call = _call(calls)
    assert call["args"] == ["--batch", "-nx", "-iex", "set auto-load off", "-x", str(SCRIPTS / "snapshot.py"),
                            "--args", str(exe), "-n", "4"]
    assert call["script_existed"]
    env = call["env"]
    assert json.loads(env["GORUN_KIT_GDB_OFFSETS"]) == {
        "g.m": 48, "g.stack": 0, "g.goid": 152, "g.atomicstatus": 144, "m.g0": 0, "m.tls": 128, "m.id": 232,
        "m.procid": 64, "m.curg": 184, "m.p": 208, "m.mstartfn": 176, "m.alllink": 352, "p.id": 0, "p.status": 4,
        "p.m": 48, "stack.lo": 0, "stack.hi": 8}
    assert (env["GORUN_KIT_GDB_SNAPSHOT"], env["GORUN_KIT_GDB_GOGO"], env["GORUN_KIT_GDB_ALLP"],
            env["GORUN_KIT_GDB_ALLM"]) == ("0x49c040", "0x47d060", "0x579100", "0x578eb8")
    assert snap.program == os.fspath(exe) and snap.pid == 6846
    assert snap.schedule_tid == 6850
    assert snap.schedule_frames == ("runtime.gogo", "runtime.execute", "runtime.schedule", "runtime.mstart1",
                                    "runtime.mstart0", "runtime.mstart", "runtime.clone")
    assert snap.ps == (gdb.PState(0, "_Prunning", M4), gdb.PState(1, "_Pidle", 0), gdb.PState(2, "_Pgcstop", 0),
                       gdb.PState(3, "7", 0))
    t = {x.tid: x for x in snap.threads}
    assert list(t) == [6846, 6849, 6852, 6853, 6854, 6855]
    assert t[6852] == gdb.ThreadState(
        tid=6852, top="main.snapshot", fs_base=M4 + 136, tls_g=0x2878b85321e0, tls_goid=1, m=M4, m_id=4, procid=6852,
        m_tls=M4 + 128, g0=0x2878b86841e0, g0_lo=0x2878b8694000, g0_hi=0x2878b8698000, curg=0x2878b85321e0,
        curg_goid=1, curg_status="_Grunning", p_id=0, start_fn="runtime.mspinning")
    assert t[6846].curg_status == "_Gsyscall" and t[6846].start_fn == "" and t[6846].p_id == -1
    assert t[6849].start_fn == "runtime.sysmon" and t[6849].curg_status == "_Gidle"
    assert t[6855].curg_status == "9" and t[6855].start_fn == ""  # a status and a start pc the kit has no name for
    # a thread whose M the script could not find: the record holds no M fields
    assert t[6854] == gdb.ThreadState(
        tid=6854, top="runtime.futex", fs_base=0x2878b856e090, tls_g=0x2878b8604000, tls_goid=0, m=0, m_id=-1,
        procid=0, m_tls=0, g0=0, g0_lo=0, g0_hi=0, curg=0, curg_goid=0, curg_status="_Gidle", p_id=-1, start_fn="")
    assert [x.role for x in snap.threads] == [
        "in a syscall (g8)", "sysmon", "running g1, stopped in main.snapshot",
        "starting: no g in its TLS slot yet, in runtime.clone", "no M found", "running g9, stopped in runtime.futex"]
    assert [x.fs_is_m_tls_plus_8 for x in snap.threads] == [True, True, True, True, False, True]


def test_snapshot_stops_at_the_function_asked_for_with_the_environment_asked_for(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT)
    monkeypatch.setenv("GORUN_KIT_TEST_MARKER", "ours")
    gdb.snapshot(exe, at="main.other")
    env = _call(calls)["env"]
    assert env["GORUN_KIT_GDB_SNAPSHOT"] == "0x49c0a0" and env["GORUN_KIT_TEST_MARKER"] == "ours"
    gdb.snapshot(exe, env={"ONLY": "this"})
    env = _call(calls)["env"]
    assert env["ONLY"] == "this" and "GORUN_KIT_TEST_MARKER" not in env
    assert env["GORUN_KIT_GDB_SNAPSHOT"] == "0x49c040"


def test_snapshot_without_a_first_schedule(tmp_path, monkeypatch, exe):
    out = "\n".join(line for line in SNAPSHOT_OUT.splitlines() if not line.startswith("GORUN_KIT_SCHEDULE"))
    fake_gdb_tool(tmp_path, monkeypatch, out)
    snap = gdb.snapshot(exe)
    assert snap.schedule_tid is None and snap.schedule_frames == () and len(snap.threads) == 6


def test_snapshot_accepts_gogo_without_its_abi_suffix(tmp_path, monkeypatch, exe):
    calls = fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT)
    plain = tuple(dataclasses.replace(s, name="runtime.gogo") if s.name == "runtime.gogo.abi0" else s for s in SYMBOLS)
    monkeypatch.setattr(kit_binary, "read_symbols", lambda p: plain)
    gdb.snapshot(exe)
    assert _call(calls)["env"]["GORUN_KIT_GDB_GOGO"] == "0x47d060"


@pytest.mark.parametrize("drop, named", [
    (("main.snapshot",), "main.snapshot"), (("runtime.allp",), "runtime.allp"), (("runtime.allm",), "runtime.allm"),
    (("runtime.gogo.abi0",), "runtime.gogo.abi0"), (("main.snapshot", "runtime.allm"), "main.snapshot, runtime.allm")])
def test_snapshot_names_the_symbols_a_binary_lacks(tmp_path, monkeypatch, exe, drop, named):
    fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT)
    monkeypatch.setattr(kit_binary, "read_symbols", lambda p: tuple(s for s in SYMBOLS if s.name not in drop))
    with pytest.raises(ValueError, match=f"^{exe}: no {named} in its symbol table "
                                         r"\(a Go binary built with go build, without -ldflags=-s, "
                                         r"that defines the snapshot function\)$"):
        gdb.snapshot(exe)


def test_snapshot_refuses_a_missing_program(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^program '.*nope' does not exist \(give a built Go executable\)$"):
        gdb.snapshot(tmp_path / "nope")


def test_snapshot_refuses_a_binary_without_the_dwarf_it_reads(tmp_path, monkeypatch, exe):
    fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT)
    monkeypatch.setattr(kit_binary, "struct_layouts",
                        lambda p, names: {n: {} if n == "runtime.p" else LAYOUTS[n] for n in names})
    with pytest.raises(ValueError) as err:
        gdb.snapshot(exe)
    assert str(err.value) == (f"{exe}: no DWARF layout of runtime.p (fields ['id', 'status', 'm']); "
                              "build it with go build and without -ldflags=-w")


def test_snapshot_reports_gdb_failing_or_never_stopping(tmp_path, monkeypatch, exe):
    fake_gdb_tool(tmp_path, monkeypatch, SNAPSHOT_OUT, "gdb: bad\n", status=2)
    with pytest.raises(gdb.GdbProbeError) as err:
        gdb.snapshot(exe)
    assert str(err.value) == ("gdb on prog exited 2 without stopping at main.snapshot:\n"
                              + "\n".join(("gdb: bad\n" + SNAPSHOT_OUT).strip().splitlines()[-15:]))
    fake_gdb_tool(tmp_path, monkeypatch, _tail_lines(3), _tail_lines(20))
    with pytest.raises(gdb.GdbProbeError) as err:
        gdb.snapshot(exe, at="main.other")
    assert str(err.value) == ("gdb on prog exited 0 without stopping at main.other:\n"
                              + "\n".join([f"gdb line {i}" for i in range(8, 20)] + [f"gdb line {i}" for i in range(3)]))
    fake_gdb_tool(tmp_path, monkeypatch, "\udcff\n", "caf\udce9\n", status=3)  # bytes that are not UTF-8
    with pytest.raises(gdb.GdbProbeError, match="without stopping at main.snapshot:\ncaf\ufffd\n\ufffd$"):
        gdb.snapshot(exe)


# ---------------------------------------------------------------------------
# the records

def test_roles_in_order_of_precedence():
    # a thread not yet on its g0 is starting, whatever its M was made for
    assert _state(tls_g=0, start_fn="runtime.sysmon").role == "starting: no g in its TLS slot yet, in x.spin"
    assert _state(tls_g=0, top="runtime.clone").role == "starting: no g in its TLS slot yet, in runtime.clone"
    assert _state(m_id=-1, start_fn="").role == "no M found"
    assert _state(m_id=-1, curg_goid=0, p_id=-1).role == "no M found"
    assert _state(m_id=1, curg_goid=0, p_id=-1).role == "idle, no P"
    assert _state(start_fn="runtime.sysmon", curg_status="_Gsyscall").role == "sysmon"
    assert _state(start_fn="runtime.templateThread.abi0").role == "template thread"
    assert _state(start_fn="runtime.xsysmon").role == "running g7, stopped in x.spin"
    assert _state(curg_goid=0, curg_status="_Gsyscall", tls_g=0xa0, p_id=-1).role == "idle, no P"
    assert _state(curg_status="_Gsyscall", tls_g=0xa0).role == "in a syscall (g7)"
    assert _state(top="runtime.futex").role == "running g7, stopped in runtime.futex"
    assert _state(top="a/b/c.d/e.f").role == "running g7, stopped in e.f"
    assert _state(tls_g=0xa0).role == "scheduling (on g0)"
    assert _state(curg_goid=0).role == "scheduling (on g0)"
    assert _state(curg_goid=0, p_id=-1).role == "idle, no P"
    assert _state(curg_goid=0, p_id=1).role == "scheduling (on g0)"
    d = _state().to_dict()
    assert (d["on_g0"], d["fs_is_m_tls_plus_8"], d["role"]) == (False, True, "running g7, stopped in x.spin")


def test_table_lays_out_each_thread_in_columns():
    snap = gdb.SchedulerSnapshot("x", 10, (
        _state(),
        _state(tid=123456, m_id=12, fs_base=0x2878b8680090, m_tls=0x2878b8680088, g0_lo=0x2878b8694000,
               g0_hi=0x2878b8698000, p_id=-1, curg_goid=0, tls_g=0xa0, start_fn="runtime.sysmon"),
        _state(tid=7, m_id=-1, fs_base=0x7f0000001000, m_tls=0, g0_lo=0, g0_hi=0, p_id=-1, curg_goid=0, tls_g=0,
               top="runtime.clone")), (), None, ())
    assert snap.table().splitlines() == [
        "     tid   M        FS base       &m.tls+8               g0 stack lo..hi   KiB   P    g  role",
        "      10   0         0x1108         0x1108        0x10000..0x14000           16  P0   g7  "
        "running g7, stopped in x.spin",
        "  123456  12 0x2878b8680090 0x2878b8680090 0x2878b8694000..0x2878b8698000    16   -    -  sysmon",
        "       7  -1 0x7f0000001000            0x8            0x0..0x0                0   -    -  "
        "starting: no g in its TLS slot yet, in runtime.clone"]
    assert gdb.SchedulerSnapshot("x", 10, (), (), None, ()).table().count("\n") == 0


def test_thread_frames_end_where_the_thread_began():
    assert gdb._thread_frames(["runtime.gogo", "runtime.mstart", "runtime.clone.abi0", "runtime.x"]) == (
        "runtime.gogo", "runtime.mstart", "runtime.clone.abi0")
    assert gdb._thread_frames(["runtime.gogo", "", "runtime.x"]) == ("runtime.gogo",)
    assert gdb._thread_frames(["runtime.gogo", "0x4011f0", "runtime.x"]) == ("runtime.gogo",)
    assert gdb._thread_frames(["runtime.gogo", "runtime.0x", "runtime.x"]) == ("runtime.gogo", "runtime.0x",
                                                                              "runtime.x")
    assert gdb._thread_frames(["my.runtime.clone", "runtime.x"]) == ("my.runtime.clone", "runtime.x")
    assert gdb._thread_frames([]) == ()
