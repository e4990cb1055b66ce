#!/usr/bin/env python3
"""Mutation testing of the C tracer (gorun_kit/_src/tracer/tracer.c).

mutmut mutates Python; the tracer is C, so its mutants are written by hand:
each one is a named, deliberate mistake in one place of tracer.c (a wrong
register, a missing ptrace option, a wrong resume request, a lost error path)
together with the behaviour it breaks. For each mutant this script writes the
mutated source into a temporary directory (tracer.c itself is never touched),
compiles it as gorun_kit.trace.runner.tracer_binary does, and runs tracer tests
against that binary, in this process, with gorun_kit.trace.tracer_binary() and
tracer_source() pointing at the mutant. A mutant is caught when a test fails
(or hangs past --timeout); it survives when every test passes.

Tests: first the ones that name the mutant's behaviour (``tests`` below); a
mutant that survives them runs the whole quick set (QUICK) before it is called
a survivor. Left out of QUICK, being slow or out of reach: the 300-children
run (17 s; the strace comparison on many_env covers big environments), the
SIGKILL-mid-exec loop (10 s; the plain SIGKILL test covers EXITKILL), the
hypothesis argv run (weird_argv covers odd bytes), and the CLI attach test,
which runs the tracer from a new `python -m gorun_kit`, out of this process.

    python3 scripts/tracer_mutants.py                 # every mutant, the table, the score
    python3 scripts/tracer_mutants.py --list          # the mutants and what each breaks
    python3 scripts/tracer_mutants.py --only listen_becomes_cont -v
    python3 scripts/tracer_mutants.py -j 2 --new-file tests/test_tracer_stops.py   # what that file adds

Run it under the shared CPU lock: ``flock /tmp/gorun-kit-bench.lock python3
scripts/tracer_mutants.py``. Exit status: 0 when at least --min-score percent of
the mutants that are not equivalent are caught, 1 when fewer, 2 for bad
arguments or a mutant whose old text is not in tracer.c exactly once, 3 when
the unmutated tracer already fails the tests (then no verdict means anything).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRACER_C = REPO / "gorun_kit" / "_src" / "tracer" / "tracer.c"
# as gorun_kit.trace.runner.tracer_binary builds it
CFLAGS = ("-O2", "-g", "-Wall", "-Wextra", "-std=gnu11")

T = "tests/test_trace.py::"
E = "tests/test_trace_edges.py::"
D = "tests/test_trace_envdelta.py::"
S = "tests/test_tracer_stops.py::"
STRACE = T + "test_records_agree_with_strace"

QUICK = (
    T + "test_schema_of_every_record_kind",
    T + "test_exit_status_is_the_commands",
    *(f"{STRACE}[{p}]" for p in ("sh-loop", "spawn_kinds", "execvp_path", "many_env", "weird_argv",
                                   "go-goroutines", "go-cgo")),
    T + "test_modes_agree",
    T + "test_spawn_classification",
    T + "test_trees_and_lifetimes",
    T + "test_go_thread_tree_and_thread_tids",
    T + "test_raw_tracer_on_missing_command",
    T + "test_timeout_kills_the_tree",
    T + "test_interrupted_tracer_leaves_nothing",
    T + "test_tracer_killed_with_sigkill_takes_the_tree_with_it",
    T + "test_group_stop_is_kept_stopped_then_resumed",
    T + "test_summary_mentions_kinds_and_programs",
    T + "test_attach_to_a_running_process",
    T + "test_interrupted_attach_detaches_and_leaves_the_process_running",
    T + "test_attach_api_follows_a_process_to_its_exit",
    T + "test_attach_api_detaches_after_duration_and_the_process_runs_on",
    T + "test_ptrace_not_permitted_is_a_clear_error",
    T + "test_peekdata_fallback_reads_the_same_records",
    E + "test_exec_from_a_non_leader_thread",
    E + "test_execvp_walks_path",
    E + "test_argv_with_newlines_empty_strings_and_invalid_utf8",
    E + "test_written_jsonl_round_trips",
    E + "test_tracee_killed_while_its_children_run",
    E + "test_go_spawning_from_many_goroutines_while_others_block",
    E + "test_cgo_threads_come_from_pthread_create",
    E + "test_marker_reaches_the_whole_tree",
    E + "test_huge_arguments_are_never_truncated",
    D + "test_delta_records_rebuild_exactly_what_full_records_hold",
    D + "test_the_tracers_edits_are_the_python_encoders",
    "tests/test_trace_verify.py::test_every_exec_of_the_torture_programs_agrees_with_proc",
    "tests/test_tracer_exit_race.py",
    "tests/test_robust_nondumpable.py",
    "tests/test_trace_flags.py",
    "tests/test_tracer_stops.py",
)


@dataclass(frozen=True)
class Mutant:
    """One deliberate mistake: ``old`` (exactly once in tracer.c) becomes ``new``.
    ``tests``: the tests that check the behaviour it breaks, tried first.
    ``equivalent``: why no test can tell it from the real tracer (empty: it can)."""

    name: str
    breaks: str
    old: str
    new: str
    tests: tuple[str, ...] = ()
    equivalent: str = ""


SEIZE_OPTS = ("long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |\n"
              "\t\t    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;")
ATTACH_OPTS = ("long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |\n"
               "\t\t    PTRACE_O_TRACESYSGOOD;")


def _without(text: str, option: str) -> str:
    return text.replace(option + " | ", "", 1) if option + " | " in text else text.replace(" | " + option, "", 1)


MUTANTS = (
    # --- registers -----------------------------------------------------------
    Mutant("execveat_envp_from_rdx", "the envp of a failed execveat comes from r10 (execveat's 4th argument)",
           "\t\targv = r->rdx;\n\t\tenvp = r->r10;", "\t\targv = r->rdx;\n\t\tenvp = r->rdx;",
           (S + "test_failed_execveat_records_the_callers_argv_and_envp",)),
    Mutant("execveat_argv_from_rsi", "the argv of an execveat comes from rdx (its 3rd argument)",
           "\t\targv = r->rdx;", "\t\targv = r->rsi;",
           (S + "test_execveat_relative_to_a_directory_fd",)),
    Mutant("execveat_dirfd_from_rsi", "an execveat record's dirfd is its 1st argument (rdi)",
           "px->dirfd = (int)r->rdi;", "px->dirfd = (int)r->rsi;",
           (S + "test_execveat_relative_to_a_directory_fd",)),
    Mutant("execveat_flags_from_r10", "an execveat record's at_flags is its 5th argument (r8)",
           "px->at_flags = (int)r->r8;", "px->at_flags = (int)r->r10;",
           (S + "test_execveat_of_a_program_fd_with_an_empty_path",)),
    Mutant("execve_envp_from_rsi", "the envp of a failed execve comes from rdx (its 3rd argument)",
           "\t\targv = r->rsi;\n\t\tenvp = r->rdx;", "\t\targv = r->rsi;\n\t\tenvp = r->rsi;",
           (D + "test_delta_records_rebuild_exactly_what_full_records_hold",)),
    Mutant("clone_flags_from_rsi", "clone's flags are read from rdi at the spawn event",
           "\t\ta.flags = r->rdi;", "\t\ta.flags = r->rsi;",
           (T + "test_spawn_classification", f"{STRACE}[spawn_kinds]")),
    Mutant("clone_exit_signal_always_sigchld", "a clone's exit signal is the low byte of its flags (0 for a thread)",
           "a.exit_signal = r->rdi & CSIGNAL;", "a.exit_signal = SIGCHLD;",
           (S + "test_exit_signal_of_a_clone_child",)),
    Mutant("seccomp_stop_nr_from_rax", "at a seccomp stop the syscall number is orig_rax (rax holds -ENOSYS)",
           "\t\tlong nr = (long)r.orig_rax;\n\t\tif (nr == __NR_execve || nr == __NR_execveat) {",
           "\t\tlong nr = (long)r.rax;\n\t\tif (nr == __NR_execve || nr == __NR_execveat) {",
           (f"{STRACE}[execvp_path]",)),
    Mutant("exec_result_from_orig_rax", "a failed exec is told by rax (-errno) at the syscall-exit stop",
           "long ret = (long)r.rax;", "long ret = (long)r.orig_rax;",
           (f"{STRACE}[execvp_path]", E + "test_execvp_walks_path")),
    # --- ptrace options ---------------------------------------------------------
    Mutant("no_traceclone", "threads (and clone3 children) are followed from their first instruction",
           SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_TRACECLONE"), (T + "test_spawn_classification",)),
    Mutant("no_tracefork", "fork children are followed", SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_TRACEFORK"),
           (T + "test_spawn_classification",)),
    Mutant("no_tracevfork", "vfork children are followed", SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_TRACEVFORK"),
           (T + "test_spawn_classification",)),
    Mutant("no_traceexec", "a successful exec stops the tracee (PTRACE_EVENT_EXEC) and is recorded",
           SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_TRACEEXEC"), (T + "test_schema_of_every_record_kind",)),
    Mutant("no_tracesysgood", "syscall stops are told from a real SIGTRAP (SIGTRAP|0x80)",
           SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_TRACESYSGOOD"), (T + "test_modes_agree",)),
    Mutant("no_exitkill", "the traced tree dies with the tracer, even when it is SIGKILLed",
           SEIZE_OPTS, _without(SEIZE_OPTS, "PTRACE_O_EXITKILL"),
           (T + "test_tracer_killed_with_sigkill_takes_the_tree_with_it",)),
    Mutant("no_traceseccomp", "the seccomp filter's RET_TRACE becomes a stop (without it the syscall fails ENOSYS)",
           "\t\topts |= PTRACE_O_TRACESECCOMP;", "\t\t;", (T + "test_schema_of_every_record_kind",)),
    Mutant("attach_no_tracefork", "an attached process's children are followed",
           ATTACH_OPTS, _without(ATTACH_OPTS, "PTRACE_O_TRACEFORK"),
           (T + "test_attach_api_follows_a_process_to_its_exit",)),
    # --- the seccomp filter --------------------------------------------------------
    Mutant("filter_without_execveat", "execveat stops at its entry: its filename and argv as passed, its failure seen",
           "\tnrs[n++] = __NR_execveat;\n", "",
           (S + "test_execveat_relative_to_a_directory_fd", S + "test_failed_execveat_records_the_callers_argv_and_envp")),
    Mutant("filter_without_clone3", "--mode seccomp reads clone3's arguments at its entry (one seccomp stop each)",
           "\t\tnrs[n++] = __NR_clone3;\n", "", (S + "test_seccomp_mode_stops_once_at_every_spawn_and_exec_entry",)),
    Mutant("filter_arch_check_inverted", "x86-64 syscalls are the ones the filter checks (others pass)",
           "AUDIT_ARCH_X86_64, 1, 0);", "AUDIT_ARCH_X86_64, 0, 1);", (f"{STRACE}[execvp_path]",)),
    # --- resuming ----------------------------------------------------------------
    Mutant("listen_becomes_cont", "a group-stopped process stays stopped (PTRACE_LISTEN) until SIGCONT",
           "ptrace(PTRACE_LISTEN, t->tid, NULL, NULL)", "ptrace(PTRACE_CONT, t->tid, NULL, NULL)",
           (T + "test_group_stop_is_kept_stopped_then_resumed", S + "test_a_group_stop_lasts_until_sigcont")),
    Mutant("signal_swallowed", "a signal meant for a tracee is delivered when it is resumed",
           "\t\t\ttr->stops.signal++;\n\t\t\tresume(tr, t, sig);", "\t\t\ttr->stops.signal++;\n\t\t\tresume(tr, t, 0);",
           (T + "test_exit_status_is_the_commands",)),
    Mutant("no_exit_stop_after_exec_entry", "an exec entered is followed to its syscall exit: failures are recorded",
           "\t\t\tsave_exec_args(tr, t, &r);\n\t\t\tt->flags |= T_WANT_EXIT;", "\t\t\tsave_exec_args(tr, t, &r);",
           (f"{STRACE}[execvp_path]",)),
    Mutant("held_child_never_released", "a new task stopped before its parent's event runs once the event came",
           "\t\tc->flags &= ~T_HELD;\n\t\tresume(tr, c, 0);", "\t\tc->flags &= ~T_HELD;",
           (T + "test_trees_and_lifetimes",)),
    Mutant("syscalls_mode_resumes_with_cont", "--mode syscalls stops at every syscall (PTRACE_SYSCALL)",
           "int syscall_stops = tr->mode == MODE_SYSCALLS || (t->flags & T_WANT_EXIT);",
           "int syscall_stops = (t->flags & T_WANT_EXIT) != 0;", (T + "test_modes_agree",)),
    # --- error paths -----------------------------------------------------------------
    Mutant("esrch_is_warned", "a request on a task that just died (ESRCH) is no warning",
           "\tif (errno != ESRCH)\n\t\tfprintf(stderr, \"tracer: warning:", "\tif (1)\n\t\tfprintf(stderr, \"tracer: warning:",
           ("tests/test_tracer_exit_race.py",)),
    Mutant("no_peekdata_fallback_on_eperm", "where process_vm_readv is refused (EPERM), memory is read with PEEKDATA",
           "\t\tif (errno != ENOSYS && errno != EPERM)\n\t\t\treturn 0;", "\t\tif (errno != ENOSYS)\n\t\t\treturn 0;",
           (T + "test_peekdata_fallback_reads_the_same_records",),
           equivalent="every trace's first read is read_filename_argv's at the first execve entry (the command's argv "
                      "is never NULL), which already switches to PEEKDATA on a refusal for the whole tracer; a refusal "
                      "that starts later is per process (a non-dumpable image, a tracer without CAP_SYS_PTRACE), where "
                      "the kernel refuses PEEKDATA too, so both versions read nothing"),
    Mutant("entry_read_keeps_trying_vm_readv", "after one refused process_vm_readv, only PEEKDATA is used",
           "else if (got < 0 && (errno == ENOSYS || errno == EPERM))", "else if (got < 0 && errno == ENOSYS)",
           (T + "test_peekdata_fallback_reads_the_same_records",)),
    Mutant("long_read_not_continued", "a read longer than CALL_PAGES pages goes on in a second process_vm_readv",
           "\t\treturn got + mem_read(rd, tid, addr + covered, dst + covered, n - covered);",
           "\t\treturn (size_t)got;", (E + "test_huge_arguments_are_never_truncated",),
           equivalent="no read asks for more than CALL_PAGES (64) pages: the largest, STACK_READ, is 64 pages and "
                      "page_iovecs gives it 65 iovecs, so covered == n always"),
    Mutant("unreadable_caller_not_read_from_proc", "an exec whose caller is not readable (not dumpable) is read from /proc",
           "if (!(t->flags & T_EXEC_PENDING) || t->px.incomplete) {", "if (!(t->flags & T_EXEC_PENDING)) {",
           ("tests/test_robust_nondumpable.py",)),
    # --- envp: delta / full / none ---------------------------------------------------------
    Mutant("env_delta_option_is_full", "--env delta writes each envp as edits of a base",
           "\t\t\telse if (strcmp(optarg, \"delta\") == 0)\n\t\t\t\to.env_mode = ENV_DELTA;",
           "\t\t\telse if (strcmp(optarg, \"delta\") == 0)\n\t\t\t\to.env_mode = ENV_FULL;",
           (D + "test_the_tracers_edits_are_the_python_encoders",)),
    Mutant("env_none_option_is_full", "--env none writes no envp at all",
           "\t\t\t\to.env_mode = ENV_NONE;", "\t\t\t\to.env_mode = ENV_FULL;",
           (S + "test_env_none_writes_no_environment",)),
    Mutant("child_env_not_inherited", "in delta mode a forked child's base is its parent's environment",
           "\t\tif (!is_thread)\n\t\t\tproc_inherit_env(tr, child_pid, t->pid);", "",
           (D + "test_delta_records_rebuild_exactly_what_full_records_hold",)),
    Mutant("delta_base_always_own", "a delta is taken against the closer base: the process's own or the last exec's",
           "return cb < ca ? 0 : pid;", "return pid;", (S + "test_delta_picks_the_last_exec_as_base_when_it_is_closer",)),
    Mutant("stack_envp_off_by_one", "the envp is read from the new stack after argv's NULL (argc + 2 words up)",
           "size_t first = (size_t)w[0] + 2;", "size_t first = (size_t)w[0] + 1;",
           (E + "test_marker_reaches_the_whole_tree",)),
    Mutant("compat_check_inverted", "a 64-bit program's envp is read from its stack, a 32-bit one's from /proc",
           "if (r.cs != 0x33)", "if (r.cs == 0x33)", (E + "test_marker_reaches_the_whole_tree",),
           equivalent="/proc/<pid>/environ holds the very bytes of the new stack at the exec stop (nothing has run): "
                      "the records are the same, only slower"),
    # --- bookkeeping flags -----------------------------------------------------------------
    Mutant("is_thread_by_clone_vm", "a spawn is a thread when CLONE_THREAD is set (not CLONE_VM: vfork, posix_spawn)",
           "int is_thread = (a.flags & CLONE_THREAD) != 0;", "int is_thread = (a.flags & CLONE_VM) != 0;",
           (T + "test_spawn_classification",)),
    Mutant("exec_from_thread_not_taken_over", "an exec from a non-leader thread keeps what its entry stop read",
           "\tif (former != t->tid)\n\t\ttake_over_former(tr, t, former);", "",
           (E + "test_exec_from_a_non_leader_thread",)),
    Mutant("exit_status_without_128", "the tracer exits 128+N when the command was killed by signal N",
           "return 128 + WTERMSIG(tr->root_status);", "return WTERMSIG(tr->root_status);",
           (T + "test_exit_status_is_the_commands",)),
)


def check_mutants(source: str, mutants=MUTANTS) -> None:
    """Every mutant's old text occurs exactly once in ``source``; names are unique."""
    names = [m.name for m in mutants]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"tracer_mutants: mutant names used twice: {', '.join(sorted(dup))}")
    bad = [f"  {m.name}: its old text occurs {source.count(m.old)} times (must be once): {m.old!r}"
           for m in mutants if source.count(m.old) != 1 or m.old == m.new]
    if bad:
        raise SystemExit(f"tracer_mutants: {TRACER_C} changed under these mutants; update their old text:\n"
                         + "\n".join(bad))


def mutate(source: str, m: Mutant) -> str:
    return source.replace(m.old, m.new, 1)


def build(source_text: str, work: Path) -> tuple[Path | None, str]:
    """Compile ``source_text`` as tracer.c in ``work``: (binary, "") or (None, the compiler's messages)."""
    work.mkdir(parents=True, exist_ok=True)
    src = work / "tracer.c"
    src.write_text(source_text)
    exe = work / "tracer"
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    p = subprocess.run([cc, *CFLAGS, "-o", str(exe), str(src)], capture_output=True, text=True, timeout=300)
    return (exe, "") if p.returncode == 0 else (None, p.stderr)


# --- running the tests in this process, against one binary ------------------------------
_current: dict[str, Path] = {}


def _install_patch() -> None:
    """Point gorun_kit.trace at the binary (and source) in ``_current``, once per process:
    test modules that imported these names at their first import keep working."""
    import gorun_kit.trace as trace_pkg
    import gorun_kit.trace.runner as runner

    def tracer_binary() -> str:
        return str(_current["binary"])

    def tracer_source() -> Path:
        return _current["source"]

    for mod in (runner, trace_pkg):
        mod.tracer_binary = tracer_binary
        mod.tracer_source = tracer_source


class _Failures:
    """A pytest plugin that notes the tests that failed or errored."""

    def __init__(self):
        self.failed: list[str] = []
        self.passed = 0

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)
        elif report.passed and report.when == "call":
            self.passed += 1


def run_tests(binary: Path, source: Path, tests: list[str], log: Path, timeout: float) -> tuple[int, list[str], int]:
    """pytest ``tests`` against ``binary``: (pytest exit code, failed node ids, passed count).
    pytest's output goes to ``log``."""
    import pytest

    _current.update(binary=binary, source=source)
    plugin = _Failures()
    args = ["-q", "-x", "-p", "no:cacheprovider", "-p", "no:nbval", "-p", "no:randomly", f"--timeout={timeout:g}",
            "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"), *tests]
    cwd = os.getcwd()
    with open(log, "a") as f, _redirect_fds(f):
        os.chdir(REPO)
        try:
            code = pytest.main(args, plugins=[plugin])
        finally:
            os.chdir(cwd)
    return int(code), plugin.failed, plugin.passed


@contextlib.contextmanager
def _redirect_fds(f):
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _select(tests, skip_files) -> list[str]:
    seen, out = set(), []
    for t in tests:
        if t not in seen and not any(t.split("::")[0] == s for s in skip_files):
            seen.add(t)
            out.append(t)
    return out


_worker_ready = False


def _rounds(m: Mutant | None, skip: tuple[str, ...], targeted: bool) -> list[list[str]]:
    """The test lists to run in turn: the mutant's own tests, then the rest of QUICK."""
    if m is None:
        return [_select(QUICK, skip)]
    first = _select(m.tests, skip)
    rest = [t for t in _select(QUICK, skip) if t not in first]
    return [first or rest] if targeted else [first, rest]


def _verdict(exe: Path, work: Path, rounds: list[list[str]], timeout: float) -> tuple[str, str]:
    for tests in rounds:
        if not tests:
            continue
        code, failed, _ = run_tests(exe, work / "tracer.c", tests, work / "pytest.log", timeout)
        if failed:
            return "caught", failed[0]
        if code not in (0, 5):  # 5: nothing collected (a file that skips as a whole)
            return "error", f"pytest exit status {code} (a test name that does not exist?)"
    return "survived", ""


_worker_ready = False


def judge(name: str, work_root: str, skip_files: tuple[str, ...], new_files: tuple[str, ...], timeout: float,
          targeted: bool) -> dict:
    """Build mutant ``name`` and run its tests (in a worker process). A dict for the table;
    with ``new_files``, "before" is the verdict without their tests."""
    global _worker_ready
    sys.path.insert(0, str(REPO))
    if not _worker_ready:
        _install_patch()
        _worker_ready = True
    m = next(x for x in MUTANTS if x.name == name) if name != "(none)" else None
    work = Path(work_root) / name
    t0 = time.monotonic()
    source = TRACER_C.read_text()
    exe, err = build(mutate(source, m) if m else source, work)
    res = {"name": name, "verdict": "", "by": "", "before": "", "seconds": 0.0, "log": str(work / "pytest.log")}
    if exe is None:
        res.update(verdict="caught", before="caught", by="the compiler: " + err.strip().splitlines()[-1][:80])
    else:
        verdict, by = _verdict(exe, work, _rounds(m, skip_files + new_files, targeted), timeout)
        res.update(verdict=verdict, by=by, before=verdict)
        if verdict == "survived" and new_files:
            only_new = tuple(f for f in {t.split("::")[0] for t in QUICK} if f not in new_files)
            res["verdict"], res["by"] = _verdict(exe, work, _rounds(m, skip_files + only_new, targeted), timeout)
    res["seconds"] = round(time.monotonic() - t0, 1)
    return res


def _table(rows, mutants_by_name, before_column: bool) -> str:
    w = max(len(r["name"]) for r in rows)
    lines = []
    for r in rows:
        m = mutants_by_name[r["name"]]
        verdict = r["verdict"]
        if m.equivalent:
            verdict += " (equivalent)"
        short = r["by"].replace("tests/", "")
        if before_column:
            verdict = f"{r['before']:<9} -> {verdict}"
        lines.append(f"{r['name']:<{w}}  {verdict:<{34 if before_column else 22}} {r['seconds']:>6.1f}s  {m.breaks}"
                     + (f"\n{'':<{w}}  by {short}" if r["by"] else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="list the mutants and what each breaks, run nothing")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this mutant (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="mutants judged at once (default 1)")
    ap.add_argument("--skip-file", action="append", default=[], metavar="PATH",
                    help="leave out the tests of this file (e.g. to see what a new test file adds)")
    ap.add_argument("--new-file", action="append", default=[], metavar="PATH",
                    help="a test file whose effect to show: each verdict without it, then with it")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds one test may take (a hang is caught)")
    ap.add_argument("--targeted", action="store_true",
                    help="run only each mutant's own tests, not the quick set after them")
    ap.add_argument("--no-baseline", action="store_true", help="skip the check that the real tracer passes")
    ap.add_argument("--min-score", type=float, default=90.0, help="percent needed for exit status 0")
    ap.add_argument("-v", "--verbose", action="store_true", help="say where each mutant's pytest log is")
    a = ap.parse_args(argv)
    if a.jobs < 1:
        ap.error(f"-j {a.jobs}: give 1 or more")
    if a.timeout <= 0:
        ap.error(f"--timeout {a.timeout:g}: give a positive number of seconds")
    for opt, files in (("--skip-file", a.skip_file), ("--new-file", a.new_file)):
        for f in files:
            if not (REPO / f).is_file():
                ap.error(f"{opt} {f}: no such test file under {REPO}; give a path like tests/test_trace.py")
    check_mutants(TRACER_C.read_text())
    by_name = {m.name: m for m in MUTANTS}
    unknown = [n for n in a.only if n not in by_name]
    if unknown:
        ap.error(f"--only {', '.join(unknown)}: no such mutant; --list shows the names")
    chosen = [m for m in MUTANTS if not a.only or m.name in a.only]
    if a.list:
        w = max(len(m.name) for m in MUTANTS)
        for m in chosen:
            print(f"{m.name:<{w}}  {m.breaks}" + (f"\n{'':<{w}}  equivalent: {m.equivalent}" if m.equivalent else ""))
        print(f"{len(chosen)} mutants, {sum(1 for m in chosen if m.equivalent)} of them equivalent")
        return 0

    skip, new = tuple(a.skip_file), tuple(a.new_file)
    work_root = tempfile.mkdtemp(prefix="tracer-mutants-")
    keep_logs = False
    t0 = time.monotonic()
    try:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=a.jobs, mp_context=ctx) as pool:
            if not a.no_baseline:
                base = pool.submit(judge, "(none)", work_root, skip, (), a.timeout, a.targeted).result()
                if base["verdict"] != "survived":
                    print(f"tracer_mutants: the unmutated tracer fails {base['by']}; fix that first "
                          f"(pytest log: {base['log']})", file=sys.stderr)
                    keep_logs = True
                    return 3
                print(f"baseline: the real tracer passes ({base['seconds']:.0f} s)", flush=True)
            futures = {pool.submit(judge, m.name, work_root, skip, new, a.timeout, a.targeted): m for m in chosen}
            rows = []
            for fut in concurrent.futures.as_completed(futures):
                r = fut.result()
                rows.append(r)
                tag = r["verdict"] + (" (equivalent)" if by_name[r["name"]].equivalent else "")
                print(f"  {r['name']}: {tag} ({r['seconds']:.1f} s)" + (f"  log {r['log']}" if a.verbose else ""),
                      flush=True)
        order = {m.name: i for i, m in enumerate(MUTANTS)}
        rows.sort(key=lambda r: order[r["name"]])
        print()
        if a.new_file:
            print(f"verdicts: without {', '.join(a.new_file)} -> with it")
        print(_table(rows, by_name, bool(a.new_file)))
        real = [r for r in rows if not by_name[r["name"]].equivalent]
        errors = [r["name"] for r in rows if r["verdict"] == "error"]
        if errors:
            print(f"tracer_mutants: no verdict for {', '.join(errors)}: see their pytest logs", file=sys.stderr)
            keep_logs = True
        caught = sum(r["verdict"] == "caught" for r in real)
        score = 100.0 * caught / len(real) if real else 100.0
        eq = [by_name[r["name"]] for r in rows if by_name[r["name"]].equivalent]
        all_caught = sum(r["verdict"] == "caught" for r in rows)
        if new:
            before = sum(r["before"] == "caught" for r in real)
            print(f"\nwithout {', '.join(new)}: caught {before} of {len(real)} "
                  f"({100.0 * before / len(real) if real else 100.0:.0f}%)", end="")
        print(f"\ncaught {caught} of {len(real)} mutants that are not equivalent: {score:.0f}% "
              f"({all_caught} of {len(rows)} with the {len(eq)} equivalent ones); {time.monotonic() - t0:.0f} s")
        for m in eq:
            print(f"equivalent: {m.name}: {m.equivalent}")
        wrong = [r["name"] for r in rows if by_name[r["name"]].equivalent and r["verdict"] == "caught"]
        if wrong:
            print(f"caught although listed as equivalent (drop the claim): {', '.join(wrong)}")
        if a.verbose:
            keep_logs = True
        return 0 if score >= a.min_score else 1
    finally:
        if keep_logs:
            print(f"pytest logs kept in {work_root}", file=sys.stderr)
        else:
            shutil.rmtree(work_root, ignore_errors=True)


def _reexec_in_venv() -> None:
    """Run under the repository's .venv when started by a Python without the kit."""
    try:
        import gorun_kit  # noqa: F401
        import pytest  # noqa: F401
        import pytest_timeout  # noqa: F401
    except ImportError:
        venv = REPO / ".venv" / "bin" / "python"
        if venv.is_file() and Path(sys.prefix).resolve() != venv.parent.parent.resolve():
            os.execv(str(venv), [str(venv), __file__, *sys.argv[1:]])
        raise SystemExit("tracer_mutants: needs gorun_kit, pytest and pytest-timeout; run `make setup` first")


if __name__ == "__main__":
    _reexec_in_venv()
    sys.exit(main())
