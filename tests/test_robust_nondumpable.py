"""The exec of a process that is not dumpable: a tracer without
CAP_SYS_PTRACE cannot read its memory at the syscall entry, so the exec
record comes from the new image's /proc files ("source": "proc"); where
even that is impossible the record says "complete": false and the tracer
warns. The tracer runs as uid 65534 here, so it has no CAP_SYS_PTRACE."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from gorun_kit import build, trace

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                 reason="runs the tracer as uid 65534, which needs root")]

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "nondumpable_exec.c")


@pytest.fixture(scope="module")
def unprivileged():
    """(tracer, program) copied where uid 65534 can run them (pytest's own
    temporary directories are private to root)."""
    d = tempfile.mkdtemp(prefix="gorun-kit-test-nondumpable-")
    try:
        os.chmod(d, 0o755)
        yield shutil.copy(trace.tracer_binary(), d), shutil.copy(build.build_c(FIXTURE).path, d)
    finally:
        shutil.rmtree(d)


def _trace_as_nobody(tracer: str, mode: str, *cmd: str, status: int = 0) -> tuple[list[dict], str]:
    with open(os.devnull) as devnull, tempfile.TemporaryFile() as out:
        proc = subprocess.run([tracer, "--output-fd", str(out.fileno()), "--mode", mode, "--", *cmd],
                              pass_fds=(out.fileno(),), user=65534, group=65534, extra_groups=[], stdin=devnull,
                              capture_output=True, text=True, cwd="/", timeout=60)
        out.seek(0)
        records = [json.loads(line) for line in out.read().decode().splitlines()]
    assert proc.returncode == status, proc.stderr  # the traced program's own status
    return records, proc.stderr


@pytest.mark.parametrize("mode", trace.MODES)
def test_exec_from_a_non_dumpable_process_is_read_from_proc(unprivileged, mode):
    tracer, prog = unprivileged
    records, stderr = _trace_as_nobody(tracer, mode, prog)
    execs = [r for r in records if r["type"] == "exec"]
    echo = [r for r in execs if r["filename"].endswith("/echo")]
    assert len(execs) == 2 and len(echo) == 1, execs
    assert echo[0]["argv"] == ["echo", "non-dumpable", "exec"]
    assert echo[0]["envp"] == ["MARK=nondumpable"]
    assert echo[0]["source"] == "proc" and echo[0]["complete"] is True
    assert "warning" not in stderr


def test_a_failed_exec_of_a_non_dumpable_process_is_marked_and_warned(unprivileged):
    tracer, prog = unprivileged
    records, stderr = _trace_as_nobody(tracer, "syscalls", prog, "/nonexistent/prog", status=127)
    failed = [r for r in records if r["type"] == "exec_failed"]
    assert len(failed) == 1 and failed[0]["errno"] == "ENOENT", failed
    assert failed[0]["complete"] is False  # nothing could be read, and the record says so
    assert "could not be read" in stderr and str(failed[0]["pid"]) in stderr
