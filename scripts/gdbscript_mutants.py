#!/usr/bin/env python3
"""Hand-written mutants of the gdb scripts (gorun_kit/threads/gdbscripts), run against real gdb.

mutmut reaches these scripts only through tests/test_threads_gdbscripts.py, which
imports them against a fake ``gdb`` module: inside real gdb a mutated script cannot
import mutmut's trampolines. This script checks that the tests which run real gdb
(tests/test_threads_gdb.py, the live snapshot test of tests/test_ch04_scheduler.py)
notice a broken script too. Each mutant is one named mistake in one place; for each,
the kit, the tests and the Go labs are copied into a temporary directory, the
mistake is made there (the scripts themselves are never touched), and pytest runs
the real-gdb tests that reach that script in the copy. A mutant is caught when a
test fails; it survives when every test passes. ``--fake`` also runs the fake-gdb
tests against it.

    python3 scripts/gdbscript_mutants.py              # every mutant, then the score
    python3 scripts/gdbscript_mutants.py --list       # the mutants and what each breaks
    python3 scripts/gdbscript_mutants.py --only limit_off_by_one --fake

Exit status: 0 when every mutant that is not equivalent is caught, 1 when not,
2 for a bad name or a mutant whose old text is not in its script exactly once,
3 when the unmutated scripts already fail the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = "gorun_kit/threads/gdbscripts"
MSTART = ("tests/test_threads_gdb.py", "-k", "go_made or hook or limit")
SNAPSHOT = ("tests/test_threads_gdb.py::test_snapshot_names_the_m_of_a_thread_still_in_clone",
            "tests/test_ch04_scheduler.py::test_snapshot_of_a_real_program_reads_every_thread")
BOTH = ("tests/test_threads_gdb.py", "tests/test_ch04_scheduler.py::test_snapshot_of_a_real_program_reads_every_thread")
FAKE = ("tests/test_threads_gdbscripts.py",)


@dataclass(frozen=True)
class Mutant:
    name: str
    script: str
    old: str
    new: str
    breaks: str
    tests: tuple[str, ...]
    equivalent: str = ""  # why real gdb cannot tell, when it cannot


MUTANTS = (
    Mutant("tls_slot_at_fs_minus_16", "mstart_entry.py", 'rec["tls_g"] = g = _u64(rec["fs_base"] - 8)',
           'rec["tls_g"] = g = _u64(rec["fs_base"] - 16)', "the g is read from the wrong TLS word", MSTART),
    Mutant("m_tls_from_g0_offset", "mstart_entry.py", 'rec["m_tls"] = m + OFFSETS["m.tls"]',
           'rec["m_tls"] = m + OFFSETS["m.g0"]', "&m.tls is computed with another field's offset", MSTART),
    Mutant("limit_off_by_one", "mstart_entry.py", "if MstartEntry.hits >= LIMIT:", "if MstartEntry.hits > LIMIT:",
           "one thread more than the limit is recorded", MSTART),
    Mutant("stack_hi_from_lo", "mstart_entry.py",
           'rec["g0_stack_hi"] = _u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.hi"])',
           'rec["g0_stack_hi"] = _u64(g0 + OFFSETS["g.stack"] + OFFSETS["stack.lo"])',
           "g0's stack top is read from its bottom", MSTART),
    Mutant("mstart_breakpoint_stops", "mstart_entry.py", "        return False\n\n\nMstartEntry(",
           "        return True\n\n\nMstartEntry(", "the probe stops the program at the first mstart", MSTART),
    Mutant("return_address_a_word_up", "mstart_entry.py", 'rec["return_address"] = _u64(rec["rsp"])',
           'rec["return_address"] = _u64(rec["rsp"] + 8)', "the return address is read above the stack top", MSTART),
    Mutant("allm_keyed_by_m_tls", "snapshot.py", 'out[m + OFFSETS["m.tls"] + 8] = m', 'out[m + OFFSETS["m.tls"]] = m',
           "Ms on allm are keyed by &m.tls, not the FS base", SNAPSHOT),
    Mutant("no_allm_lookup", "snapshot.py", "else by_fs.get(fs, 0)", "else 0",
           "a thread still in runtime.clone gets no M (the behaviour before 2026-12-01)", SNAPSHOT),
    # real gdb catches this one only in a run where a second new thread also waits in clone
    # (its M is then not the newest on allm); tests/test_threads_gdbscripts.py always does
    Mutant("allm_one_deep", "snapshot.py", 'm = _u64(m + OFFSETS["m.alllink"])', "m = 0",
           "only the newest M on allm is read", SNAPSHOT),
    Mutant("first_schedule_of_m0", "snapshot.py", "if tid == pid:\n            return False",
           "if tid != pid:\n            return False", "m0's schedule is taken for a new M's", SNAPSHOT),
    Mutant("p_id_as_eight_bytes", "snapshot.py", 'p_id=_u32(pp + OFFSETS["p.id"]) if pp else -1',
           'p_id=_u64(pp + OFFSETS["p.id"]) if pp else -1', "the P id takes in the status word beside it", SNAPSHOT),
    Mutant("mstartfn_not_dereferenced", "snapshot.py", 'mstartfn=_u64(_u64(m + OFFSETS["m.mstartfn"]))',
           'mstartfn=_u64(m + OFFSETS["m.mstartfn"])', "the start function is the funcval, not its code", SNAPSHOT),
    Mutant("status_read_at_goid", "snapshot.py", 'return _u32(g + OFFSETS["g.atomicstatus"]) if g else 0',
           'return _u32(g + OFFSETS["g.goid"]) if g else 0', "a goroutine's status is read from its id", SNAPSHOT),
    Mutant("one_p_fewer", "snapshot.py", "base, n = _u64(ALLP), _u64(ALLP + 8)",
           "base, n = _u64(ALLP), _u64(ALLP + 8) - 1", "the last P of allp is left out", SNAPSHOT),
    Mutant("selected_thread_not_restored", "snapshot.py", "    current.switch()\n", "",
           "gdb is left on the last thread read", SNAPSHOT,
           "in all-stop mode `continue` resumes every thread, whichever is selected"),
    Mutant("sigurg_not_handled", "gdbsetup.py", 'for sig in ("SIGURG", "SIGPIPE", "SIGCHLD", "SIGPROF"):',
           'for sig in ("SIGPIPE", "SIGCHLD", "SIGPROF"):', "gdb's own setting for SIGURG applies", BOTH,
           "gdb 13's default for SIGURG is already nostop noprint pass"),
    Mutant("big_endian_words", "gdbsetup.py", '"little")', '"big")', "every word is read big-endian", BOTH),
    Mutant("pagination_on", "gdbsetup.py", '    gdb.execute("set pagination off")\n', "",
           "gdb may page its output", BOTH, "gdb --batch turns pagination off"),
)


def _copy_repo(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in ("gorun_kit", "tests", "labs_go"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")


def _pytest(where: Path, tests: tuple[str, ...], timeout: float) -> tuple[bool, str]:
    """Run ``tests`` in the copy at ``where``; (passed, pytest's last line)."""
    env = dict(os.environ, GORUN_KIT_PROGRESS="0", PYTHONDONTWRITEBYTECODE="1")
    try:
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                           cwd=where, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"hung past {timeout} s"
    lines = p.stdout.strip().splitlines()
    return p.returncode == 0, lines[-1] if lines else p.stderr.strip()[-200:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="list the mutants and what each breaks, run nothing")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this mutant (repeatable)")
    ap.add_argument("--fake", action="store_true", help="also run the fake-gdb tests against each mutant")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds one pytest run may take")
    args = ap.parse_args(argv)
    names = {m.name for m in MUTANTS}
    if unknown := [n for n in args.only if n not in names]:
        print(f"unknown mutant(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    for m in chosen:
        text = (REPO / SCRIPTS / m.script).read_text()
        if text.count(m.old) != 1:
            print(f"{m.name}: its old text is in {m.script} {text.count(m.old)} times, not once", file=sys.stderr)
            return 2
    if args.list:
        for m in chosen:
            print(f"{m.name:30} {m.script:16} {m.breaks}" + (f" [equivalent: {m.equivalent}]" if m.equivalent else ""))
        return 0
    with tempfile.TemporaryDirectory(prefix="gdbscript-mutants-") as tmp:
        base = Path(tmp) / "base"
        _copy_repo(base)
        ok, last = _pytest(base, BOTH, args.timeout)
        if not ok:
            print(f"the unmutated scripts fail the real-gdb tests: {last}", file=sys.stderr)
            return 3
        missed = []
        for m in chosen:
            work = Path(tmp) / m.name
            shutil.copytree(base, work)
            path = work / SCRIPTS / m.script
            path.write_text(path.read_text().replace(m.old, m.new))
            passed, last = _pytest(work, m.tests, args.timeout)
            verdict = "survived" if passed else "caught"
            line = f"{m.name:30} real gdb: {verdict:8} ({last})"
            if args.fake:
                fake_passed, fake_last = _pytest(work, FAKE, args.timeout)
                line += f"; fake gdb: {'survived' if fake_passed else 'caught'} ({fake_last})"
            print(line + (f" [equivalent: {m.equivalent}]" if m.equivalent else ""), flush=True)
            if passed and not m.equivalent:
                missed.append(m.name)
            shutil.rmtree(work)
    counted = [m for m in chosen if not m.equivalent]
    print(f"caught {len(counted) - len(missed)} of {len(counted)} mutants that are not equivalent"
          + (f"; survived: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
