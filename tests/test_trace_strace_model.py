"""strace_run and the strace parser without strace: a stand-in for the tool
run writes made-up ``strace -f -ttt -xx`` output where strace would, so the
command line strace gets, the repeat after strace's own error, the timeout and
interrupt paths and the parser's corners are checked in milliseconds."""
from __future__ import annotations

import os
import subprocess

import pytest

from gorun_kit import sessions
from gorun_kit.sessions import ToolRun
from gorun_kit.toolchain import Tool
from gorun_kit.trace import TraceInterrupted, TracerError, TraceTimeout, parse_strace, strace_run
from gorun_kit.trace import strace as strace_mod
from gorun_kit.trace.flags import CLONE_FLAGS
from gorun_kit.trace.strace import STRACE_ARGS, instrument_failure, strace_args, struct_fields

LISTEN = "strace: ptrace(PTRACE_LISTEN,pid:77,sig:0): Input/output error"
FAKE_STRACE = "/opt/fake/bin/strace"


def hx(b: bytes) -> str:
    return '"' + "".join(f"\\x{c:02x}" for c in b) + '"'


def lines(*text: str) -> list[str]:
    return [t + "\n" for t in text]


def F(*names: str) -> int:
    return sum(CLONE_FLAGS[n] for n in names)


RUN = (f"300 1700000002.000001 execve({hx(b'/bin/sh')}, [{hx(b'sh')}], []) = 0\n"
       "300 1700000002.000002 exit_group(0) = ?\n"
       "300 1700000002.000003 +++ exited with 0 +++\n")


class FakeStrace:
    """Stands in for sessions.run_tool: each call takes the next planned run,
    writes its text where ``-o`` points and returns its ToolRun (or raises)."""

    def __init__(self, *runs):
        self.runs = list(runs)
        self.calls = []

    def __call__(self, argv, **kw):
        self.calls.append((list(argv), kw))
        plan = self.runs.pop(0)
        text, code, err = plan.get("text", RUN), plan.get("code", 0), plan.get("stderr", b"")
        log = argv[argv.index("-o") + 1]
        with open(log, "w") as f:
            f.write(text)
        if plan.get("interrupt") is not None:
            raise KeyboardInterrupt(*plan["interrupt"])
        captured = kw["stdout"] is subprocess.PIPE
        return ToolRun(tuple(argv), code, b"out" if captured else None, err if captured else None,
                       plan.get("timed_out", False))


@pytest.fixture
def fake(monkeypatch):
    def install(*runs):
        f = FakeStrace(*runs)
        monkeypatch.setattr(sessions, "run_tool", f)
        monkeypatch.setattr(strace_mod, "find_tool", lambda name: {"strace": Tool("strace", FAKE_STRACE, "6.1")}[name])
        monkeypatch.delenv(sessions.CONFINE_ENV, raising=False)
        return f
    return install


# --- the command line and what comes back ------------------------------------------

def test_strace_args_are_the_documented_format():
    assert STRACE_ARGS[:5] == ("-f", "-v", "-xx", "-ttt", "-s")
    assert int(STRACE_ARGS[5]) == os.sysconf("SC_ARG_MAX")
    assert STRACE_ARGS[6:] == ("-e", "trace=clone,clone3,fork,vfork,execve,execveat", "-e", "signal=none")
    assert strace_args(["execve", "write"])[6:] == (
        "-e", "trace=clone,clone3,fork,vfork,execve,execveat,write", "-e", "signal=none")
    with pytest.raises(ValueError, match=r"^syscalls: 'a,b' is not one syscall name or strace class "
                                         r"\(e.g. 'openat', '%file'\)$"):
        strace_args(["openat", "a,b"])


def test_a_run_gives_strace_its_arguments_and_returns_its_records(fake, tmp_path):
    f = fake({})
    t = strace_run([b"/bin/sh", b"-c", b"\xff"], env={"PATH": "/bin"}, cwd=tmp_path, timeout=7,
                   syscalls=["exit_group", "execve"], pass_fds=[0])
    ((argv, kw),) = f.calls
    log = argv[argv.index("-o") + 1]
    assert argv == [FAKE_STRACE, *strace_args(["exit_group", "execve"]), "-o", log, "--", "/bin/sh", "-c", "\udcff"]
    assert log.startswith(f"/proc/{os.getpid()}/fd/") and log.rsplit("/", 1)[1].isdigit()
    assert kw == {"env": {"PATH": "/bin"}, "cwd": tmp_path, "timeout": 7, "stdin": subprocess.DEVNULL,
                  "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "pass_fds": [0]}
    assert t.command == ("/bin/sh", "-c", "\udcff") and t.returncode == 0 and t.retried is None
    assert (t.stdout, t.stderr, t.tool, t.root_pid) == (b"out", b"", "strace", 300)
    assert [c.name for c in t.syscalls()] == ["execve", "exit_group"]
    assert t.execs[0].filename == "/bin/sh" and t.exits[0].exit_code == 0
    assert not os.path.exists(log), "the output file is gone after the run"


def test_without_capture_output_is_not_piped_and_not_checked(fake):
    f = fake({"code": 3})
    t = strace_run(["/bin/sh"], capture=False, stdin=None)
    (_, kw), = f.calls
    assert kw["stdout"] is None and kw["stderr"] is None and kw["stdin"] is None
    assert (t.stdout, t.stderr, t.returncode, t.retried) == (None, None, 3, None)


def test_a_command_that_is_not_there_is_refused_before_strace_runs(fake):
    from gorun_kit.trace import CommandNotFound

    f = fake({})
    with pytest.raises(CommandNotFound):
        strace_run(["/no/such/program"])
    assert f.calls == []


# --- strace's own error: once more, then an error ----------------------------------

def test_strace_failing_once_is_run_again_and_says_so(fake, tmp_path):
    f = fake({"stderr": f"{LISTEN}\n".encode(), "code": 3, "text": RUN.splitlines(True)[0]}, {"stderr": b"fine\n"})
    t = strace_run(["/bin/sh"], timeout=5, cwd=tmp_path)
    (first, kw1), (second, kw2) = f.calls
    assert first[:-3] == second[:-3] and first[-2:] == second[-2:] == ["--", "/bin/sh"]
    assert kw1 == kw2 and (kw2["timeout"], kw2["cwd"]) == (5, tmp_path)
    assert t.retried == f"{LISTEN} (strace exit status 3)"
    assert t.returncode == 0 and t.stderr == b"fine\n" and len(t.exits) == 1, "the records of the second run"


def test_strace_failing_twice_is_an_error_naming_both(fake):
    again = "strace: wait4(__WALL): No child processes"
    fake({"stderr": f"{LISTEN}\n".encode(), "code": 3}, {"stderr": f"x\n{again}\n".encode(), "code": 4})
    with pytest.raises(TracerError) as e:
        strace_run(["/bin/sh", "-c", "x"])
    assert str(e.value) == (f"strace failed twice running '/bin/sh -c x', so its records cannot be trusted: "
                            f"{LISTEN} (strace exit status 3); then {again} (strace exit status 4)")
    assert e.value.stderr == f"{again} (strace exit status 4)"


def test_a_run_that_read_the_callers_stdin_is_not_repeated(fake):
    f = fake({"stderr": f"{LISTEN}\n".encode(), "code": 1}, {})
    with pytest.raises(TracerError) as e:
        strace_run(["/bin/sh", "-c", ":"], stdin=None)
    assert len(f.calls) == 1
    assert str(e.value) == ("strace failed running '/bin/sh -c :', so its records cannot be trusted, and it cannot be "
                            f"run again with the same stdin: {LISTEN} (strace exit status 1)")
    assert e.value.stderr == f"{LISTEN} (strace exit status 1)"


# --- stopped runs and refusals ---------------------------------------------------------

def test_a_timeout_keeps_the_whole_lines_written_so_far(fake):
    cut = RUN + "300 1700000002.000004 clone(child_st"
    fake({"text": cut, "timed_out": True, "code": -9})
    with pytest.raises(TraceTimeout) as e:
        strace_run(["/bin/sh", "-c", "sleep 9"], timeout=2.5)
    assert str(e.value) == ("'/bin/sh -c sleep 9' did not finish within 2.5 s under strace; "
                            "the traced processes were killed")
    p = e.value.partial
    assert p.command == ("/bin/sh", "-c", "sleep 9") and p.returncode is None and p.root_pid == 300
    assert len(p.execs) == 1 and len(p.exits) == 1 and p.spawns == ()


def test_a_timeout_before_any_line_has_no_partial_trace(fake):
    fake({"text": "300 1700000002.0000", "timed_out": True})
    with pytest.raises(TraceTimeout) as e:
        strace_run(["/bin/sh"], timeout=1)
    assert e.value.partial is None
    fake({"text": "", "timed_out": True})
    with pytest.raises(TraceTimeout) as e:
        strace_run(["/bin/sh"], timeout=1)
    assert e.value.partial is None


def test_a_partial_trace_keeps_the_asked_syscalls(fake):
    fake({"text": RUN, "timed_out": True})
    with pytest.raises(TraceTimeout) as e:
        strace_run(["/bin/sh"], timeout=1, syscalls=["exit_group", "execve"])
    assert [c.name for c in e.value.partial.syscalls()] == ["execve", "exit_group"]
    assert len(e.value.partial.exits) == 1, "a last line that is whole is kept"


@pytest.mark.parametrize("args, said", [((), "Ctrl-C"), (("SIGTERM",), "SIGTERM")])
def test_an_interrupt_kills_and_keeps_the_records(fake, args, said):
    fake({"text": RUN, "interrupt": args})
    with pytest.raises(TraceInterrupted) as e:
        strace_run(["/bin/sh", "x"])
    assert str(e.value) == (f"tracing '/bin/sh x' with strace was interrupted ({said}); "
                            "the traced processes were killed")
    assert isinstance(e.value.__cause__, KeyboardInterrupt)
    assert e.value.partial.root_pid == 300 and len(e.value.partial.exits) == 1


def test_strace_refusing_to_start_is_an_error_with_its_message(fake):
    fake({"text": "", "code": 1, "stderr": b"strace: invalid system call '\xff'\n"})
    with pytest.raises(TracerError) as e:
        strace_run(["/bin/sh", "-e"])
    assert str(e.value) == "strace could not run '/bin/sh -e' (exit status 1): strace: invalid system call '\ufffd'"
    assert e.value.stderr == "strace: invalid system call '\ufffd'"
    fake({"text": "", "code": 1})
    with pytest.raises(TracerError, match=r"^strace could not run '/bin/sh' \(exit status 1\); "
                                          r"see its message above$"):
        strace_run(["/bin/sh"], capture=False)


def test_no_output_with_status_0_is_an_empty_trace(fake):
    fake({"text": "", "code": 0})
    t = strace_run(["/bin/sh"])
    assert t.start_ns is None and t.events == () and t.returncode == 0


def test_a_confined_run_hands_strace_its_output_file(fake, monkeypatch):
    f = fake({}, {}, {})
    seen = []

    def confined(argv, *, writable=(), env=None):
        seen.append((list(argv), list(writable), env))
        return ["/sandbox", *argv]

    monkeypatch.setattr(sessions, "confined", confined)
    strace_run(["/bin/sh"], confine=True, writable=["/w"], pass_fds=[5])
    assert f.calls[0][0][0] == FAKE_STRACE, "no sandbox unless the environment asks for one"
    monkeypatch.setenv(sessions.CONFINE_ENV, '["x"]')
    t = strace_run(["/bin/sh"], confine=True, writable=["/w"], pass_fds=[5], env={"E": "1"})
    (argv, writable, env), = seen
    fd = int(argv[argv.index("-o") + 1].removeprefix("/proc/self/fd/"))
    assert argv == [FAKE_STRACE, *STRACE_ARGS, "-o", f"/proc/self/fd/{fd}", "--", "/bin/sh"]
    assert writable == ["/w"] and env == {"E": "1"}
    assert f.calls[1][0] == ["/sandbox", *argv] and f.calls[1][1]["pass_fds"] == (5, fd)
    assert t.execs[0].filename == "/bin/sh"
    strace_run(["/bin/sh"], confine=False)
    f.runs.append({})
    strace_run(["/bin/sh"])
    assert f.calls[2][0][0] == f.calls[3][0][0] == FAKE_STRACE and len(seen) == 1, "confine is asked for, not assumed"
    # a repeated run is confined the same way
    f.runs += [{"stderr": f"{LISTEN}\n".encode()}, {}]
    assert strace_run(["/bin/sh"], confine=True, writable=["/v"], env={"E": "2"}).retried
    assert [w for _, w, _ in seen[1:]] == [["/v"], ["/v"]] and [e for _, _, e in seen[1:]] == [{"E": "2"}] * 2
    assert f.calls[4][0][0] == f.calls[5][0][0] == "/sandbox"


def test_instrument_failure_reads_str_bytes_and_undecodable_bytes():
    assert instrument_failure(f"a\n{LISTEN}   \nstrace: wait4(x): y\n") == LISTEN
    assert instrument_failure(b"strace: read(3, \xff): Bad\n") == "strace: read(3, \ufffd): Bad"
    assert instrument_failure("strace: read(\udcff): Bad\n") == "strace: read(\ufffd): Bad"
    assert instrument_failure(None, 2) is None and instrument_failure(LISTEN, 0) == f"{LISTEN} (strace exit status 0)"


# --- the parser's corners -------------------------------------------------------------

def test_an_exec_split_around_superseded_is_the_exec_of_the_leader():
    # strace 6 may also leave the exec'ing thread's call unfinished, then say that
    # the leader was superseded, then resume the call under the leader's tid
    t = parse_strace(lines(
        "100 1.000001 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 101",
        f"101 1.000002 execve({hx(b'/bin/true')}, [{hx(b'true')}], [] <unfinished ...>",
        "100 1.000003 +++ superseded by execve in pid 101 +++",
        "100 1.000004 <... execve resumed>) = 0",
        "100 1.000005 +++ exited with 0 +++"))
    (ex,) = t.execs
    assert (ex.pid, ex.tid, ex.former_tid, ex.filename, ex.argv, ex.ts_ns) == (
        100, 100, 101, "/bin/true", ("true",), 1_000_004_000)
    (end,) = t.exits
    assert (end.pid, end.tid, end.last_thread) == (100, 100, True)


def test_an_exit_of_a_task_the_trace_never_saw_created_ends_it():
    t = parse_strace(lines("7 1.000001 getpid() = 7", "9 1.000002 +++ exited with 1 +++",
                           "8 1.000003 +++ killed by SIGKILL +++"), syscalls=["getpid"])
    assert [(e.pid, e.tid, e.exit_code, e.signal, e.last_thread) for e in t.exits] == [
        (9, 9, 1, None, True), (8, 8, None, "SIGKILL", True)]
    assert t.root_pid == 7 and t.start_ns == 1_000_001_000


def test_a_call_that_did_not_return_creates_nothing():
    t = parse_strace(lines(
        "5 1.000001 clone(child_stack=NULL, flags=SIGCHLD) = ?",
        "5 1.000002 fork() = -1 ENOMEM (Cannot allocate memory)",
        f"5 1.000003 execve({hx(b'/bin/x')}, [], []) = ?",
        "5 1.000004 +++ killed by SIGKILL +++"), syscalls=["clone", "fork", "execve"])
    assert t.spawns == () and t.execs == () and t.exec_failures == ()
    assert [(c.name, c.ret, c.errno) for c in t.syscalls()] == [
        ("clone", None, None), ("fork", -1, "ENOMEM"), ("execve", None, None)]


def test_clone_and_clone3_without_the_usual_fields():
    t = parse_strace(lines(
        "5 1.000001 clone(child_stack=NULL) = 6",
        "5 1.000002 clone3({exit_signal=SIGNOSUCH, stack=0x1}, 88) = 7",
        "5 1.000003 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 8",
        "5 1.000004 clone3({flags=CLONE_PIDFD, exit_signal=0x11}, 88) = 9"))
    assert [(s.flags, s.exit_signal, s.is_thread, s.child_pid) for s in t.spawns] == [
        (0, None, False, 6), (0, None, False, 7), (F("CLONE_VM", "CLONE_THREAD"), None, True, 5),
        (F("CLONE_PIDFD"), "SIGCHLD", False, 9)]
    assert t.spawns[3].flag_names == ("CLONE_PIDFD",)


def test_a_thread_of_a_child_belongs_to_the_child():
    t = parse_strace(lines(
        "5 1.000001 clone(child_stack=NULL, flags=SIGCHLD) = 6",
        "6 1.000002 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 7",
        "7 1.000003 +++ exited with 0 +++",
        "6 1.000004 +++ exited with 0 +++"))
    thread = t.spawns[1]
    assert (thread.parent_pid, thread.parent_tid, thread.child_pid, thread.child_tid) == (6, 6, 6, 7)
    assert [(e.pid, e.tid, e.last_thread) for e in t.exits] == [(6, 7, False), (6, 6, True)]


def test_strings_inside_arrays_and_structs_are_json_quoted():
    odd = "é, \"q\" [x]"
    t = parse_strace(lines(
        f"5 1.000001 execve({hx(b'/bin/sh')}, [{hx(odd.encode())}, {hx(b'ab')}...], "
        f"[{hx(b'A=1')}]) = 0",
        f"5 1.000002 sendmsg(3, {{msg_name={hx(odd.encode())}, msg_iov=[{{iov_base={hx(b'a,b')}, iov_len=3}}], "
        f"msg_flags=0}}, MSG_NOSIGNAL) = 3"), syscalls=["execve", "sendmsg"])
    ex, msg = t.syscalls()
    assert ex.args == ("/bin/sh", '["é, \\"q\\" [x]", "ab"...]', '["A=1"]')
    assert t.execs[0].argv == (odd, "ab") and not t.execs[0].complete
    assert msg.args[0] == "3" and msg.args[2] == "MSG_NOSIGNAL"
    fields = struct_fields(msg.args[1])
    assert fields == {"msg_name": '"é, \\"q\\" [x]"', "msg_iov": '[{iov_base="a,b", iov_len=3}]', "msg_flags": "0"}


def test_struct_fields_refuses_what_is_not_a_struct_quoting_it_cut_short():
    with pytest.raises(ValueError) as e:
        struct_fields("0x" + "7" * 100)
    assert str(e.value) == f"{'0x' + '7' * 78!r} is not a struct as strace prints it ({{name=value, ...}})"
    assert struct_fields("  {a=1, b={c=2, d=3}}  => {e=4}") == {"a": "1", "b": "{c=2, d=3}"}


def test_the_command_is_looked_up_with_the_callers_path_and_directory(fake, tmp_path):
    prog = tmp_path / "prog"
    prog.write_text("#!/bin/sh\n")
    prog.chmod(0o755)
    f = fake({}, {})
    strace_run(["prog"], env={"PATH": str(tmp_path)})
    strace_run(["./prog"], cwd=tmp_path)
    assert [argv[-1] for argv, _ in f.calls] == ["prog", "./prog"]


def test_output_that_is_not_ascii_does_not_stop_the_reading(fake):
    fake({"text": "strace: é\n" + RUN})
    assert strace_run(["/bin/sh"]).root_pid == 300


def test_a_clone_seen_returning_0_in_the_child_creates_nothing():
    t = parse_strace(lines("5 1.000001 clone(child_stack=NULL, flags=SIGCHLD) = 0",
                           "5 1.000002 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 0"))
    assert t.spawns == ()


def test_creation_calls_are_syscall_events_only_when_named():
    text = lines("5 1.000001 clone(child_stack=NULL, flags=SIGCHLD) = 6",
                 "5 1.000002 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 7",
                 "5 1.000003 fork() = 8", "5 1.000004 vfork() = 9",
                 f"5 1.000005 execve({hx(b'/a')}, [], []) = 0",
                 f"5 1.000006 execveat(3, {hx(b'/b')}, [], [], 0) = 0")
    assert parse_strace(text).calls == ()
    names = ["clone", "clone3", "fork", "vfork", "execve", "execveat"]
    assert [c.name for c in parse_strace(text, syscalls=names).calls] == names
    assert [c.name for c in parse_strace(text, syscalls=["vfork"]).calls] == ["vfork"]
    assert len(parse_strace(text).spawns) == 4 and len(parse_strace(text).execs) == 2


def test_times_finer_than_microseconds_are_cut_to_microseconds():
    t = parse_strace(lines("5 1700000000.123456789 getpid() = 5"), syscalls=["getpid"])
    assert t.start_ns == t.calls[0].ts_ns == 1_700_000_000_123_456_000


def test_arguments_are_split_at_top_level_commas_only():
    t = parse_strace(lines(
        "5 1.000001 mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED, 3, 0x1000) = 0x7f0000000000",
        "5 1.000002 ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}], 2, {tv_sec=1, tv_nsec=0}, NULL, 8) = 1"),
        syscalls=["mmap", "ppoll"])
    mmap, ppoll = t.calls
    assert mmap.args == ("NULL", "4096", "PROT_READ|PROT_EXEC", "MAP_PRIVATE|MAP_FIXED", "3", "0x1000")
    assert ppoll.args == ("[{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}]", "2", "{tv_sec=1, tv_nsec=0}", "NULL",
                          "8")
    assert struct_fields(ppoll.args[2]) == {"tv_sec": "1", "tv_nsec": "0"}


def test_a_quote_inside_a_decoded_string_does_not_end_it():
    sa = hx(b'a", [b')
    t = parse_strace(lines(f"5 1.000001 sendto(3, {{sa={sa}, n=1}}, 8) = 8"), syscalls=["sendto"])
    (call,) = t.calls
    assert call.args[1] == '{sa="a\\", [b", n=1}'
    assert struct_fields(call.args[1]) == {"sa": '"a\\", [b"', "n": "1"}


def test_more_spawn_and_exec_corners():
    t = parse_strace(lines(
        "5 1.000001 getpid() = 5",
        "50 1.000002 fork() = 51",
        "5 1.000003 clone3({flags=CLONE_NEWTIME|CLONE_VM, exit_signal=SIGCHLD}, 88) = 52",
        f"5 1.000004 execve(0x7ffc0000, [{hx(b'a')}], []) = -1 EFAULT (Bad address)",
        f"5 1.000005 execve({hx(b'/bin/a')}, [{hx(b'a')}], []) = 0"))
    fork, newtime = t.spawns
    assert (fork.parent_pid, fork.parent_tid, fork.child_pid) == (50, 50, 51)
    assert newtime.flag_names == ("CLONE_NEWTIME", "CLONE_VM")
    (bad,) = t.exec_failures
    assert (bad.filename, bad.argv, bad.complete) == ("", ("a",), False)
    (ok,) = t.execs
    assert ok.former_tid is None and ok.complete


def test_a_thread_that_spawns_or_fails_to_exec_acts_for_its_process():
    t = parse_strace(lines(
        "5 1.000001 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 8",
        "8 1.000002 clone(child_stack=NULL, flags=SIGCHLD) = 9",
        f"8 1.000003 execve({hx(b'/none')}, [], []) = -1 ENOENT (No such file or directory)"))
    child = t.spawns[1]
    assert (child.parent_pid, child.parent_tid, child.child_pid) == (5, 8, 9)
    (fail,) = t.exec_failures
    assert (fail.pid, fail.tid) == (5, 8)


def test_a_childs_lines_before_its_parents_clone_returned_are_its_own():
    t = parse_strace(lines(
        "5 1.000001 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>",
        f"6 1.000002 execve({hx(b'/bin/a')}, [{hx(b'a')}], []) = 0",
        "5 1.000003 <... clone resumed>) = 6"))
    (ex,) = t.execs
    assert (ex.pid, ex.tid) == (6, 6) and t.spawns[0].child_pid == 6


def test_the_other_threads_of_an_exec_from_a_thread_still_count():
    # leader 5, threads 6 and 7; 7 execs and takes over tid 5, and 6's end is seen after that
    text = ["5 1.000001 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 6",
            "5 1.000002 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 7",
            f"7 1.000003 execve({hx(b'/bin/a')}, [], [] <pid changed to 5 ...>",
            "5 1.000004 +++ superseded by execve in pid 7 +++",
            "5 1.000005 <... execve resumed>) = 0",
            "6 1.000006 +++ killed by SIGKILL +++",
            "5 1.000007 +++ exited with 0 +++"]
    t = parse_strace(lines(*text))
    assert [(e.pid, e.tid, e.last_thread) for e in t.exits] == [(5, 6, False), (5, 5, True)]
    # text that starts in the middle: the leader's creation is not in it
    t = parse_strace(lines("3 1.000000 getpid() = 3", *text[2:4],
                           "5 1.000005 clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND) = 8",
                           "8 1.000006 +++ exited with 0 +++", "5 1.000007 +++ exited with 0 +++"))
    assert [(e.pid, e.tid, e.last_thread) for e in t.exits] == [(5, 8, False), (5, 5, True)]
