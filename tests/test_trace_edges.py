"""The tracer's edge cases, one small program each (labs_c/tests, labs_go/trace_*).
After each: no process of the traced tree is left (checked through a marker
in the environment every process inherits, and for zombies)."""
from __future__ import annotations

import os
import stat
import sys

import pytest

from gorun_kit import trace

sys.path.insert(0, os.path.dirname(__file__))
from trace_helpers import MARK, all_pids, c_prog, go_prog, leftovers, marked_env  # noqa: E402

pytestmark = pytest.mark.live


def run_marked(cmd, **kw):
    env, mark = marked_env()
    t = trace.run(cmd, env=env, timeout=120, **kw)
    assert not leftovers(mark, all_pids(t)), leftovers(mark, all_pids(t))
    return t


def test_exec_from_a_non_leader_thread():
    t = run_marked([c_prog("exec_from_thread")])
    assert t.returncode == 0
    thread_tid = int(t.stdout.split()[-1])  # the thread prints its own tid through echo
    assert thread_tid != t.root_pid
    ex = t.execs[-1]
    assert ex.program == "echo"
    assert ex.former_tid == thread_tid  # PTRACE_GETEVENTMSG at the exec event
    assert ex.tid == ex.pid == t.root_pid  # the kernel gave it the leader's tid
    assert thread_tid in t.thread_tids(t.root_pid)
    # the old tid never reports an exit; the process ends once, as its last thread
    assert not [e for e in t.exits if e.tid == thread_tid]
    assert [e.last_thread for e in t.exits] == [True]
    assert t.threads()[thread_tid].end_ns == ex.ts_ns


def test_execvp_walks_path(tmp_path):
    noexec = tmp_path / "noexec"
    noexec.mkdir()
    (noexec / "true").write_text("#!/bin/sh\n")
    (noexec / "true").chmod(stat.S_IRUSR | stat.S_IWUSR)  # not executable: EACCES
    path = f"/nonexistent-1:/nonexistent-2:{noexec}:/usr/bin"
    t = run_marked([c_prog("execvp_path"), path, "true", "arg"])
    assert t.returncode == 0
    tried = [(e.filename, e.errno) for e in t.exec_failures]
    # as root, EACCES needs no x bit for anyone: the kernel still refuses a file without any x bit
    assert tried == [("/nonexistent-1/true", "ENOENT"), ("/nonexistent-2/true", "ENOENT"),
                     (f"{noexec}/true", "EACCES")]
    assert t.execs[-1].filename == "/usr/bin/true" and t.execs[-1].argv == ("true", "arg")
    assert all(e.argv == ("true", "arg") for e in t.exec_failures)


def _expected_env(i: int, kb: int) -> tuple[str, ...]:
    nvars = kb * 1024 // 1000 + 1
    out = []
    for j in range(nvars):
        head = f"V{j}_{i}="
        out.append(head + "".join(chr(ord("a") + (i + j + c) % 26) for c in range(len(head), 1000)))
    return tuple(out)


def test_300_children_with_100kb_environments():
    t = run_marked([c_prog("many_env"), "300", "100"])
    assert t.returncode == 0
    children = [e for e in t.execs if e.pid != t.root_pid]
    assert len(children) == 300
    assert all(e.complete and e.source == "entry" for e in children)
    for e in children:
        i = int(e.argv[1].split("-")[1])
        env = tuple(v for v in e.envp if not v.startswith("GORUN_KIT_"))
        assert env == _expected_env(i, 100), f"child {i}: environment differs"
        assert sum(len(v) + 1 for v in e.envp) > 100 * 1000
    assert sorted(int(e.argv[1].split("-")[1]) for e in children) == list(range(300))


WEIRD_ARGV = (b"true", b"line1\nline2", b"", b"\xff\xfe bad", b"caf\xc3\xa9", b"\xed\xa0\x80 surrogate",
              b"tab\there", b'quote" back\\slash', b"\xe2\x82 truncated", b"ctl\x01\x1f\x7f")


def test_argv_with_newlines_empty_strings_and_invalid_utf8():
    t = run_marked([c_prog("weird_argv")])
    ex = t.execs[-1]
    assert ex.argv_bytes == WEIRD_ARGV
    assert ex.envp_bytes[:2] == (b"WEIRD=\x80\x81\xc3", b"EMPTY=")
    # the same through the file format: write, load, compare
    s = trace.strace_run([c_prog("weird_argv")])
    assert s.execs[-1].argv_bytes == WEIRD_ARGV


def test_written_jsonl_round_trips(tmp_path):
    t = run_marked([c_prog("weird_argv")])
    path = tmp_path / "t.jsonl"
    t.write_jsonl(path)
    again = trace.load(path)
    assert again.events == t.events and again.root_pid == t.root_pid
    assert again.execs[-1].argv_bytes == WEIRD_ARGV


def test_tracee_killed_while_its_children_run():
    """kill_tree starts 3 `sleep 1` and SIGKILLs itself: the tracer records
    its death, follows the orphans to their end, and exits 128+9."""
    t = run_marked([c_prog("kill_tree"), "3", "1"])
    assert t.returncode == 128 + 9
    root_exit = [e for e in t.exits if e.pid == t.root_pid]
    assert len(root_exit) == 1 and root_exit[0].signal == "SIGKILL"
    sleeps = [p for p in t.processes().values() if p.program == "sleep"]
    assert len(sleeps) == 3
    assert all(p.exit_code == 0 and p.end_ns > root_exit[0].ts_ns for p in sleeps)


def test_go_spawning_from_many_goroutines_while_others_block():
    t = run_marked([go_prog("trace_goroutines"), "-spawners", "12", "-rounds", "4", "-blockers", "4"])
    assert t.returncode == 0
    args = sorted(e.argv[1] for e in t.execs if e.program == "echo")
    assert args == sorted(f"g{g}-r{j}" for g in range(12) for j in range(4))
    kinds = t.spawn_kinds()
    assert kinds["go-exec"] == 48 and kinds["go-pidfd-probe"] == 1
    # every child was created by some thread of the Go process, several threads took part
    parents = {s.parent_tid for s in t.spawns if not s.is_thread}
    assert {s.parent_pid for s in t.spawns if not s.is_thread} == {t.root_pid}
    assert parents <= {t.root_pid} | t.thread_tids(t.root_pid)
    assert sorted(t.stdout.split()) == sorted(a.encode() for a in args)


def test_cgo_threads_come_from_pthread_create():
    t = run_marked([go_prog("trace_cgo", cgo=True)])
    assert t.returncode == 0 and t.stdout.strip() == b"from-cgo"
    threads = [s for s in t.spawns if s.is_thread]
    assert threads and all(s.syscall == "clone3" for s in threads)
    assert set(t.classify()[s] for s in threads) == {"pthread"}
    assert all(s.has("CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID", "CLONE_SETTLS") for s in threads)
    assert [e.argv for e in t.execs if e.program == "echo"] == [("/bin/echo", "from-cgo")]


def test_marker_reaches_the_whole_tree():
    """The leftover check only works if the marker is inherited: show it is."""
    env, mark = marked_env()
    t = trace.run(["/bin/sh", "-c", "/bin/true"], env=env)
    assert all(f"{MARK}={mark}" in e.envp for e in t.execs)


def test_huge_arguments_are_never_truncated():
    """Ten arguments of MAX_ARG_STRLEN-1 bytes (131071, the kernel's longest
    single argument), 1.3 MB in all: every byte comes back."""
    args = [bytes([65 + i]) * 131071 for i in range(10)]
    t = run_marked([b"/bin/true", *args])
    assert t.returncode == 0
    ex = t.execs[-1]
    assert ex.complete and ex.argv_bytes == (b"/bin/true", *args)
