"""The strace parser on fixed text (no process runs): split calls, hex strings,
clone3's struct, the tid change of an exec from a non-leader thread."""
from __future__ import annotations

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
