"""gorun_kit.threads.gdb: a Go-made thread at the first instruction of
runtime.mstart, seen by gdb, cross-checked with the thread hook."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from gorun_kit import binary as kit_binary
from gorun_kit import threads
from gorun_kit.binary import Symbol
from gorun_kit.threads import gdb
from gorun_kit.build import build_go
from gorun_kit.toolchain import ToolchainMissing, find_tool

pytestmark = pytest.mark.live
LABS = Path(__file__).resolve().parent.parent / "labs_go"


@pytest.fixture(scope="module", autouse=True)
def _gdb():
    try:
        find_tool("gdb")
    except ToolchainMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def idle():
    return build_go(LABS / "threads_idle")


def test_offsets_come_from_dwarf_and_agree_with_declaration_order(idle):
    off = gdb.runtime_offsets(idle.path)
    assert off["stack.lo"] == 0 and off["stack.hi"] == 8  # struct{lo, hi uintptr}
    assert off["gobuf.sp"] == 0 and off["gobuf.pc"] == 8
    assert off["g.stack"] == 0 < off["g.m"] < off["g.sched"]  # runtime2.go: stack first, then ..., m, sched


def test_go_made_threads_start_on_g0_with_only_a_return_address(idle):
    entries = gdb.mstart_entries(idle.path)
    main = [e for e in entries if e.main_thread]
    made = [e for e in entries if not e.main_thread]
    assert len(main) == 1 and len(made) >= 1, entries  # sysmon at least
    for e in entries:
        assert e.on_g0, e  # TLS slot, R14 and m.g0 are one pointer
        assert e.below_stack_hi == 8, e  # rsp = g0.stack.hi - 8
        assert e.g0_sched_sp == 0 and e.g0_sched_pc == 0, e  # no gobuf laid out: mstart1 fills it later
        assert e.fs_base == e.m_tls + 8 and e.gs_base == 0, e
    assert {e.return_symbol for e in made} == {"runtime.clone.abi0"}
    assert main[0].return_symbol == "runtime.rt0_go.abi0"
    assert {e.g0_stack_hi - e.g0_stack_lo for e in made} == {16384}


def test_gdb_and_the_hook_see_the_same_threads_and_g0_stacks(tmp_path):
    hooked = threads.build(LABS / "threads_idle")
    records_file = tmp_path / "records.txt"
    env = dict(os.environ, **{threads.ENV: str(records_file)})
    entries = gdb.mstart_entries(hooked.path, env=env)
    starts = {r["tid"]: r for r in threads.parse_records(records_file.read_text()) if r["kind"] == "start"}
    by_tid = {e.tid: e for e in entries}
    # Every thread the hook saw start went through mstart first. The reverse
    # can miss one: a thread that reached mstart just as the program exited
    # never gets to minit, where the hook writes its start record.
    assert set(starts) <= set(by_tid), (sorted(by_tid), sorted(starts))
    assert len(starts) >= 3 and len(set(by_tid) - set(starts)) <= 1, (sorted(by_tid), sorted(starts))
    for tid, s in starts.items():
        e = by_tid[tid]
        assert (s["g0_lo"], s["g0_hi"], s["m_tls"]) == (e.g0_stack_lo, e.g0_stack_hi, e.m_tls), (s, e)


def test_limit_stops_recording_and_the_program_still_finishes(idle):
    entries = gdb.mstart_entries(idle.path, limit=1)
    assert len(entries) == 1 and entries[0].main_thread


def test_bad_programs_are_clear_errors(tmp_path, idle):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gdb.mstart_entries(tmp_path / "nope")
    stripped = build_go(LABS / "threads_idle", ldflags="-s -w")
    with pytest.raises(ValueError, match="no runtime.mstart in its symbol table"):
        gdb.mstart_entries(stripped.path)
    no_dwarf = build_go(LABS / "threads_idle", ldflags="-w")
    with pytest.raises(ValueError, match="no DWARF layout of runtime.g"):
        gdb.mstart_entries(no_dwarf.path)
    with pytest.raises(ValueError, match="limit=0"):
        gdb.mstart_entries(idle.path, limit=0)


def test_timeout_kills_gdb_and_the_program(tmp_path):
    src = tmp_path / "sleeper.go"
    src.write_text('package main\n\nimport "time"\n\nfunc main() { time.Sleep(time.Hour) }\n')
    sleeper = build_go(src)
    with pytest.raises(gdb.GdbProbeError, match="did not finish within 3"):
        gdb.mstart_entries(sleeper.path, timeout=3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-f", sleeper.path], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"left running: {left}"


def _clone_child_branch(path) -> int:
    """The first instruction of runtime.clone that only the new thread runs: the
    target of the ``je`` after the clone syscall (the parent falls through and
    returns the child's tid; the child, with 0 in AX, jumps)."""
    out = subprocess.run([find_tool("gdb").path, "--batch", "-nx", "-iex", "set auto-load off",
                          "-ex", "disassemble 'runtime.clone.abi0'", str(path)],
                         capture_output=True, text=True, check=True).stdout
    after_syscall = out.split("\tsyscall", 1)[1]
    return int(re.search(r"\tje\s+(0x[0-9a-f]+)", after_syscall).group(1), 16)


def test_snapshot_names_the_m_of_a_thread_still_in_clone(idle, monkeypatch):
    """The snapshot taken where a new thread has run nothing of its own yet: FS is
    already &m.tls+8 (clone's CLONE_SETTLS) but FS-8 still holds 0, so the M is
    found on runtime.allm by the FS base. About one live snapshot of threads_mpg
    in twenty catches a thread there (docs/testing.md); this one always does."""
    child = _clone_child_branch(idle.path)
    read_symbols = kit_binary.read_symbols
    monkeypatch.setattr(kit_binary, "read_symbols", lambda path: tuple(sorted(
        (*read_symbols(path), Symbol("test.cloneChild", child, 1, "func", "test", True)), key=lambda s: s.address)))
    snap = gdb.snapshot(idle.path, at="test.cloneChild")
    main = next(t for t in snap.threads if t.tid == snap.pid)
    # every thread but m0 is a new one that has not passed the breakpoint yet: the one that
    # hit it, and any other m0 cloned before the first was scheduled (sysmon's M1 first)
    new = [t for t in snap.threads if t.tid != snap.pid]
    assert new and {t.m_id for t in new} == set(range(1, len(new) + 1)), snap.table()
    assert any(t.m_id == 1 and t.start_fn == "runtime.sysmon" for t in new), snap.table()
    for t in new:
        assert (t.tls_g, t.top, t.procid, t.p_id, t.curg) == (0, "runtime.clone", 0, -1, 0), t
        assert t.role == "starting: no g in its TLS slot yet, in runtime.clone"
        assert t.fs_is_m_tls_plus_8 and t.g0_hi - t.g0_lo == 16 * 1024 and not t.on_g0, t
    assert main.m_id == 0 and main.tls_g != 0 and main.fs_is_m_tls_plus_8, main
