"""Where the thread hook's records go ($GORUN_KIT_THREADS): an inherited fd of 3
or above that is open for writing, or an absolute path that can be opened --
never the program's own stdout or stderr. A refused destination is named on
stderr with what to give instead; the program then runs on as if unpatched."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gorun_kit import threads
from gorun_kit.build import build_go

RECORD = "gorunkit-thread"
REFUSED = "recording is off"

# Prints a known stdout and stderr, starts a goroutine (so the runtime makes
# Ms) and exits 3 on its own: a refused destination must not change any of it.
PROGRAM = """package main

import (
\t"fmt"
\t"os"
\t"runtime"
\t"time"
)

func main() {
\tfmt.Println("out line")
\tfmt.Fprintln(os.Stderr, "err line")
\tgo func() {}()
\truntime.Gosched()
\ttime.Sleep(20 * time.Millisecond)
\tos.Exit(3)
}
"""
OUT, ERR = "out line\n", "err line\n"


@pytest.fixture(scope="module")
def hooked(go, tmp_path_factory) -> str:
    src = tmp_path_factory.mktemp("dest") / "dest.go"
    src.write_text(PROGRAM)
    return threads.build(src, go=go).path


def _run(path: str, value: str | None, **popen) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != threads.ENV}
    if value is not None:
        env[threads.ENV] = value
    popen.setdefault("capture_output", True)
    return subprocess.run([path], text=True, env=env, timeout=60, **popen)


def _refused(r: subprocess.CompletedProcess, value: str, *words: str) -> None:
    """Refused with one stderr line naming the value; otherwise the program's own output."""
    assert r.returncode == 3, r.stderr
    assert r.stdout == OUT
    complaint, rest = r.stderr.split("\n", 1)
    assert complaint.startswith("gorun-kit thread hook: ") and f'{threads.ENV}="{value}"' in complaint
    assert complaint.endswith(REFUSED)
    for w in words:
        assert w in complaint, complaint
    assert rest == ERR
    assert RECORD not in r.stdout + r.stderr


@pytest.mark.live
def test_without_the_variable_the_output_is_the_unpatched_programs(hooked, go, tmp_path):
    src = tmp_path / "dest.go"
    src.write_text(PROGRAM)
    plain = _run(build_go(src, go=go).path, None)
    assert (plain.returncode, plain.stdout, plain.stderr) == (3, OUT, ERR)
    for value in (None, ""):
        r = _run(hooked, value)
        assert (r.returncode, r.stdout, r.stderr) == (3, OUT, ERR), value


@pytest.mark.live
@pytest.mark.parametrize("fd", [0, 1, 2])
def test_the_programs_own_stdio_fds_are_refused(hooked, fd):
    value = f"fd:{fd}"
    _refused(_run(hooked, value), value, "stdin, stdout or stderr", "3 or above", "absolute file path")


@pytest.mark.live
def test_an_fd_the_child_did_not_inherit_is_refused(hooked, tmp_path):
    dest = tmp_path / "never.txt"
    with open(dest, "wb") as fh:
        # open here, but not passed: subprocess closes it in the child
        value = f"fd:{fh.fileno()}"
        r = _run(hooked, value)
    _refused(r, value, "not an open file descriptor", "EBADF", "pass_fds", "absolute file path")
    assert dest.read_bytes() == b""


@pytest.mark.live
def test_an_fd_open_only_for_reading_is_refused(hooked, tmp_path):
    dest = tmp_path / "readonly.txt"
    dest.write_bytes(b"")
    with open(dest, "rb") as fh:
        value = f"fd:{fh.fileno()}"
        r = _run(hooked, value, pass_fds=(fh.fileno(),))
    _refused(r, value, "not open for writing")
    assert dest.read_bytes() == b""


@pytest.mark.live
@pytest.mark.parametrize("where,errno", [("directory", "EISDIR"), ("missing parent", "ENOENT"),
                                          ("not a directory", "ENOTDIR")])
def test_an_absolute_path_that_cannot_be_opened_is_refused(hooked, tmp_path, where, errno):
    (tmp_path / "file").write_text("")
    value = str({"directory": tmp_path, "missing parent": tmp_path / "missing" / "r.txt",
                 "not a directory": tmp_path / "file" / "r.txt"}[where])
    _refused(_run(hooked, value), value, "cannot be opened", errno, "fd:N")
    assert not (tmp_path / "missing").exists()


@pytest.mark.live
@pytest.mark.parametrize("value,stream", [("/dev/stdout", "stdout"), ("/proc/self/fd/2", "stderr")])
def test_a_path_to_the_programs_own_stdout_or_stderr_is_refused(hooked, value, stream):
    _refused(_run(hooked, value), value, f"same file as the program's {stream}")


@pytest.mark.live
def test_a_destination_that_is_the_file_stdout_goes_to_is_refused(hooked, tmp_path):
    out = tmp_path / "out.txt"
    # By path: the shell's `prog >out.txt` with the variable naming out.txt.
    with open(out, "w") as fh:
        r = _run(hooked, str(out), stdout=fh, stderr=subprocess.PIPE, capture_output=False)
    assert r.returncode == 3 and "same file as the program's stdout" in r.stderr
    assert out.read_text() == OUT
    # By fd: a second descriptor of the file stdout writes to.
    with open(out, "w") as fh:
        dup = os.dup(fh.fileno())
        try:
            r = _run(hooked, f"fd:{dup}", stdout=fh, stderr=subprocess.PIPE, capture_output=False,
                     pass_fds=(dup,))
        finally:
            os.close(dup)
    assert r.returncode == 3 and f'"fd:{dup}" is the same file as the program\'s stdout' in r.stderr
    assert out.read_text() == OUT


def _records_only_in(dest: Path, r: subprocess.CompletedProcess, pid: int | None = None) -> None:
    assert (r.returncode, r.stdout, r.stderr) == (3, OUT, ERR)
    recs = threads.parse_records(dest.read_text())  # raises on any line that is not a record
    starts = [x for x in recs if x["kind"] == "start"]
    assert starts and starts[0]["m"] == 0
    assert {x["kind"] for x in recs} == {"new", "clone", "start"}
    if pid is not None:
        assert starts[0]["tid"] == pid  # m0 runs on the main thread


@pytest.mark.live
def test_a_good_fd_gets_the_records_and_stdio_none(hooked, tmp_path):
    dest = tmp_path / "by-fd.txt"
    env = {k: v for k, v in os.environ.items() if k != threads.ENV}
    with open(dest, "wb") as fh:
        env[threads.ENV] = f"fd:{fh.fileno()}"
        proc = subprocess.Popen([hooked], env=env, pass_fds=(fh.fileno(),), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
    _records_only_in(dest, subprocess.CompletedProcess(proc.args, proc.returncode, out, err), proc.pid)


@pytest.mark.live
def test_a_good_absolute_path_gets_the_records_and_stdio_none(hooked, tmp_path):
    dest = tmp_path / "by-path.txt"
    _records_only_in(dest, _run(hooked, str(dest)))


@pytest.mark.live
@pytest.mark.slow
def test_the_checks_build_and_hold_on_the_oldest_supported_release(tmp_path, oldest_go):
    src = tmp_path / "dest.go"
    src.write_text(PROGRAM)
    path = threads.build(src, go=oldest_go).path
    _refused(_run(path, "fd:1"), "fd:1", "stdin, stdout or stderr")
    _refused(_run(path, "fd:250"), "fd:250", "not an open file descriptor")
    _refused(_run(path, str(tmp_path)), str(tmp_path), "EISDIR")
    _refused(_run(path, "/dev/stdout"), "/dev/stdout", "same file as the program's stdout")
    dest = tmp_path / "records.txt"
    _records_only_in(dest, _run(path, str(dest)))
