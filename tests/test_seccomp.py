"""labs_c/seccomp_deny: a filter that makes execve fail with EPERM, seen from Go.

The control run (same launcher, no filter) must succeed, so the test can tell
the filter's effect from anything else; the kernel's own Seccomp line in
/proc/self/status (read by the Go program) confirms the filter is there.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gorun_kit.build import build_c, build_go

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="seccomp is Linux")


@pytest.fixture(scope="module")
def tools():
    return (build_c(REPO / "labs_c" / "seccomp_deny" / "seccomp_deny.c").path,
            build_go(REPO / "labs_go" / "ch5_exec").path)


def _run(*argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    return proc, json.loads(proc.stdout) if proc.stdout.strip() else None


def test_go_exec_gets_eperm_under_the_filter(tools):
    launcher, prog = tools
    proc, report = _run(launcher, prog)
    assert proc.returncode == 1
    assert report["ok"] is False and report["is_eperm"] and report["is_permission"]
    assert report["error"] == "fork/exec /bin/true: operation not permitted"
    assert report["seccomp_mode"] == "2" and report["seccomp_filters"] == "1"
    # LookPath only needs faccessat2/stat, which the filter allows.
    assert report["lookpath"] == "/bin/true"
    assert 'self-check execve("/bin/true") = -1 (Operation not permitted)' in proc.stderr


def test_control_run_without_filter(tools):
    launcher, prog = tools
    proc, report = _run(launcher, "--no-filter", prog)
    assert proc.returncode == 0 and report["ok"] is True
    assert report["seccomp_mode"] == "0"


def test_bad_usage(tools):
    launcher, _ = tools
    proc = subprocess.run([launcher], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr
    proc = subprocess.run([launcher, "/nonexistent/prog"], capture_output=True, text=True)
    assert proc.returncode == 2 and "/nonexistent/prog" in proc.stderr
