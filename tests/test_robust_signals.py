"""``gorun-kit trace`` and its tracer die together, whatever signal ends the
command: afterwards no process of the tree is left (checked by pid and start
time) and no temporary file of the trace remains."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gorun_kit import procfs

from trace_helpers import default_action, marked_env, snapshot, still_there

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def tracer_built():
    from gorun_kit import trace

    return trace.tracer_binary()


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _wait_for_tree(mark: str, want: str, timeout: float = 60.0) -> dict[int, int]:
    """The marked processes once one of them is ``want`` (the traced program) and running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs = snapshot(mark)
        if any(_comm(p) == want and getattr(procfs.stat(p), "state", "?") in "SR" for p in procs):
            return procs
        time.sleep(0.05)
    raise AssertionError(f"{want} did not start under the tracer within {timeout} s")


def _gone(procs: dict[int, int], timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := still_there(procs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _trace_files(tmp) -> list[str]:
    return [n for n in os.listdir(tmp) if n.startswith("gorun-kit-trace-")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_signal_to_the_cli_leaves_nothing(sig, tracer_built, tmp_path):
    env, mark = marked_env()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    cli = subprocess.Popen([sys.executable, "-m", "gorun_kit", "trace", "--", "sleep", "300"], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=default_action(sig))
    try:
        procs = _wait_for_tree(mark, "sleep")
        assert cli.pid in procs and len(procs) >= 3, procs  # the CLI, the tracer, sleep
        os.kill(cli.pid, sig)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert _gone(procs) == []
    assert _trace_files(tmp) == []
    assert cli.returncode in (128 + sig, -sig)
    if sig != signal.SIGKILL:
        assert b"Traceback" not in err, err.decode()
        assert err.decode().strip().splitlines()[-1].startswith("gorun-kit trace: "), err.decode()


def test_timeout_command_leaves_nothing(tracer_built, tmp_path):
    """``timeout 8 gorun-kit trace -- sleep 300``: timeout's SIGTERM ends it all."""
    env, mark = marked_env()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    seen: dict[int, int] = {}
    proc = subprocess.Popen(["timeout", "8", sys.executable, "-m", "gorun_kit", "trace", "--", "sleep", "300"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    comm_of: dict[int, str] = {}
    while proc.poll() is None:  # remember every process of the tree while it runs
        for pid, start in snapshot(mark).items():
            seen[pid] = start
            comm_of[pid] = _comm(pid) or comm_of.get(pid, "")
        time.sleep(0.05)
    proc.communicate()
    assert "sleep" in {comm_of.get(p) for p in seen}, seen  # it got as far as running sleep
    assert len(seen) >= 4, seen  # timeout, the CLI, the tracer, sleep
    assert _gone(seen) == []
    assert _trace_files(tmp) == []
    assert proc.returncode == 124


def test_the_tracer_dies_with_its_parent(tracer_built, tmp_path):
    """The tracer alone (no CLI): SIGKILL of its parent ends the tracer and the tree."""
    env, mark = marked_env()
    # a shell is the tracer's parent; it waits in the background, we kill it
    sh = subprocess.Popen(["sh", "-c", f'"{tracer_built}" -- sleep 300 & wait'], env=env,
                          stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        procs = _wait_for_tree(mark, "sleep")
        os.kill(sh.pid, signal.SIGKILL)
        sh.wait(timeout=10)
    finally:
        if sh.poll() is None:
            sh.kill()
            sh.wait()
    assert _gone(procs) == []


def test_threads_timeout_on_a_program_that_never_ends(tmp_path):
    """``gorun-kit threads --timeout S``: one line, exit 124, nothing left running."""
    prog = tmp_path / "forever.go"
    prog.write_text('package main\n\nimport "time"\n\nfunc main() {\n\tfor {\n\t\ttime.Sleep(time.Hour)\n\t}\n}\n')
    env, mark = marked_env()
    seen: dict[int, int] = {}
    proc = subprocess.Popen([sys.executable, "-m", "gorun_kit", "threads", "--timeout", "2", str(prog)],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    while proc.poll() is None:
        seen.update(snapshot(mark))
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 124, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _gone(seen) == []


def test_threads_stopped_by_sigterm_leaves_nothing(tmp_path):
    """``gorun-kit threads`` traces in a helper thread: SIGTERM still ends it all."""
    prog = tmp_path / "forever.go"
    prog.write_text('package main\n\nimport "time"\n\nfunc main() {\n\tfor {\n\t\ttime.Sleep(time.Hour)\n\t}\n}\n')
    env, mark = marked_env()
    cli = subprocess.Popen([sys.executable, "-m", "gorun_kit", "threads", str(prog)], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        procs = _wait_for_tree(mark, "forever", timeout=300)
        os.kill(cli.pid, signal.SIGTERM)
        _, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err, err
    assert _gone(procs) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_signal_to_the_cli_with_strace_leaves_nothing(sig, tmp_path):
    """--strace (the cross-check): strace, its tree and its log go too."""
    env, mark = marked_env()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    dest = tmp_path / "t.jsonl"
    cli = subprocess.Popen([sys.executable, "-m", "gorun_kit", "trace", "--strace", "--json", str(dest), "--",
                            "sleep", "300"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=default_action(sig))
    try:
        procs = _wait_for_tree(mark, "sleep")
        os.kill(cli.pid, sig)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 128 + sig, err.decode()
    assert _gone(procs) == []
    assert os.listdir(tmp) == []
    from gorun_kit import trace

    assert [e.argv for e in trace.load(dest).execs] == [("sleep", "300")]
