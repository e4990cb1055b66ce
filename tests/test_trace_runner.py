"""gorun_kit.trace.run and attach as a caller sees them: the command checks made before
the tracer starts, what each argument changes in a real traced run, and the cleanup
after a timeout, an interrupt or a killed tracer. Each run traces a few shell
commands and takes milliseconds."""
from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gorun_kit import procfs, trace
from gorun_kit.trace import runner

sys.path.insert(0, os.path.dirname(__file__))
from trace_helpers import all_pids, leftovers, interrupted_after, marked_env  # noqa: E402


def _script(path: Path, text: str, mode: int = 0o755) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def _gone(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()




# --- the errors a caller catches --------------------------------------------------
def test_the_errors_keep_their_message_output_and_partial_trace():
    assert str(trace.TracerError("no ptrace")) == "no ptrace" and trace.TracerError("no ptrace").stderr == ""
    assert trace.TracerError("m", "tracer: error: x\n").stderr == "tracer: error: x\n"
    partial = runner.from_lines([json.dumps({"type": "start", "ts_ns": 1, "pid": 4, "mode": "events", "argv": ["x"],
                                             "attached": False})])
    late = trace.TraceTimeout("late", partial)
    assert str(late) == "late" and late.partial is partial and isinstance(late, TimeoutError)
    stopped = trace.TraceInterrupted("stopped", None)
    assert str(stopped) == "stopped" and stopped.partial is None and isinstance(stopped, KeyboardInterrupt)
    assert issubclass(trace.CommandNotExecutable, FileNotFoundError)
    assert issubclass(trace.ProcessNotFound, ProcessLookupError)


def test_the_tracer_is_built_from_the_shipped_source():
    assert runner.tracer_source().name == "tracer.c" and runner.tracer_source().is_file()
    path = runner.tracer_binary()
    assert os.path.basename(path) == "tracer" and os.access(path, os.X_OK)
    # the tracer the benchmarks time is the optimised build, with debug information for gdb
    data = Path(path).read_bytes()
    assert b".debug_info" in data
    producer = re.search(rb"GNU C[^\0]*", data)
    if producer:  # gcc records its flags there (clang does not)
        assert {b"-O2", b"-std=gnu11"} <= set(producer.group().split()), producer


def test_a_missing_tracer_source_is_a_tracer_error(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "tracer_source", lambda: tmp_path / "tracer.c")
    with pytest.raises(trace.TracerError, match=r"tracer's source .*tracer\.c is missing: gorun_kit must run"):
        runner.tracer_binary()


# --- the command is checked before anything runs ----------------------------------
@pytest.mark.parametrize("cmd", ["ls", b"ls", [], ()])
def test_a_command_that_is_not_a_list_of_arguments_is_refused(cmd):
    with pytest.raises(ValueError, match="cmd must be a non-empty list of arguments"):
        trace.run(cmd)


def test_unknown_modes_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"mode='fast': use one of events, seccomp, syscalls"):
        trace.run(["/bin/true"], mode="fast")
    with pytest.raises(ValueError, match=r"env_records='all': use one of delta, full, none"):
        trace.run(["/bin/true"], env_records="all")


def test_attach_refuses_seccomp_with_the_reason():
    with pytest.raises(ValueError, match=r"^mode='seccomp': attaching supports events, syscalls \(a seccomp filter "
                                         r"cannot be installed into a process that already runs\)$"):
        trace.attach(1, mode="seccomp")


def test_a_command_that_cannot_run_is_named_with_the_reason(tmp_path):
    with pytest.raises(trace.CommandNotFound, match="^the command is an empty string; give a program name or path$"):
        trace.run([""])
    with pytest.raises(trace.CommandNotFound,
                       match=rf"command './prog' does not exist \(looked at {tmp_path}/prog\); check the path"):
        trace.run(["./prog"], cwd=tmp_path)
    with pytest.raises(trace.CommandNotFound, match=rf"command 'prog' not found on PATH \({tmp_path}\)"):
        trace.run(["prog"], env={"PATH": str(tmp_path)})
    (tmp_path / "dir").mkdir()
    with pytest.raises(trace.CommandNotExecutable, match=rf"command '{tmp_path}/dir' is a directory"):
        trace.run([str(tmp_path / "dir")])
    plain = _script(tmp_path / "plain", "#!/bin/sh\n", 0o644)
    with pytest.raises(trace.CommandNotExecutable, match="is not executable .*no execute permission"):
        trace.run([str(plain)])


@pytest.mark.parametrize("line", ["#!/no/such/interp\n", "#! /no/such/interp -x\n", "#!/no/such/interp"])
def test_a_script_whose_interpreter_is_missing_names_the_interpreter(tmp_path, line):
    script = _script(tmp_path / "s", line + "echo hi\n" * ("\n" in line))
    with pytest.raises(trace.CommandNotExecutable, match=r"a script whose interpreter '/no/such/interp' does not"):
        trace.run([str(script)])


def test_a_relative_command_without_cwd_is_found_in_ours(tmp_path, monkeypatch):
    _script(tmp_path / "prog", "#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    runner._resolve(["./prog"], None, None)


def test_an_interpreter_name_longer_than_the_kernel_reads_is_refused(tmp_path):
    """The kernel reads the first 256 bytes of a script; an interpreter whose name does
    not end there is not run (ENOEXEC), even when a file of that name exists."""
    name = tmp_path / ("i" * (255 - len(str(tmp_path)) - 1))
    assert len(str(name)) == 255
    name.symlink_to("/bin/sh")
    script = _script(tmp_path / "s", f"#!{name}\necho hi\n")
    with pytest.raises(OSError):
        subprocess.run([str(script)])
    with pytest.raises(trace.CommandNotExecutable, match="a script whose interpreter .* does not exist"):
        trace.run([str(script)])


def test_the_interpreter_is_the_first_word_of_the_first_line(tmp_path):
    assert runner._interpreter(_script(tmp_path / "a", "#!/bin/sh -e\n#!/x/y\n")) == "/bin/sh"
    assert runner._interpreter(_script(tmp_path / "b", "#!  /usr/bin/env  python3\n")) == "/usr/bin/env"
    assert runner._interpreter(_script(tmp_path / "c", "#!\n/bin/sh\n")) is None
    assert runner._interpreter(_script(tmp_path / "d", "#!")) is None
    assert runner._interpreter(_script(tmp_path / "e", "echo #!/bin/sh\n")) is None
    assert runner._interpreter(tmp_path / "missing") is None
    assert runner._interpreter(_script(tmp_path / "f", "#!/b/\xe9\n")) == "/b/\xe9"


# --- what each argument changes in a traced run -----------------------------------
@pytest.mark.live
def test_a_relative_command_is_found_in_cwd(tmp_path):
    _script(tmp_path / "prog", '#!/bin/sh\necho "$(pwd) $1"\nprintf "\\377" >&2\nexit 3\n')
    t = trace.run(["./prog", "arg"], cwd=tmp_path)
    assert t.returncode == 3 and t.stdout == f"{tmp_path} arg\n".encode() and t.stderr == b"\xff"
    assert t.command == ("./prog", "arg") and t.mode == "events" and not t.attached


@pytest.mark.live
def test_the_path_searched_is_the_one_in_env(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(bindir / "only-here", "#!/bin/sh\necho found\n")
    t = trace.run(["only-here"], env={"PATH": str(bindir)})
    assert (t.returncode, t.stdout) == (0, b"found\n")
    with pytest.raises(trace.CommandNotFound):
        trace.run(["only-here"], env={"PATH": "/bin"})
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert trace.run(["only-here"]).stdout == b"found\n"  # no env: ours
    assert trace.run(["sh", "-c", "echo $A"], env={"A": "1"}).stdout == b"1\n"


def test_an_environment_without_path_searches_the_default_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # ours holds nothing: the default path is what finds sh
    runner._resolve(["sh"], {"A": "1"}, None)
    with pytest.raises(trace.CommandNotFound, match=rf"command 'sh' not found on PATH \({tmp_path}\)"):
        runner._resolve(["sh"], None, None)


@pytest.mark.live
def test_a_script_with_a_bare_interpreter_name_is_left_to_the_tracer(tmp_path):
    script = _script(tmp_path / "s", "#!no-such-interp\necho hi\n")
    t = trace.run([str(script)])
    assert t.returncode == 126 and [e.errno for e in t.exec_failures] == ["ENOENT"]
    assert b"its interpreter 'no-such-interp'" in t.stderr


@pytest.mark.live
def test_bytes_arguments_reach_the_command_unchanged():
    t = trace.run([b"/bin/echo", b"caf\xe9"])
    assert t.stdout == b"caf\xe9\n" and t.execs[0].argv_bytes == (b"/bin/echo", b"caf\xe9")


@pytest.mark.live
@pytest.mark.parametrize("mode", ["seccomp", "syscalls"])
def test_the_mode_is_the_tracers(mode):
    t = trace.run(["/bin/sh", "-c", "/bin/true"], mode=mode)
    assert t.mode == mode and [e.program for e in t.execs] == ["sh", "true"]


@pytest.mark.live
def test_env_records_and_verify_reach_the_tracer():
    full = trace.run(["/bin/sh", "-c", "/bin/true"], env={"A": "1"}, env_records="full")
    assert full.execs[0].envp == ("A=1",)
    bare = trace.run(["/bin/sh", "-c", "/bin/true"], env={"A": "1"}, env_records="none")
    assert [e.envp for e in bare.execs] == [(), ()]
    assert "verify" not in bare.stats
    checked = trace.run(["/bin/sh", "-c", "/bin/true"], verify=True)
    assert checked.stats["verify"]["execs"] == 2 and checked.stats["verify"]["mismatches"] == 0


@pytest.mark.live
def test_without_capture_the_output_is_ours(capfd):
    t = trace.run(["/bin/sh", "-c", "echo out; echo err >&2"], capture=False)
    assert t.stdout is None and t.stderr is None
    got = capfd.readouterr()
    assert got.out == "out\n" and got.err == "err\n"


@pytest.mark.live
def test_stdin_is_empty_unless_given(tmp_path):
    assert trace.run(["/bin/cat"]).stdout == b""
    assert trace.run(["readlink", "/proc/self/fd/0"]).stdout == b"/dev/null\n"
    given = tmp_path / "in.txt"
    given.write_bytes(b"typed\n")
    with open(given, "rb") as f:
        assert trace.run(["/bin/cat"], stdin=f).stdout == b"typed\n"


@pytest.mark.live
def test_a_confined_run_goes_through_the_sandbox_with_its_writable_dirs(tmp_path, monkeypatch):
    log = tmp_path / "sandbox.log"
    sandbox = _script(tmp_path / "sandbox", f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n'
                                            'while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    monkeypatch.setenv("GORUN_KIT_CONFINE", json.dumps([str(sandbox), "--die-with-parent"]))
    monkeypatch.setenv("PWD", "/not/the/callers")
    work = tmp_path / "work"
    work.mkdir()
    t = trace.run(["/usr/bin/printenv", "PWD"], env={"PWD": "/made/up"}, confine=True, writable=[str(work)])
    assert (t.returncode, t.stdout) == (0, b"/made/up\n")
    args = log.read_text().splitlines()
    assert args[:5] == ["--die-with-parent", "--bind", str(work), str(work), "--"]
    assert args[5:7] == ["/usr/bin/env", "PWD=/made/up"] and args[7] == runner.tracer_binary()
    assert args[-3:] == ["--", "/usr/bin/printenv", "PWD"]
    log.unlink()
    assert trace.run(["/bin/true"]).returncode == 0 and not log.exists()  # not confined: no sandbox


# --- cleanup ------------------------------------------------------------------------
@pytest.mark.live
def test_a_timeout_kills_the_tree_and_keeps_what_was_recorded():
    env, mark = marked_env()
    t0 = time.monotonic()
    with pytest.raises(trace.TraceTimeout, match=r"'/bin/sh -c sleep 30 & sleep 30; wait' did not finish "
                                                 r"within 0.3 s; the traced processes were killed") as info:
        trace.run(["/bin/sh", "-c", "sleep 30 & sleep 30; wait"], env=env, timeout=0.3)
    assert time.monotonic() - t0 < 5
    partial = info.value.partial
    assert partial.command[0] == "/bin/sh" and [e.program for e in partial.execs] == ["sh", "sleep", "sleep"]
    assert partial.stats["interrupted_by"] == "SIGTERM", "the tracer was not asked to clean up itself"
    assert partial.stdout == b"" and partial.stderr is not None
    assert _gone(lambda: not leftovers(mark, all_pids(partial))), leftovers(mark, all_pids(partial))


@pytest.mark.live
def test_an_interrupt_kills_the_tree_and_keeps_what_was_recorded():
    env, mark = marked_env()
    with pytest.raises(trace.TraceInterrupted, match=r"tracing '/bin/sh -c sleep 30 & sleep 30; wait' was "
                                                     r"interrupted \(Ctrl-C\); the traced processes") as info:
        with interrupted_after(0.3):
            trace.run(["/bin/sh", "-c", "sleep 30 & sleep 30; wait"], env=env, timeout=20)
    partial = info.value.partial
    assert [e.program for e in partial.execs] == ["sh", "sleep", "sleep"]
    assert partial.stdout is None and partial.stats["interrupted_by"] == "SIGTERM"
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    assert _gone(lambda: not leftovers(mark, all_pids(partial))), leftovers(mark, all_pids(partial))


@pytest.mark.live
def test_a_tracer_killed_by_its_own_tracee_is_a_tracer_error():
    env, mark = marked_env()
    with pytest.raises(trace.TracerError, match=r"^tracing '/bin/sh -c echo bye >&2; sleep 30 & kill -9 \$PPID; wait' "
                                                r"failed: the tracer was killed by SIGKILL before it could write") as info:
        trace.run(["/bin/sh", "-c", "echo bye >&2; sleep 30 & kill -9 $PPID; wait"], env=env, timeout=20)
    assert info.value.stderr == "bye\n"
    assert _gone(lambda: not leftovers(mark)), leftovers(mark)


# --- attach -------------------------------------------------------------------------
def _die_with_us():
    """A preexec_fn: the child gets SIGKILL when this process dies, even killed
    (a mutation run kills a test that hangs; its fixture's cleanup never runs)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


@pytest.fixture
def sleeper():
    env, mark = marked_env()
    proc = subprocess.Popen(["/bin/sh", "-c", "while :; do /bin/true; sleep 0.02; done"], env=env,
                            preexec_fn=_die_with_us)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _tracer_pid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("TracerPid:")).split()[1])


@pytest.mark.live
def test_attach_for_a_duration_detaches_and_the_process_runs_on(sleeper):
    t = trace.attach(sleeper.pid, mode="syscalls", duration=0.3, env_records="none", verify=True)
    assert t.returncode is None and t.attached and t.mode == "syscalls" and t.root_pid == sleeper.pid
    assert t.command == ("--attach", str(sleeper.pid), "/bin/sh", "-c", "while :; do /bin/true; sleep 0.02; done")
    trues = [e for e in t.execs if e.program == "true"]
    assert trues and all(e.envp == () for e in trues) and t.stats["verify"]["execs"] == len(t.execs)
    assert t.stdout == b"" and t.stderr == b""  # the tracer's own output: it said nothing
    assert sleeper.poll() is None and _gone(lambda: _tracer_pid(sleeper.pid) == 0)


@pytest.mark.live
def test_attach_to_the_end_keeps_the_exit_status():
    proc = subprocess.Popen(["/bin/sh", "-c", "sleep 0.3; /bin/true; exit 5"])
    try:
        t = trace.attach(proc.pid, env_records="full")
    finally:
        proc.wait(timeout=20)
    assert t.returncode == 5 and t.mode == "events" and "verify" not in t.stats
    assert [e.program for e in t.execs] == ["true"] and t.execs[0].envp


@pytest.mark.live
def test_attach_keeps_the_status_of_a_process_ended_by_sigterm():
    """128+SIGTERM is also what a detach after ``duration`` looks like; without a
    duration the process's own end is meant."""
    proc = subprocess.Popen(["/bin/sh", "-c", "sleep 0.3; kill -TERM $$"], preexec_fn=_die_with_us)
    try:
        t = trace.attach(proc.pid)
    finally:
        proc.wait(timeout=20)
    assert t.returncode == 128 + signal.SIGTERM and proc.returncode == -signal.SIGTERM


@pytest.mark.live
def test_an_interrupted_attach_detaches_and_the_process_runs_on(sleeper):
    with pytest.raises(trace.TraceInterrupted, match=rf"following pid {sleeper.pid} was interrupted \(Ctrl-C\); "
                                                     r"the tracer detached, the process runs on") as info:
        with interrupted_after(0.3):
            trace.attach(sleeper.pid, duration=20)
    assert info.value.partial.command[:2] == ("--attach", str(sleeper.pid))
    assert any(e.program == "true" for e in info.value.partial.execs)
    assert sleeper.poll() is None and _gone(lambda: _tracer_pid(sleeper.pid) == 0)


@pytest.mark.live
def test_attach_to_a_zombie_says_so():
    proc = subprocess.Popen(["/bin/true"])
    try:
        assert _gone(lambda: procfs.stat(proc.pid).state == "Z")
        with pytest.raises(trace.ProcessNotFound, match=rf"process {proc.pid} \(true\) has already exited: it is a "
                                                        rf"zombie that its parent \(pid {os.getpid()}\)"):
            trace.attach(proc.pid)
    finally:
        proc.wait()


# --- a tracer that misbehaves (a student's, or a broken build) ----------------------
START = ('{"type": "start", "ts_ns": 1, "pid": 4, "mode": "events", "argv": ["x"], "attached": false}')


@pytest.fixture
def fake_tracer(tmp_path, monkeypatch):
    """Put a bash script in the tracer's place (dash takes no descriptor above 9); its output descriptor is $fd.
    The grace period after SIGTERM is made short."""
    def make(body: str) -> Path:
        path = _script(tmp_path / "tracer", f'#!/bin/bash\nfd=$2\n{body}\n')
        monkeypatch.setattr(runner, "tracer_binary", lambda: str(path))
        monkeypatch.setattr(runner, "_GRACE", 0.3)
        return path
    return make


# writes a record and one cut short in a multi-byte character, then ignores SIGTERM
STUBBORN = (f"printf '%s\\n' '{START}' >&$fd\nprintf '{{\"type\": \"exec\", \"argv\": [\"caf\\303' >&$fd\n"
            "echo 'tracer: still going' >&2\ntrap '' TERM\n"
            'exec -a "$0" sleep 30')  # it keeps the script's name: _no_process_runs looks for it


def _no_process_runs(path: Path) -> bool:
    return not any(str(path) in " ".join(procfs.cmdline(p)) for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                   if procfs.exists(p))


@pytest.mark.live
def test_a_tracer_that_ignores_sigterm_is_killed_after_the_grace_period(fake_tracer):
    path = fake_tracer(STUBBORN)
    t0 = time.monotonic()
    with pytest.raises(trace.TraceTimeout) as info:
        trace.run(["/bin/true", "x"], timeout=0.2)
    assert time.monotonic() - t0 < 5
    partial = info.value.partial
    assert (partial.command, partial.root_pid, partial.events) == (("/bin/true", "x"), 4, ())
    assert partial.stderr == b"tracer: still going\n" and partial.stdout == b""
    assert _gone(lambda: _no_process_runs(path))


@pytest.mark.live
def test_an_interrupt_keeps_the_records_before_the_one_cut_short(fake_tracer):
    path = fake_tracer(STUBBORN)
    with pytest.raises(trace.TraceInterrupted) as info:
        with interrupted_after(0.2):
            trace.run(["/bin/true"], timeout=20)
    assert info.value.partial.root_pid == 4 and info.value.partial.events == ()
    assert _gone(lambda: _no_process_runs(path))


@pytest.mark.live
def test_attach_with_a_tracer_that_ignores_sigterm(fake_tracer, sleeper):
    path = fake_tracer(STUBBORN)
    t0 = time.monotonic()
    with pytest.raises(trace.TracerError, match="the tracer was killed by SIGKILL") as info:
        trace.attach(sleeper.pid, duration=0.2)
    assert time.monotonic() - t0 < 5 and info.value.stderr == "tracer: still going\n"
    with pytest.raises(trace.TraceInterrupted) as info:
        with interrupted_after(0.2):
            trace.attach(sleeper.pid, duration=20)
    assert info.value.partial.root_pid == 4 and info.value.partial.events == ()
    assert _gone(lambda: _no_process_runs(path))


FAILS = (f"printf '%s\\n' '{START}' >&$fd\n"
         "echo 'noise'; echo 'tracer: error: cannot attach' >&2; echo 'said the program' >&2\n"
         "echo 'tracer: see README' >&2\nexit 125")


@pytest.mark.live
def test_the_tracers_own_failure_is_a_tracer_error_with_its_messages(fake_tracer, sleeper):
    fake_tracer(FAILS)
    stderr = "tracer: error: cannot attach\nsaid the program\ntracer: see README\n"
    with pytest.raises(trace.TracerError) as info:
        trace.run(["/bin/echo", "a b"])
    assert str(info.value) == "tracing '/bin/echo a b' failed: tracer: error: cannot attach\ntracer: see README"
    assert info.value.stderr == stderr
    with pytest.raises(trace.TracerError) as info:
        trace.attach(sleeper.pid)
    assert str(info.value).startswith(f"tracing '--attach {sleeper.pid} /bin/sh -c while")
    assert str(info.value).endswith(" failed: tracer: error: cannot attach\ntracer: see README")
    assert info.value.stderr == stderr


@pytest.mark.live
def test_unreadable_records_are_a_tracer_error(fake_tracer):
    fake_tracer("echo 'not json' >&$fd")
    with pytest.raises(trace.TracerError, match=r"^tracing '/bin/echo a b' failed: line 1 is not JSON"):
        trace.run(["/bin/echo", "a b"])
    fake_tracer("echo 'not json' >&$fd; echo 'tracer: cannot write' >&2")
    with pytest.raises(trace.TracerError, match=r"^tracing '/bin/echo a b' failed: tracer: cannot write$"):
        trace.run(["/bin/echo", "a b"])


def test_a_missing_output_file_is_an_empty_trace(tmp_path):
    with pytest.raises(trace.TracerError, match=r"^tracing 'sh -c x' failed: no 'start' record"):
        runner._parse(tmp_path / "missing", ["sh", "-c", "x"], 0, None, None, strict=True)


@pytest.mark.live
def test_a_killed_tracer_without_capture_has_no_messages_of_its_own(fake_tracer, capfd):
    fake_tracer(f"printf '%s\\n' '{START}' >&$fd\necho 'tracer: dying' >&2\nkill -9 $$")
    with pytest.raises(trace.TracerError, match="the tracer was killed by SIGKILL") as info:
        trace.run(["/bin/true"], capture=False)
    assert info.value.stderr == "" and capfd.readouterr().err == "tracer: dying\n"
