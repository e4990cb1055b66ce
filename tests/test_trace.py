"""gorun_kit.trace and its C tracer (gorun_kit/_src/tracer): the schema, agreement with strace,
the modes, the classification, errors, and cleanup."""
from __future__ import annotations

from collections import Counter

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gorun_kit import trace

sys.path.insert(0, os.path.dirname(__file__))
from seccomp_helpers import EPERM, failing_syscall  # noqa: E402
from trace_helpers import (all_pids, c_prog, canonical, go_prog, leftovers, marked_env, snapshot,  # noqa: E402
                           still_there)

pytestmark = pytest.mark.live

# --- the JSON Lines schema of gorun_kit/_src/tracer/README.md -------------
INT, STR, BOOL, LIST, NULL, DICT = int, str, bool, list, type(None), dict
SCHEMA = {
    "start": {"ts_ns": INT, "pid": INT, "mode": STR, "argv": LIST, "attached": BOOL, "version": INT},
    "spawn": {"ts_ns": INT, "parent_pid": INT, "parent_tid": INT, "child_pid": INT, "child_tid": INT,
              "syscall": STR, "flags": INT, "flag_names": LIST, "exit_signal": (STR, NULL), "is_thread": BOOL},
    "exec": {"ts_ns": INT, "pid": INT, "tid": INT, "syscall": STR, "filename": STR, "argv": LIST, "envp": LIST,
             "former_tid": (INT, NULL), "source": STR, "complete": BOOL},
    "exec_failed": {"ts_ns": INT, "pid": INT, "tid": INT, "syscall": STR, "filename": STR, "argv": LIST,
                    "envp": LIST, "errno": STR, "source": STR, "complete": BOOL},
    "exit": {"ts_ns": INT, "pid": INT, "tid": INT, "exit_code": (INT, NULL), "signal": (STR, NULL),
             "core_dumped": BOOL, "last_thread": BOOL},
    "end": {"ts_ns": INT, "exit_status": INT, "tracer_cpu_ns": INT, "interrupted_by": (STR, NULL), "stops": DICT,
            "mem_read_calls": INT, "mem_read_bytes": INT, "peek_words": INT, "records": INT},
}
OPTIONAL = {"exec": {"dirfd": INT, "at_flags": INT}, "exec_failed": {"dirfd": INT, "at_flags": INT}}


def check_schema(lines: list[str]) -> list[dict]:
    records = [json.loads(line) for line in lines]
    assert records[0]["type"] == "start" and records[-1]["type"] == "end"
    assert records[-1]["records"] == len(records)
    last_ts = 0
    for r in records:
        kind = r["type"]
        assert kind in SCHEMA, f"unknown record type {kind}"
        fields = SCHEMA[kind]
        extra = set(r) - set(fields) - {"type"} - set(OPTIONAL.get(kind, {}))
        assert not extra, f"{kind} has undocumented fields {extra}"
        for name, typ in fields.items():
            assert name in r, f"{kind} lacks {name}"
            assert isinstance(r[name], typ) and not (typ is INT and isinstance(r[name], bool)), (kind, name, r[name])
        assert r["ts_ns"] >= last_ts, "timestamps must be monotonic"
        last_ts = r["ts_ns"]
        for name in ("argv", "envp", "flag_names"):
            if name in r:
                assert all(isinstance(x, str) for x in r[name])
    return records


def test_schema_of_every_record_kind(tmp_path):
    """One run that produces spawn, exec, exec_failed and exit records, checked
    line by line against the documented schema."""
    out = tmp_path / "t.jsonl"
    prog = c_prog("spawn_kinds")
    rc = subprocess.run([trace.tracer_binary(), "--output", str(out), "--", prog], capture_output=True).returncode
    assert rc == 0
    records = check_schema(out.read_text().splitlines())
    assert {r["type"] for r in records} >= {"start", "spawn", "exec", "exit", "end"}
    out2 = tmp_path / "t2.jsonl"
    rc = subprocess.run([trace.tracer_binary(), "--output", str(out2), "--", c_prog("execvp_path"),
                         "/nonexistent-a:/usr/bin", "true"], capture_output=True).returncode
    assert rc == 0
    assert "exec_failed" in {r["type"] for r in check_schema(out2.read_text().splitlines())}


def test_exit_status_is_the_commands():
    for code in (0, 3, 42):
        t = trace.run(["/bin/sh", "-c", f"exit {code}"])
        assert t.returncode == code
    t = trace.run(["/bin/sh", "-c", "kill -TERM $$"])
    assert t.returncode == 128 + signal.SIGTERM
    root_exit = [e for e in t.exits if e.pid == t.root_pid and e.last_thread]
    assert root_exit and root_exit[0].signal == "SIGTERM"


# --- cross-check against strace ------------------------------------------
def _programs():
    return {
        "sh-loop": lambda: ["/bin/sh", "-c", "for i in 1 2 3; do /bin/true $i; done; ls /nonexistent 2>/dev/null; "
                            "echo x | cat >/dev/null"],
        "spawn_kinds": lambda: [c_prog("spawn_kinds")],
        "execvp_path": lambda: [c_prog("execvp_path"), "/nonexistent-a:/nonexistent-b:/usr/bin", "true", "ok"],
        "many_env": lambda: [c_prog("many_env"), "20", "20"],
        "weird_argv": lambda: [c_prog("weird_argv")],
        "go-goroutines": lambda: [go_prog("trace_goroutines"), "-spawners", "4", "-rounds", "3"],
        "go-cgo": lambda: [go_prog("trace_cgo", cgo=True)],
    }


def _only(what: str, ours: Counter, theirs: Counter) -> str:
    return f"{what} differ: only our tracer saw {dict(ours - theirs)}, only strace saw {dict(theirs - ours)}"


@pytest.mark.parametrize("name", list(_programs()))
def test_records_agree_with_strace(name):
    """Our tracer and strace, on the same program: the same execs (filename,
    argv, envp), failed execs, process edges with their clone flags, and (for
    deterministic programs) the same thread spawns."""
    cmd = _programs()[name]()
    env, mark = marked_env()
    ours = trace.run(cmd, env=env, timeout=60)
    theirs = trace.strace_run(cmd, env=env, timeout=60)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    go = name.startswith("go-")  # the Go runtime makes a varying number of threads
    a, b = canonical(ours, threads=not go), canonical(theirs, threads=not go)
    # A disagreement names what only one instrument saw: a rare failure must carry its evidence.
    assert a[0] == b[0], _only("execs", a[0], b[0])
    assert a[1] == b[1], _only("failed execs", a[1], b[1])
    assert a[2] == b[2], _only("process edges", a[2], b[2])
    assert a[3] == b[3], _only("thread spawns", a[3], b[3])
    if go:  # every thread either instrument saw was made the same way
        kinds = [Counter({(s.syscall, s.flags): 1 for s in t.spawns if s.is_thread}) for t in (ours, theirs)]
        assert kinds[0] == kinds[1], _only("kinds of thread spawn", *kinds)
    ended = sum(1 for e in ours.exits if e.last_thread)
    assert ended == len(ours.processes()), f"{ended} last-thread exits for {len(ours.processes())} processes"
    assert not leftovers(mark, all_pids(ours))


def test_modes_agree():
    cmd = [c_prog("spawn_kinds")]
    runs = {m: trace.run(cmd, mode=m) for m in trace.MODES}
    keys = {m: canonical(t) for m, t in runs.items()}
    assert keys["events"] == keys["seccomp"] == keys["syscalls"]
    # the modes differ exactly in how many stops they cost
    assert runs["events"].stats["stops"]["seccomp"] < runs["seccomp"].stats["stops"]["seccomp"]
    assert runs["syscalls"].stats["stops"]["syscall"] > 10 * runs["events"].stats["stops"]["syscall"]


def test_spawn_classification():
    t = trace.run([c_prog("spawn_kinds")])
    by_arg = {}
    kinds = t.classify()
    for s, kind in kinds.items():
        child = t.processes().get(s.child_pid)
        if child and child.execs:
            by_arg[child.execs[0].argv[-1]] = kind
    assert by_arg["via-fork"] == "glibc-fork"
    assert by_arg["via-vfork"] == "vfork"
    assert by_arg["via-posix_spawn"] == "posix_spawn"
    assert by_arg["/bin/true via-system"] == "posix_spawn"  # system() runs sh via posix_spawn's clone3
    assert list(kinds.values()).count("pthread") == 1

    g = trace.run([go_prog("trace_spawnbench"), "-n", "5", "-sleepers", "2"])
    gk = g.spawn_kinds()
    assert gk["go-exec"] == 5 and gk["go-pidfd-probe"] == 1 and gk["go-thread"] >= 2
    assert set(gk) == {"go-exec", "go-pidfd-probe", "go-thread"}


def test_trees_and_lifetimes():
    """spawn_kinds makes 4 children (fork, vfork, posix_spawn, system); the
    shell that system() starts makes one more."""
    t = trace.run([c_prog("spawn_kinds")])
    tree = t.process_tree()
    procs = t.processes()
    assert len(procs) == 6
    assert len(tree[t.root_pid]) == 4
    shells = [p for p in procs.values() if p.execs and p.execs[0].argv[:2] == ("sh", "-c")]
    assert len(shells) == 1 and len(tree[shells[0].pid]) == 1
    for lt in t.lifetimes():
        assert lt.end_ns >= lt.start_ns
    assert all(p.end_ns is not None and p.exit_code == 0 for p in procs.values())
    assert json.dumps(t.to_dict())  # records serialise


def test_go_thread_tree_and_thread_tids():
    t = trace.run([go_prog("trace_spawnbench"), "-n", "3", "-sleepers", "4"])
    tids = t.thread_tids(t.root_pid)
    assert len(tids) >= 4  # at least one M per sleeper
    threads = t.threads()
    assert all(threads[tid].pid == t.root_pid and threads[tid].exit is not None for tid in tids)
    tree = t.thread_tree(t.root_pid)
    assert set().union(*tree.values()) == tids


# --- bytes that are not UTF-8 ---------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=0, max_size=40).filter(lambda b: b"\0" not in b), min_size=1, max_size=4))
def test_argv_bytes_round_trip(args):
    """Any bytes (but NUL) in argv come back exactly through JSON + os.fsencode."""
    t = trace.run([b"/bin/true", *args])
    assert t.execs[-1].argv_bytes == (b"/bin/true", *args)


# --- errors and cleanup -------------------------------------------------
def test_nonexistent_command_is_a_clear_error():
    with pytest.raises(trace.CommandNotFound, match="no-such-command-xyz"):
        trace.run(["no-such-command-xyz"])
    with pytest.raises(trace.CommandNotFound, match="does not exist"):
        trace.run(["/nonexistent/dir/prog"])
    with pytest.raises(ValueError, match="mode"):
        trace.run(["/bin/true"], mode="fast")


def test_raw_tracer_on_missing_command(tmp_path):
    out = tmp_path / "t.jsonl"
    p = subprocess.run([trace.tracer_binary(), "--output", str(out), "--", "no-such-command-xyz"],
                       capture_output=True, text=True)
    assert p.returncode == 127
    assert "cannot execute 'no-such-command-xyz'" in p.stderr
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    fails = [r for r in recs if r["type"] == "exec_failed"]
    assert fails and all(r["errno"] == "ENOENT" for r in fails)


def test_timeout_kills_the_tree():
    env, mark = marked_env()
    t0 = time.monotonic()
    with pytest.raises(trace.TraceTimeout) as info:
        trace.run(["/bin/sh", "-c", "sleep 30 & sleep 30; wait"], env=env, timeout=1)
    assert time.monotonic() - t0 < 15
    partial = info.value.partial
    assert partial is not None and any(e.program == "sleep" for e in partial.execs)
    assert not leftovers(mark, all_pids(partial))


def _wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_tracer_leaves_nothing(tmp_path, sig):
    env, mark = marked_env()
    out = tmp_path / "t.jsonl"
    proc = subprocess.Popen([trace.tracer_binary(), "--output", str(out), "--", "/bin/sh", "-c",
                             "sleep 30 & sleep 30 & wait"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: len(leftovers(mark)) >= 3), "the traced tree did not start"
        proc.send_signal(sig)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig
    t = trace.load(out)
    assert t.stats["interrupted_by"] == signal.Signals(sig).name
    assert not leftovers(mark, all_pids(t))
    killed = [e for e in t.exits if e.signal == "SIGKILL"]
    assert len(killed) >= 3


def _kill_tracer_then_expect_nothing(proc, mark):
    """SIGKILL the tracer; every process of its tree must end, none left as a zombie."""
    before = snapshot(mark)  # a zombie's environ is empty: find them by pid afterwards
    assert len(before) >= 3
    proc.kill()
    proc.wait(timeout=10)
    assert _wait_for(lambda: not still_there(before) and not leftovers(mark), timeout=15), \
        still_there(before) + leftovers(mark)


def test_tracer_killed_with_sigkill_takes_the_tree_with_it():
    """PTRACE_O_EXITKILL: if the tracer dies, every tracee gets SIGKILL, and
    none is left a zombie (the orphans go to PID 1, which reaps them)."""
    env, mark = marked_env()
    proc = subprocess.Popen([trace.tracer_binary(), "--output", "/dev/null", "--", "/bin/sh", "-c",
                             "sleep 30 & sleep 30; wait"], env=env, stdout=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: len(leftovers(mark)) >= 3)
        _kill_tracer_then_expect_nothing(proc, mark)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("delay_ms", [0, 3, 11, 29, 57])
def test_tracer_killed_with_sigkill_mid_exec_leaves_nothing(delay_ms):
    """The tracer SIGKILLed while its tree is busy forking and exec'ing (some
    tracees in an exec or clone event stop, some just created): EXITKILL
    reaches every one of them, including children not yet reported."""
    env, mark = marked_env()
    loop = "while :; do /bin/true & /bin/true; done & while :; do /bin/true; done"
    proc = subprocess.Popen([trace.tracer_binary(), "--output", "/dev/null", "--", "/bin/sh", "-c", loop],
                            env=env, stdout=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: len(leftovers(mark)) >= 3), "the traced loops did not start"
        time.sleep(delay_ms / 1000)
        _kill_tracer_then_expect_nothing(proc, mark)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_group_stop_is_kept_stopped_then_resumed():
    """A process that stops itself (SIGSTOP) stays stopped under the tracer
    (PTRACE_LISTEN) until SIGCONT, then goes on."""
    t = trace.run(["/bin/sh", "-c", "(sleep 0.3; kill -CONT $$) & kill -STOP $$; echo resumed"], timeout=20)
    assert t.returncode == 0 and t.stdout.strip() == b"resumed"
    assert t.stats["stops"]["group"] >= 1


def test_summary_mentions_kinds_and_programs():
    t = trace.run([c_prog("spawn_kinds")])
    s = t.summary()
    assert "glibc-fork" in s and "posix_spawn" in s and "true" in s


def test_attach_to_a_running_process(tmp_path):
    """--attach: follow a process that already runs; execs come from /proc at
    the exec event; the tracer exits with the process's status."""
    env, mark = marked_env()
    target = subprocess.Popen(["/bin/sh", "-c", "sleep 0.5; /bin/echo attached; exit 7"], env=env,
                              stdout=subprocess.DEVNULL)
    out = tmp_path / "t.jsonl"
    try:
        p = subprocess.run([trace.tracer_binary(), "--output", str(out), "--attach", str(target.pid)],
                           capture_output=True, timeout=30)
    finally:
        target.wait(timeout=30)
    assert p.returncode == 7 == target.returncode
    records = check_schema(out.read_text().splitlines())
    assert records[0]["attached"] is True
    t = trace.load(out)
    echo = [e for e in t.execs if e.program == "echo"]
    assert len(echo) == 1 and echo[0].argv == ("/bin/echo", "attached") and echo[0].source == "proc"
    assert f"GORUN_KIT_TRACE_MARK={mark}" in echo[0].envp


def test_interrupted_attach_detaches_and_leaves_the_process_running(tmp_path):
    target = subprocess.Popen(["/bin/sleep", "30"])
    try:
        tracer = subprocess.Popen([trace.tracer_binary(), "--output", str(tmp_path / "t.jsonl"),
                                   "--attach", str(target.pid)], stderr=subprocess.PIPE)
        time.sleep(0.3)
        tracer.send_signal(signal.SIGINT)
        assert tracer.wait(timeout=10) == 128 + signal.SIGINT
        with open(f"/proc/{target.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        assert state in "SR", f"the detached process is in state {state}"
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()


def test_attach_api_follows_a_process_to_its_exit():
    env, mark = marked_env()
    target = subprocess.Popen(["/bin/sh", "-c", "sleep 0.4; /bin/echo attached; (/bin/true &); exit 6"], env=env,
                              stdout=subprocess.DEVNULL)
    try:
        t = trace.attach(target.pid)
    finally:
        target.wait(timeout=30)
    assert t.returncode == 6 == target.returncode
    assert t.root_pid == target.pid and t.command[:2] == ("--attach", str(target.pid))
    echo = [e for e in t.execs if e.program == "echo"]
    assert len(echo) == 1 and echo[0].argv == ("/bin/echo", "attached") and echo[0].source == "proc"
    assert any(e.program == "true" for e in t.execs), "a grandchild's exec was not followed"
    assert not t.exec_failures  # not visible when attached (no seccomp filter)
    assert _wait_for(lambda: not leftovers(mark, all_pids(t))), leftovers(mark, all_pids(t))


def test_attach_api_detaches_after_duration_and_the_process_runs_on():
    target = subprocess.Popen(["/bin/sh", "-c", "while :; do /bin/true; sleep 0.05; done"])
    try:
        t = trace.attach(target.pid, mode="syscalls", duration=0.6)
        assert t.returncode is None and t.stats["interrupted_by"] == "SIGTERM"
        assert len([e for e in t.execs if e.program == "true"]) >= 2
        time.sleep(0.2)
        with open(f"/proc/{target.pid}/status") as f:
            status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        assert status["State"][0] in "SR" and status["TracerPid"].strip() == "0", status
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()


def test_attach_api_bad_input_is_a_clear_error():
    with pytest.raises(trace.ProcessNotFound, match="no process with pid 999999999"):
        trace.attach(999999999)
    for bad in (0, -3, True, "12"):
        with pytest.raises(ValueError, match="positive process id"):
            trace.attach(bad)
    with pytest.raises(ValueError, match="cannot trace itself"):
        trace.attach(os.getpid())
    with pytest.raises(ValueError, match="seccomp filter cannot be installed"):
        trace.attach(1, mode="seccomp")


def test_cli_attach_and_its_argument_errors():
    # long enough for a new Python to start and attach on a loaded machine
    target = subprocess.Popen(["/bin/sh", "-c", "sleep 3; exit 4"])
    try:
        p = subprocess.run([sys.executable, "-m", "gorun_kit", "trace", "--attach", str(target.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        target.wait(timeout=30)
    assert p.returncode == 4, p.stderr
    for args in (["--attach", "1", "--", "/bin/true"], [], ["--duration", "1", "--", "/bin/true"],
                 ["--attach", "1", "--mode", "seccomp"]):
        p = subprocess.run([sys.executable, "-m", "gorun_kit", "trace", *args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2 and "gorun-kit trace:" in p.stderr, (args, p.stderr)


NR_PTRACE, NR_PROCESS_VM_READV = 101, 310
_deny_ptrace = failing_syscall(NR_PTRACE, EPERM)


def test_ptrace_not_permitted_is_a_clear_error(tmp_path):
    env, mark = marked_env()
    p = subprocess.run([trace.tracer_binary(), "--output", str(tmp_path / "t.jsonl"), "--", "/bin/true"],
                       env=env, preexec_fn=_deny_ptrace, capture_output=True, text=True, timeout=30)
    assert p.returncode == 125
    assert "PTRACE_SEIZE of the command failed: Operation not permitted" in p.stderr
    assert "SYS_PTRACE" in p.stderr  # says what to do
    assert not leftovers(mark)
    # and through gorun_kit.trace: TracerError carrying the tracer's words
    from gorun_kit.trace.runner import _parse

    with pytest.raises(trace.TracerError, match="not permitted"):
        _parse(str(tmp_path / "t.jsonl"), ["/bin/true"], p.returncode, b"", p.stderr.encode(), strict=True)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the filter uses x86_64 syscall numbers")
def test_peekdata_fallback_reads_the_same_records(tmp_path):
    """Where process_vm_readv is not allowed the tracer reads the tracee's
    memory with PTRACE_PEEKDATA, one word at a time: the records must be the
    same, byte for byte, including strings longer than the first read (512
    bytes), than a page and than the 64 KiB window, at odd offsets."""
    odd = ["", " ", "a\nb\tc", "q\"uo'te\\", "\udcff\udcfe not UTF-8", "日本語", "x" * 511, "y" * 4097,
           "z" * 100_003, "-"]
    env = {"PATH": "/usr/bin:/bin", "EMPTY": "", "ODD": "a=b\x01\x7f\udc80", "LONG": "e" * 70_001,
           **{f"V{i}": "v" * i for i in range(0, 300, 7)}}
    cmd = ["/bin/sh", "-c", '/bin/echo "$@" >/dev/null; exec /usr/bin/env -u LONG /bin/true "$@"', "sh", *odd]

    def traced(name, preexec_fn=None):
        out = tmp_path / f"{name}.jsonl"
        p = subprocess.run([trace.tracer_binary(), "--output", str(out), "--", *cmd], env=env,
                           preexec_fn=preexec_fn, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        check_schema(out.read_text().splitlines())
        return trace.load(out)

    normal = traced("normal")
    peek = traced("peek", failing_syscall(NR_PROCESS_VM_READV))
    assert normal.stats["mem_read_calls"] > 0 and normal.stats["peek_words"] == 0
    assert peek.stats["peek_words"] > 0
    assert peek.stats["mem_read_calls"] == 1  # the one refused try, then PEEKDATA only

    def execs(t):
        return [(e.filename, e.argv_bytes, e.envp, e.complete) for e in t.execs]

    assert execs(peek) == execs(normal)
    assert [e.program for e in normal.execs] == ["sh", "echo", "env", "true"]
    want_env = tuple(f"{k}={v}" for k, v in env.items())
    assert all(e.complete for e in normal.execs)
    assert normal.execs[0].argv == tuple(cmd) and normal.execs[0].envp == want_env
    assert normal.execs[1].argv == ("/bin/echo", *odd)
    assert normal.execs[3].argv == ("/bin/true", *odd)
    assert normal.execs[3].argv_bytes[1:] == tuple(os.fsencode(a) for a in odd)
    assert "LONG=" + "e" * 70_001 not in normal.execs[3].envp and "ODD=a=b\x01\x7f\udc80" in normal.execs[3].envp
