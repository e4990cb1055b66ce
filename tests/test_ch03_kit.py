"""Chapter 3's kit functions: the clone line chosen by GOARCH, kernel symbol
lookup, Go's spawn as steps and its sequence picture, the ptrace stops of a
child, the narrow comparison tables and one process_vm_readv call."""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from gorun_kit import goroot, ptrace_lab, spawn
from gorun_kit.toolchain import GoToolchain
from gorun_kit.trace import ExecEvent, ExitEvent, SpawnEvent, Trace, parse_strace
from gorun_kit.trace import stops as trace_stops
from gorun_kit.trace.flags import CLONE_FLAGS

# --------------------------------------------------------------------------
# clone_call: the branch of this GOARCH


def _fake_goroot(tmp_path: Path, body: str) -> GoToolchain:
    d = tmp_path / "src" / "syscall"
    d.mkdir(parents=True)
    (d / "exec_linux.go").write_text("package syscall\n\nfunc forkAndExecInChild1(pipe int) (pid uintptr) {\n"
                                     + body + "}\n")
    return GoToolchain(go="/bin/false", goroot=str(tmp_path), version="go1.99", goos="linux", goarch="amd64",
                       source="test")


CHAIN = """\
	if clone3 != nil {
		pid, err1 = rawVforkSyscall(_SYS_clone3, 1, 2, 0)
	} else {
		if runtime.GOARCH == "s390x" {
			pid, err1 = rawVforkSyscall(SYS_CLONE, 0, flags, S390X)
		} else if runtime.GOARCH == "ppc64" {
			pid, err1 = rawVforkSyscall(SYS_CLONE, flags, 0, PPC64)
		} else {
			pid, err1 = rawVforkSyscall(SYS_CLONE, flags, 0, OTHER)
		}
	}
"""


@pytest.mark.parametrize("arch,want", [("s390x", "S390X"), ("ppc64", "PPC64"), ("amd64", "OTHER"),
                                       ("arm64", "OTHER")])
def test_clone_call_follows_the_goarch_branches(tmp_path, arch, want):
    tc = _fake_goroot(tmp_path, CHAIN)
    c = spawn.clone_call(arch, toolchain=tc)
    assert c.text.endswith(f"{want})") and c.file == "src/syscall/exec_linux.go"
    assert Path(tc.goroot, c.file).read_text().splitlines()[c.line - 1].strip() == c.text


def test_clone_call_negated_condition_and_no_branch(tmp_path):
    body = ('\tif runtime.GOARCH != "s390x" {\n\t\tx = rawVforkSyscall(SYS_CLONE, flags, 0, A)\n'
            '\t} else {\n\t\tx = rawVforkSyscall(SYS_CLONE, 0, flags, B)\n\t}\n')
    tc = _fake_goroot(tmp_path, body)
    assert spawn.clone_call("amd64", toolchain=tc).text.endswith("A)")
    assert spawn.clone_call("s390x", toolchain=tc).text.endswith("B)")


def test_clone_call_missing_raises(tmp_path):
    tc = _fake_goroot(tmp_path, "\treturn 0\n")
    with pytest.raises(goroot.SourceNotFound, match="GOARCH amd64"):
        spawn.clone_call("amd64", toolchain=tc)


@pytest.mark.live
def test_clone_call_on_the_installed_release():
    assert "(SYS_CLONE, flags, 0," in spawn.clone_call("amd64").text
    assert "(SYS_CLONE, 0, flags," in spawn.clone_call("s390x").text


# --------------------------------------------------------------------------
# kernel_functions

def test_kernel_functions_exact_copies_and_cold_parts():
    syms = {"kernel_clone", "copy_strings.isra.0", "load_elf_binary", "load_elf_binary.cold", "getname_flags.cold",
            "getname_flags.part.0", "bprm_execve.cold"}
    got = spawn.kernel_functions(["kernel_clone", "copy_strings", "load_elf_binary", "getname_flags",
                                  "bprm_execve", "do_fork"], syms)
    assert got == {"kernel_clone": "kernel_clone", "copy_strings": "copy_strings.isra.0",
                   "load_elf_binary": "load_elf_binary", "getname_flags": "getname_flags.part.0",
                   "bprm_execve": None, "do_fork": None}


# --------------------------------------------------------------------------
# go_spawn_steps from strace lines

def _hex(s: str) -> str:
    return '"' + "".join(f"\\x{b:02x}" for b in s.encode()) + '"'


def _strace(lines):
    return [f"{tid} 1700000000.{i * 10:06d} {text}\n" for i, (tid, text) in enumerate(lines)]


def _ok_lines():
    return _strace([
        (100, f"execve({_hex('/lab')}, [{_hex('/lab')}], []) = 0"),
        (100, "pidfd_open(100, 0) = 3"),
        (100, "clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK, parent_tid=[4]) = 101"),
        (101, "exit_group(0) = ?"),
        (101, "+++ exited with 0 +++"),
        (100, "pipe2([3, 4], O_CLOEXEC) = 0"),
        (100, "clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[5] <unfinished ...>"),
        (102, f"execve({_hex('/bin/sleep')}, [{_hex('/bin/sleep')}, {_hex('0')}], []) = 0"),
        (100, "<... clone resumed>) = 102"),
        (100, "read(3, \"\", 8) = 0"),
        (102, f"read(3, {_hex('ELF')}, 832) = 3"),
        (102, "exit_group(0) = ?"),
        (102, "+++ exited with 0 +++"),
        (100, "waitid(P_PIDFD, 5, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_status=0}, WEXITED) = 0"),
        (100, "+++ exited with 0 +++"),
    ])


def _fail_lines():
    return _strace([
        (200, f"execve({_hex('/lab')}, [{_hex('/lab')}], []) = 0"),
        (200, "pipe2([3, 6], O_CLOEXEC) = 0"),
        (201, f"execve({_hex('/tmp/noexec')}, [{_hex('/tmp/noexec')}], []) = -1 EACCES (Permission denied)"),
        (201, "write(6, \"\\x0d\\x00\\x00\\x00\\x00\\x00\\x00\\x00\", 8) = 8"),
        (201, "exit(253) = ?"),
        (201, "+++ exited with 253 +++"),
        (200, "clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[7]) = 201"),
        (200, "read(3, \"\\x0d\\x00\\x00\\x00\\x00\\x00\\x00\\x00\", 8) = 8"),
        (200, "wait4(201, [{WIFEXITED(s) && WEXITSTATUS(s) == 253}], 0, NULL) = 201"),
        (200, "+++ exited with 1 +++"),
    ])


SYSCALLS = ["clone", "pipe2", "read", "write", "exit", "exit_group", "wait4", "waitid", "pidfd_open"]


def test_go_spawn_steps_success():
    steps = spawn.go_spawn_steps(parse_strace(_ok_lines(), syscalls=SYSCALLS))
    assert [(s.lane, s.call) for s in steps] == [
        ("parent", "pipe2"), ("parent", "clone"), ("child", "execve"), ("parent", "clone returns"),
        ("parent", "read"), ("child", "exit"), ("parent", "waitid")]
    assert [s.order for s in steps] == list(range(7))
    text = {s.call: s.text for s in steps}
    assert text["pipe2"] == "pipe2(O_CLOEXEC) = [3, 4]" and text["clone"] == "clone(VM|PIDFD|VFORK|SIGCHLD)"
    assert "fd 4 closed" in text["execve"] and text["clone returns"] == "clone returns 102, pidfd 5"
    assert text["read"].startswith("read(3) = 0, EOF") and text["waitid"] == "waitid(P_PIDFD, 5): status 0"
    # the child's own reads after its exec are not the status pipe
    assert sum(1 for s in steps if s.call == "read") == 1


def test_go_spawn_steps_failure():
    steps = spawn.go_spawn_steps(parse_strace(_fail_lines(), syscalls=SYSCALLS))
    assert [(s.lane, s.call) for s in steps] == [
        ("parent", "pipe2"), ("parent", "clone"), ("child", "execve"), ("child", "write"), ("child", "exit"),
        ("parent", "clone returns"), ("parent", "read"), ("parent", "wait4")]
    text = {s.call: s.text for s in steps}
    assert text["execve"] == 'execve("noexec") = -1 EACCES' and text["write"] == "write(6, 8 bytes): errno 13"
    assert text["exit"] == "exit(253)" and text["read"].startswith("read(3) = 8")
    assert text["wait4"] == "wait4(201): status 253"


def test_go_spawn_steps_follow_the_goroutine_to_another_thread():
    # the parent's goroutine reads the status pipe and waits on another thread (tid 103) of process 100
    lines = _ok_lines()
    thread = _strace([(100, "clone(child_stack=0x7f0000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
                            "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, tls=0x1) = 103")])[0]
    lines.insert(1, thread.replace(".000000 ", ".000005 "))
    moved = [l.replace("100 ", "103 ", 1) if ("read(3," in l or "waitid(" in l) and l.startswith("100 ") else l
             for l in lines]
    steps = spawn.go_spawn_steps(parse_strace(moved, syscalls=SYSCALLS))
    assert [(s.lane, s.call) for s in steps] == [
        ("parent", "pipe2"), ("parent", "clone"), ("child", "execve"), ("parent", "clone returns"),
        ("parent", "read"), ("child", "exit"), ("parent", "waitid")]


def test_go_spawn_steps_needs_the_pipe():
    lines = [l for l in _ok_lines() if "pipe2" not in l]
    with pytest.raises(ValueError, match="pipe2"):
        spawn.go_spawn_steps(parse_strace(lines, syscalls=SYSCALLS))
    with pytest.raises(ValueError, match="no process spawn"):
        spawn.go_spawn_steps(parse_strace(_ok_lines(), syscalls=SYSCALLS), child=999)


def test_spawn_sequence_picture():
    from matplotlib.figure import Figure

    from gorun_kit.viz.spawn import spawn_sequence

    ok = spawn.go_spawn_steps(parse_strace(_ok_lines(), syscalls=SYSCALLS))
    bad = spawn.go_spawn_steps(parse_strace(_fail_lines(), syscalls=SYSCALLS))
    fig = spawn_sequence({"ok": ok, "fails": bad})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "EOF" in texts and "8 bytes (errno)" in texts and any(t.startswith("write(6, 8 bytes)") for t in texts)
    with pytest.raises(ValueError):
        spawn_sequence({})


# --------------------------------------------------------------------------
# the ptrace stops of a child

def _spawn_event(ts, parent, child, names, sig):
    flags = sum(CLONE_FLAGS[n] for n in names)
    return SpawnEvent(ts, parent, parent, child, child, "clone", flags, tuple(names) + ((sig,) if sig else ()),
                      sig, False)


def _exec(ts, pid, prog):
    return ExecEvent(ts, pid, pid, "execve", prog, (prog,), (), None)


def _tracer_trace(stats=None, probe=True):
    ev = [_exec(0, 10, "/lab")]
    if probe:
        ev += [_spawn_event(100, 10, 11, ["CLONE_VM", "CLONE_PIDFD", "CLONE_VFORK"], None),
               ExitEvent(150, 11, 11, 0, None, True)]
    ev += [_spawn_event(200, 10, 12, ["CLONE_VM", "CLONE_PIDFD", "CLONE_VFORK"], "SIGCHLD"),
           _exec(700_200, 12, "/bin/sleep"), ExitEvent(900_000, 12, 12, 0, None, True),
           ExitEvent(990_000, 10, 10, 0, None, True)]
    n = 2 if probe else 1
    stops = stats or {"seccomp": 2, "spawn_event": n, "exec_event": 2, "initial": n, "signal": 1}
    return Trace(("/lab",), "events", 10, 0, tuple(ev), {"stops": stops}, "tracer", 0)


def test_child_stops_order_and_times():
    st = trace_stops.child_stops(_tracer_trace())
    # logical order; the first two (parent's event stop, child's initial stop) may arrive either way
    assert {(s.task, s.kind) for s in st[:2]} == {("parent", "spawn_event"), ("child", "initial")}
    assert [(s.task, s.kind) for s in st[2:]] == [("child", "seccomp"), ("child", "exec_event"), ("child", "exit"),
                                                 ("parent", "signal")]
    assert [s.order for s in st] == list(range(len(st)))
    times = {s.kind: s.ts_ns for s in st}
    assert times == {"spawn_event": 200, "initial": None, "seccomp": None, "exec_event": 700_200,
                     "exit": 900_000, "signal": None}
    assert st[0].ptrace == "PTRACE_EVENT_VFORK" and st[-1].ptrace == "signal-delivery stop (SIGCHLD)"
    assert {s.pid for s in st} == {10, 12}
    # the probe (no exec, no exit signal): no seccomp, exec or signal stop
    probe = trace_stops.child_stops(_tracer_trace(), child=11)
    assert [s.kind for s in probe] == ["spawn_event", "initial", "exit"]


def test_stop_counts_against_the_records():
    counts = {c.kind: (c.predicted, c.counted) for c in trace_stops.stop_counts(_tracer_trace())}
    assert counts == {"spawn_event": (2, 2), "initial": (2, 2), "seccomp": (2, 2), "exec_event": (2, 2),
                      "signal": (1, 1)}
    off = trace_stops.stop_counts(_tracer_trace({"seccomp": 3, "spawn_event": 2, "exec_event": 2, "initial": 1,
                                                 "signal": 4}))
    assert {c.kind: c.counted - c.predicted for c in off} == {"spawn_event": 0, "initial": -1, "seccomp": 1,
                                                              "exec_event": 0, "signal": 3}


def test_stops_refuse_strace_and_cut_traces():
    with pytest.raises(ValueError, match="production tracer"):
        trace_stops.child_stops(parse_strace(_ok_lines(), syscalls=SYSCALLS))
    cut = dataclasses.replace(_tracer_trace(), stats={})
    with pytest.raises(ValueError, match="end record"):
        trace_stops.stop_counts(cut)
    with pytest.raises(ValueError, match="no child process 77"):
        trace_stops.child_stops(_tracer_trace(), child=77)


def test_spawn_event_name():
    fork = _spawn_event(1, 1, 2, ["CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID"], "SIGCHLD")
    vfork = _spawn_event(1, 1, 2, ["CLONE_VM", "CLONE_VFORK"], "SIGCHLD")
    quiet = _spawn_event(1, 1, 2, ["CLONE_VM"], None)
    assert [trace_stops.spawn_event_name(s) for s in (fork, vfork, quiet)] == [
        "PTRACE_EVENT_FORK", "PTRACE_EVENT_VFORK", "PTRACE_EVENT_CLONE"]


def test_ptrace_stops_graph():
    from gorun_kit.viz.graph import Graph
    from gorun_kit.viz.trace import ptrace_stops_graph

    g = ptrace_stops_graph(trace_stops.child_stops(_tracer_trace()), title="t")
    assert isinstance(g, Graph)
    src = g.source
    assert "cluster_parent" in src and "cluster_child" in src and src.count("->") == 5
    assert "+700 µs" in src and src.count("counted, no record") == 3 and "PTRACE_EVENT_EXEC" in src
    assert src.count("either may") == 1
    with pytest.raises(ValueError):
        ptrace_stops_graph([])


# --------------------------------------------------------------------------
# the narrow tables

def _row(method, **kw):
    base = dict(method=method, command=("x",), syscall="clone", flags="CLONE_VM|CLONE_VFORK|SIGCHLD",
                child_stack="shared", path_search="none (given a path)", wait="wait4", execve_attempts=1,
                child_before_exec="", probe="", instrument=spawn.INSTRUMENT, tracer_flags="CLONE_VM|CLONE_VFORK|SIGCHLD",
                exit_code=0)
    base.update(kw)
    return spawn.MethodRow(**base)


def test_rows_markdown_two_narrow_tables():
    probe = ("pidfd_open(self); clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK), no exit signal; "
             "reaped by waitid(P_PIDFD, __WCLONE)")
    rows = [_row("vfork", syscall="vfork", flags="(implied by vfork) CLONE_VM|CLONE_VFORK|SIGCHLD"),
            _row("go exec.Command+Dir+Env", flags="CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD", probe=probe,
                 tracer_flags="CLONE_VM|CLONE_PIDFD|CLONE_VFORK; CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD",
                 path_search="parent: newfstatat+faccessat2 per PATH entry", child_before_exec="chdir",
                 wait="waitid(P_PIDFD)"),
            _row("fork", flags="CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD", tracer_flags="CLONE_VM")]
    md = spawn.rows_markdown(rows)
    tables = [l for l in md.splitlines() if l.startswith("|")]
    assert len(tables) == 2 * (len(rows) + 2)
    assert max(len(l) for l in tables) < 130, max(tables, key=len)
    assert "VM\\|VFORK\\|SIGCHLD (implied)" in md and "CLONE_" not in "\n".join(tables)
    assert "2 spawns (the probe first), the same flags" in md and "other flags: VM" in md
    assert md.count(probe) == 1 and spawn.INSTRUMENT in md


# --------------------------------------------------------------------------
# process_vm_readv

@pytest.mark.skipif(sys.platform != "linux", reason="process_vm_readv is Linux's")
@pytest.mark.parametrize("n", [1, 4095, 4097, 3 * 4096 + 100, 1 << 20])
def test_vm_readv_once_copies_everything_in_one_call(n):
    assert ptrace_lab.vm_readv_once(n) == n


def test_vm_readv_once_rejects_nothing():
    with pytest.raises(ValueError):
        ptrace_lab.vm_readv_once(0)


def test_method_row_agrees_with_tracer():
    assert _row("x").agrees_with_tracer is True
    assert _row("x", tracer_flags="CLONE_VM|SIGCHLD; CLONE_VM|CLONE_VFORK|SIGCHLD").tracer_seen == (
        "CLONE_VM|SIGCHLD", "CLONE_VM|CLONE_VFORK|SIGCHLD")
    assert _row("x", tracer_flags="CLONE_VM|SIGCHLD").agrees_with_tracer is False
    assert _row("x", tracer_flags=None).agrees_with_tracer is None
    assert _row("x", flags="(implied by vfork) CLONE_VM|CLONE_VFORK|SIGCHLD -> sh: x").agrees_with_tracer is True
    run = spawn.MethodRun(row=_row("x"), strace=None, tracer=None)
    assert run.to_dict()["row"]["method"] == "x"


def test_go_clone_constants():
    from gorun_kit.goroot import SourceNotFound

    c = spawn.go_clone_constants()
    assert c == {"CLONE_VM": 0x100, "CLONE_VFORK": 0x4000, "CLONE_PIDFD": 0x1000, "CLONE_SYSVSEM": 0x40000}
    assert list(spawn.go_clone_constants(["CLONE_VFORK", "CLONE_VM"])) == ["CLONE_VFORK", "CLONE_VM"]
    with pytest.raises(SourceNotFound, match="CLONE_NOPE"):
        spawn.go_clone_constants(["CLONE_NOPE"])


def test_vfork_syscall_entry():
    from gorun_kit.goroot import SourceNotFound

    c = spawn.vfork_syscall_entry("amd64")
    assert c.text == "SYSCALL" and c.file.endswith("asm_linux_amd64.s") and c.symbol == "syscall.rawVforkSyscall"
    assert spawn.vfork_syscall_entry("arm64").text.startswith("SVC")
    with pytest.raises((SourceNotFound, Exception)):
        spawn.vfork_syscall_entry("nosucharch")


# --------------------------------------------------------------------------
# os_pidfd and the wait column: what this release's os does (pidfd from Go 1.23)


def _fake_os(tmp_path: Path, body: str) -> GoToolchain:
    d = tmp_path / "src" / "os"
    d.mkdir(parents=True)
    (d / "exec_posix.go").write_text("package os\n\nfunc startProcess(name string, argv []string) (p *Process, err error) {\n"
                                     + body + "}\n\nfunc other() {\n\tensurePidfd(nil)\n}\n")
    return GoToolchain(go="/bin/false", goroot=str(tmp_path), version="go1.99", goos="linux", goarch="amd64",
                       source="test")


def test_os_pidfd_is_the_ensurePidfd_call_in_startProcess_or_none(tmp_path):
    with_pidfd = _fake_os(tmp_path / "new", "\tsysattr := attr\n\tattrSys, dup := ensurePidfd(attr.Sys)\n\treturn\n")
    cit = spawn.os_pidfd(toolchain=with_pidfd)
    assert (cit.file, cit.line, cit.symbol) == ("src/os/exec_posix.go", 5, "os.startProcess")
    assert cit.text == "attrSys, dup := ensurePidfd(attr.Sys)"
    # a call outside startProcess does not count (1.22: no pidfd in startProcess)
    assert spawn.os_pidfd(toolchain=_fake_os(tmp_path / "old", "\tpid, h, e := syscall.StartProcess(name, argv, nil)\n")) is None
    assert spawn.OS_PIDFD_SINCE == (1, 23)


def test_os_pidfd_on_the_installed_release():
    from gorun_kit.toolchain import find_go

    try:
        tc = find_go()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Go: {exc}")
    cit = spawn.os_pidfd(toolchain=tc)
    assert (cit is not None) == (tc.version_tuple >= spawn.OS_PIDFD_SINCE)
    if cit is not None:
        assert cit.file.endswith("os/exec_posix.go") and "ensurePidfd(" in cit.text


def test_wait_column_names_the_waitid_idtype():
    calls = _strace([
        (300, f"execve({_hex('/lab')}, [{_hex('/lab')}], []) = 0"),
        (300, "waitid(P_PID, 301, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=301, si_status=0}, WEXITED|WNOWAIT, NULL) = 0"),
        (300, "wait4(301, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, {ru_utime={tv_sec=0, tv_usec=0}, ...}) = 301"),
        (300, "waitid(P_PIDFD, 5, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=302, si_status=0}, WEXITED) = 0"),
        (300, "waitid(P_PIDFD, 4, NULL, WEXITED|__WCLONE) = 0"),  # the probe's wait: left out
        (300, "+++ exited with 0 +++"),
    ])
    t = parse_strace(calls, syscalls=SYSCALLS)
    assert spawn._waits(t.syscalls()) == "waitid(P_PID), wait4, waitid(P_PIDFD)"


def _go_row(flags: str, wait: str, probe: str = "") -> spawn.MethodRow:
    return spawn.MethodRow("go os.StartProcess", ("/lab",), "clone", flags, "shared", "none (given a path)", wait, 1, "",
                           probe, "strace -f", None, 0)


@pytest.mark.parametrize("version,pidfd", [("go1.27.3", True), ("go1.23.0", True), ("go1.22.10", False)])
def test_pidfd_waits_hold_checks_what_the_release_does(version, pidfd):
    tc = GoToolchain(go="/bin/false", goroot="/nonexistent", version=version, goos="linux", goarch="amd64", source="test")
    cit = goroot.Citation("src/os/exec_posix.go", 38, "os.startProcess", "ensurePidfd(attr.Sys)", version) if pidfd else None
    new = [_go_row("CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD", "waitid(P_PIDFD)", probe="clone(...), no exit signal")]
    old = [_go_row("CLONE_VM|CLONE_VFORK|SIGCHLD", "waitid(P_PID), wait4")]
    assert spawn.pidfd_waits_hold(new if pidfd else old, cit, toolchain=tc)
    assert not spawn.pidfd_waits_hold(old if pidfd else new, cit, toolchain=tc)  # the other release's behaviour
    assert not spawn.pidfd_waits_hold([_go_row("CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD", "waitid(P_PIDFD), wait4")],
                                      cit, toolchain=tc)  # wait4 polling beside the pidfd: not what any release does
    assert not spawn.pidfd_waits_hold([], cit, toolchain=tc)
    # the source disagreeing with the release number is an undescribed change
    other = None if pidfd else goroot.Citation("src/os/exec_posix.go", 38, "os.startProcess", "ensurePidfd(x)", version)
    assert not spawn.pidfd_waits_hold(new, other, toolchain=tc) and not spawn.pidfd_waits_hold(old, other, toolchain=tc)


def test_disagreements_name_only_the_counts_the_records_do_not_explain():
    base = {"seccomp": 2, "spawn_event": 2, "exec_event": 2, "initial": 2, "signal": 1}
    assert trace_stops.disagreements(_tracer_trace(base)) == {}
    assert trace_stops.disagreements(_tracer_trace({**base, "signal": 3})) == {}  # SIGURG and the like
    assert trace_stops.disagreements(_tracer_trace({**base, "initial": 1})) == {}  # the probe's, uncounted
    assert trace_stops.disagreements(_tracer_trace({**base, "initial": 0})) == {"initial": (2, 0)}
    assert trace_stops.disagreements(_tracer_trace({**base, "initial": 3})) == {"initial": (2, 3)}
    no_probe = {**base, "spawn_event": 1, "initial": 0}
    assert trace_stops.disagreements(_tracer_trace(no_probe, probe=False)) == {"initial": (1, 0)}
    assert trace_stops.disagreements(_tracer_trace({**base, "signal": 0, "seccomp": 3, "exec_event": 1,
                                                    "spawn_event": 1})) == {
        "signal": (1, 0), "seccomp": (2, 3), "exec_event": (2, 1), "spawn_event": (2, 1)}
