"""The strace parser on fixed text (no process runs): split calls, hex strings,
clone3's struct, the tid change of an exec from a non-leader thread."""
from __future__ import annotations

import os
import shutil

import pytest

from gorun_kit import trace
from gorun_kit.trace import parse_strace


def hx(b: bytes) -> str:
    return '"' + "".join(f"\\x{c:02x}" for c in b) + '"'


ARGV = [b"echo", b"line1\nline2", b"\xff bad"]
TEXT = f"""\
100 1700000000.000001 execve({hx(b"./prog")}, [{hx(b"./prog")}], [{hx(b"A=1")}]) = 0
100 1700000000.000100 clone3({{flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f0, parent_tid=0x7f0, exit_signal=0, stack=0x7e0, stack_size=0x7fff80, tls=0x7f6c0}} => {{parent_tid=[101]}}, 88) = 101
100 1700000000.000200 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD <unfinished ...>
102 1700000000.000300 execve({hx(b"/nonexistent/echo")}, [{", ".join(hx(a) for a in ARGV)}], [{hx(b"A=1")}]) = -1 ENOENT (No such file or directory)
100 1700000000.000310 <... clone resumed>, parent_tid=[5]) = 102
102 1700000000.000400 execve({hx(b"/bin/echo")}, [{", ".join(hx(a) for a in ARGV)}], [{hx(b"A=1")}]) = 0
102 1700000000.000500 +++ exited with 0 +++
101 1700000000.000600 execve({hx(b"/bin/true")}, [{hx(b"true")}], [] <pid changed to 100 ...>
100 1700000000.000700 +++ superseded by execve in pid 101 +++
100 1700000000.000710 <... execve resumed>) = 0
100 1700000000.000900 +++ killed by SIGKILL +++
"""


def test_parse_strace_records():
    t = parse_strace(TEXT.splitlines(True), command=["./prog"], returncode=137)
    assert t.root_pid == 100 and t.tool == "strace"
    thread, child = t.spawns
    assert thread.syscall == "clone3" and thread.is_thread and thread.child_pid == 100 and thread.child_tid == 101
    assert thread.has("CLONE_SETTLS", "CLONE_PARENT_SETTID") and thread.exit_signal is None
    assert child.syscall == "clone" and not child.is_thread and child.child_pid == 102
    assert child.flags == 0x100 | 0x1000 | 0x4000 | 17 and child.exit_signal == "SIGCHLD"
    assert child.flag_names == ("CLONE_VM", "CLONE_PIDFD", "CLONE_VFORK", "SIGCHLD")
    (fail,) = t.exec_failures
    assert fail.errno == "ENOENT" and fail.filename == "/nonexistent/echo"
    assert fail.argv_bytes == tuple(ARGV)
    execs = t.execs
    assert [e.filename for e in execs] == ["./prog", "/bin/echo", "/bin/true"]
    assert execs[1].argv_bytes == tuple(ARGV)
    last = execs[2]
    assert last.tid == last.pid == 100 and last.former_tid == 101 and last.envp == ()
    exits = t.exits
    assert [(e.pid, e.exit_code, e.signal, e.last_thread) for e in exits] == [
        (102, 0, None, True), (100, None, "SIGKILL", True)]
    assert t.processes()[102].kind == "go-exec"
    assert t.thread_tids(100) == {101}
    assert exits[0].ts_ns == 1_700_000_000_000_500_000


# --- any syscall as a SyscallEvent ------------------------------------------

PATH_E = hx("/etc/hé \"x\"".encode())
AB = hx(b"a\nb")
CALLS = f"""\
200 1700000001.000000 execve({hx(b"/bin/sh")}, [{hx(b"sh")}, {hx(b"-c")}], []) = 0
200 1700000001.000010 openat(AT_FDCWD, {PATH_E}, O_RDONLY|O_CLOEXEC) = 3
200 1700000001.000020 openat(AT_FDCWD, {hx(b"/missing")}, O_RDONLY) = -1 ENOENT (No such file or directory)
200 1700000001.000030 wait4(-1,  <unfinished ...>
201 1700000001.000040 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00aa000000
201 1700000001.000050 exit_group(3)     = ?
201 1700000001.000060 +++ exited with 3 +++
200 1700000001.000070 <... wait4 resumed>[{{WIFEXITED(s) && WEXITSTATUS(s) == 3}}], 0, NULL) = 201
200 1700000001.000080 write(1, {AB}..., 3) = 3
200 1700000001.000090 exit_group(0)     = ?
200 1700000001.000100 +++ exited with 0 +++
"""


def test_other_syscalls_become_syscall_events():
    t = parse_strace(CALLS.splitlines(True))
    assert [c.name for c in t.syscalls()] == ["openat", "openat", "mmap", "exit_group", "wait4", "write", "exit_group"]
    ok, missing = t.syscalls("openat")
    assert ok.args == ("AT_FDCWD", '/etc/hé "x"', "O_RDONLY|O_CLOEXEC") and ok.ret == 3 and ok.errno is None
    assert missing.ret == -1 and missing.errno == "ENOENT"
    (mmap,) = t.syscalls("mmap", tid=201)
    assert mmap.ret == 0x7f00aa000000 and mmap.args[0] == "NULL" and len(mmap.args) == 6
    assert [c.ret for c in t.syscalls("exit_group")] == [None, None]
    assert [c.args for c in t.syscalls("exit_group", tid=201)] == [("3",)]
    assert t.syscalls(tid=999) == () and t.syscalls("close") == ()


def test_an_unfinished_call_is_joined_with_its_resumption():
    t = parse_strace(CALLS.splitlines(True))
    (wait,) = t.syscalls("wait4")
    # recorded when it returned, with the arguments of both halves, in the caller's thread
    assert wait.tid == 200 and wait.ret == 201 and wait.ts_ns == 1_700_000_001_000_070_000
    assert wait.args == ("-1", "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]", "0", "NULL")
    (write,) = t.syscalls("write")
    assert write.args[1] == "a\nb"  # a string cut short by strace ("...") still decodes


def test_process_creation_calls_are_syscall_events_only_when_asked():
    assert parse_strace(CALLS.splitlines(True)).syscalls("execve") == ()
    (ex,) = parse_strace(CALLS.splitlines(True), syscalls=["execve"]).syscalls("execve")
    assert ex.args == ("/bin/sh", '["sh", "-c"]', "[]") and ex.ret == 0
    # the spawn/exec records do not depend on it
    assert parse_strace(CALLS.splitlines(True), syscalls=["execve"]).execs == parse_strace(CALLS.splitlines(True)).execs


def test_syscall_event_in_the_execve_of_the_fixed_text_keeps_the_exec_records():
    t = parse_strace(TEXT.splitlines(True), syscalls=["execve", "clone", "clone3"])
    assert [c.name for c in t.syscalls()] == ["execve", "clone3", "execve", "clone", "execve", "execve"]
    clone = t.syscalls("clone")[0]
    assert clone.tid == 100 and clone.ret == 102 and clone.args[0] == "child_stack=NULL"
    assert t.syscalls("execve")[1].errno == "ENOENT"
    assert len(t.execs) == 3 and len(t.spawns) == 2


# --- live: strace_run ---------------------------------------------------------

needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@pytest.mark.live
@needs_strace
def test_strace_run_records_the_asked_syscalls():
    t = trace.strace_run(["/bin/sh", "-c", "exit 3"], syscalls=["exit_group"])
    assert t.returncode == 3
    (last,) = t.syscalls("exit_group")
    assert last.args == ("3",) and last.ret is None and last.tid == t.root_pid
    assert t.syscalls("openat") == ()  # not asked for


@pytest.mark.live
@needs_strace
def test_strace_run_passes_an_fd_and_decodes_paths(tmp_path):
    target = tmp_path / "é x"
    target.write_text("")
    r, w = os.pipe()
    try:
        # (dash takes one-digit fds only in >&N: go through /dev/fd)
        t = trace.strace_run(["/bin/sh", "-c", 'echo hi > /dev/fd/$1; : < "$2"', "sh", str(w), str(target)],
                             syscalls=["openat", "write"], pass_fds=[w])
        os.close(w)
        w = -1
        assert os.read(r, 100) == b"hi\n"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    assert t.returncode == 0
    assert any(c.args[1] == str(target) and c.ret is not None and c.ret >= 0 for c in t.syscalls("openat"))
    assert any(c.args[1] == "hi\n" for c in t.syscalls("write"))


@pytest.mark.live
@needs_strace
def test_strace_run_bad_syscall_name_is_a_clear_error():
    with pytest.raises(trace.TracerError, match="nosuchcall"):
        trace.strace_run(["true"], syscalls=["nosuchcall"])
    with pytest.raises(ValueError, match="list of names"):
        trace.strace_run(["true"], syscalls="openat")


def test_struct_fields_of_a_clone3_argument():
    from gorun_kit.trace.strace import struct_fields

    arg = ("{flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f0, exit_signal=0, stack=0x7e0, stack_size=0x7fff80, "
           "set_tid=[1, 2], tls=0x7f6} => {parent_tid=[28787]}")
    fields = struct_fields(arg)
    assert fields["flags"] == "CLONE_VM|CLONE_THREAD" and int(fields["stack_size"], 16) == 0x7fff80
    assert fields["set_tid"] == "[1, 2]" and "parent_tid" not in fields
    with pytest.raises(ValueError, match="not a struct"):
        struct_fields('"/bin/true"')
