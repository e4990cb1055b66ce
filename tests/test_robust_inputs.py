"""Bad input to ``gorun-kit trace`` (and the other --json options) is refused
with one clear line naming it, before anything runs; what the tracer records
survives a timeout or an interruption; untrusted text never reaches the
terminal raw."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from gorun_kit import cli, procfs, trace

from trace_helpers import marked_env, snapshot, still_there

pytestmark = pytest.mark.live


def _main(argv, capsys):
    """cli.main in-process: (exit status, stdout, stderr); argparse's SystemExit caught."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _cli(*argv, **kw):
    return subprocess.run([sys.executable, "-m", "gorun_kit", *argv], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def tracer_built():
    return trace.tracer_binary()


# -- --json is checked before the command runs ---------------------------------


def _bad_json_values(tmp_path):
    return [str(tmp_path), "", "/sys/x.json", str(tmp_path / "no" / "such" / "dir" / "x.json"), "/proc/version"]


@pytest.mark.parametrize("which", range(5))
def test_bad_json_is_refused_before_the_command_runs(which, tmp_path, capsys):
    value = _bad_json_values(tmp_path)[which]
    marker = tmp_path / "ran"
    code, out, err = _main(["trace", "--json", value, "--", "sh", "-c", f"touch {marker}"], capsys)
    assert code == 2
    assert not marker.exists(), "the command ran although --json was bad"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert repr(value) in err or value in err, err


@pytest.mark.parametrize("argv", [["doctor"], ["threads", "x.go"], ["course", "grade"]])
def test_other_json_options_are_checked_the_same_way(argv, tmp_path, capsys):
    start = time.monotonic()
    code, out, err = _main([*argv, "--json", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err and str(tmp_path) in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not any(tmp_path.iterdir())


def test_json_check_leaves_no_file(tmp_path, capsys):
    dest = tmp_path / "t.jsonl"
    code, out, err = _main(["trace", "--json", str(dest), "--attach", "0"], capsys)
    assert code == 2 and not dest.exists()


def test_json_dash_writes_to_stdout(tracer_built):
    done = _cli("trace", "--json", "-", "--", "/bin/true")
    assert done.returncode == 0, done.stderr
    records = [json.loads(l) for l in done.stdout.splitlines()]
    assert records[0]["type"] == "start" and records[0]["attached"] is False
    assert records[-1]["type"] == "end"
    assert not os.path.exists("-")


def test_json_after_timeout_holds_the_partial_records(tracer_built, tmp_path):
    dest = tmp_path / "t.jsonl"
    done = _cli("trace", "--timeout", "1", "--json", str(dest), "--", "sh", "-c", "/bin/true; sleep 30")
    assert done.returncode == 124, done.stderr
    t = trace.load(dest)
    assert [os.path.basename(e.filename) for e in t.execs][:2] == ["sh", "true"]


def test_json_after_sigterm_holds_the_partial_records(tracer_built, tmp_path):
    env, mark = marked_env()
    dest = tmp_path / "t.jsonl"
    cli_proc = subprocess.Popen([sys.executable, "-m", "gorun_kit", "trace", "--json", str(dest), "--",
                                 "sh", "-c", "/bin/true; exec sleep 300"], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        procs = snapshot(mark)
        if any(getattr(procfs.stat(p), "comm", "") == "sleep" for p in procs):
            break
        time.sleep(0.05)
    cli_proc.send_signal(signal.SIGTERM)
    _, err = cli_proc.communicate(timeout=30)
    assert cli_proc.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "Traceback" not in err
    t = trace.load(dest)
    assert [e.argv for e in t.execs][-1] == ("sleep", "300")
    assert still_there(procs) == []


def test_json_keeps_attached(tracer_built, tmp_path):
    dest = tmp_path / "t.jsonl"
    target = subprocess.Popen(["sleep", "30"])
    try:
        done = _cli("trace", "--attach", str(target.pid), "--duration", "0.5", "--json", str(dest))
        assert done.returncode == 0, done.stderr
        assert target.poll() is None, "the process must run on after the detach"
    finally:
        target.kill()
        target.wait()
    first = json.loads(dest.read_text().splitlines()[0])
    assert first["attached"] is True
    assert trace.load(dest).attached
    assert "None" not in done.stderr and "detached" in done.stderr, done.stderr


# -- --duration and --timeout ---------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e999", "x"])
@pytest.mark.parametrize("option", ["--duration", "--timeout"])
def test_bad_seconds_are_refused(option, value, capsys):
    code, out, err = _main(["trace", option, value, "--attach", "99999999"], capsys)
    assert code == 2 and repr(value) in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


# -- the command itself ---------------------------------------------------------


def test_directory_as_command_exits_126(tmp_path, capsys):
    code, out, err = _main(["trace", "--", str(tmp_path)], capsys)
    assert code == 126 and "is a directory" in err, err


def test_non_executable_file_exits_126(tmp_path, capsys):
    f = tmp_path / "prog"
    f.write_text("echo hi\n")
    code, out, err = _main(["trace", "--", str(f)], capsys)
    assert code == 126 and "not executable" in err, err


def test_missing_interpreter_is_named(tmp_path, capsys):
    f = tmp_path / "script"
    f.write_text("#!/no/such/interpreter -x\necho hi\n")
    f.chmod(0o755)
    code, out, err = _main(["trace", "--", str(f)], capsys)
    assert code == 126 and "'/no/such/interpreter'" in err, err


def test_stdin_is_passed_through(tracer_built):
    done = _cli("trace", "--", "cat", input="through the tracer\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "through the tracer\n"


def test_attach_to_a_zombie_says_so(tracer_built):
    child = subprocess.Popen(["/bin/true"])
    deadline = time.monotonic() + 10
    while procfs.stat(child.pid).state != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        with pytest.raises(trace.ProcessNotFound, match="zombie"):
            trace.attach(child.pid, duration=1)
    finally:
        child.wait()


def test_tracer_killed_from_inside_says_what_happened(tracer_built):
    """The traced program SIGKILLs its tracer (its parent): the error says so."""
    env, mark = marked_env()
    with pytest.raises(trace.TracerError) as info:
        trace.run(["sh", "-c", "sleep 300 & kill -KILL $PPID; wait"], env=env, timeout=60)
    msg = str(info.value)
    assert "killed by SIGKILL" in msg and "'start' record" not in msg, msg
    deadline = time.monotonic() + 10
    while snapshot(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert snapshot(mark) == {}


def test_summary_escapes_untrusted_bytes(tracer_built, tmp_path):
    evil = tmp_path / "clear\x1b[2Jscreen"
    evil.symlink_to("/bin/true")
    done = _cli("trace", "--execs", "--", str(evil), "\x1b[2J", "two\nlines")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr
    assert "\\x1b[2J" in done.stderr and "two\\nlines" in done.stderr
    assert not any(line.startswith("lines") for line in done.stderr.splitlines())


def test_escape_keeps_printable_text():
    assert trace.escape("héllo wörld 世界") == "héllo wörld 世界"
    assert trace.escape("a\tb\\c\udc80\u202e") == "a\\tb\\\\c\\x80\\u202e"


def test_the_tracer_itself_says_zombie(tracer_built):
    child = subprocess.Popen(["/bin/true"])
    deadline = time.monotonic() + 10
    while procfs.stat(child.pid).state != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        done = subprocess.run([tracer_built, "--attach", str(child.pid)], capture_output=True, text=True,
                              timeout=30)
    finally:
        child.wait()
    assert done.returncode == 125 and "zombie" in done.stderr, done.stderr


def test_json_that_cannot_be_written_after_the_run_is_one_line(tracer_built, tmp_path, capsys):
    """The directory of --json disappears while the command runs: a message, no traceback."""
    where = tmp_path / "gone"
    where.mkdir()
    code, out, err = _main(["trace", "--json", str(where / "t.jsonl"), "--", "rmdir", str(where)], capsys)
    assert code == 2 and "cannot write the records" in err and "Traceback" not in err, err


def test_the_tracer_itself_names_a_missing_interpreter(tracer_built, tmp_path):
    f = tmp_path / "script"
    f.write_text("#!/no/such/interpreter\necho hi\n")
    f.chmod(0o755)
    done = subprocess.run([tracer_built, "--output", str(tmp_path / "t.jsonl"), "--", str(f)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 126 and "'/no/such/interpreter'" in done.stderr, done.stderr
    t = trace.load(tmp_path / "t.jsonl")
    assert [e.errno for e in t.exec_failures] == ["ENOENT"]
