"""The README's two commands: `make lab` must start a JupyterLab that answers."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

pytestmark = [pytest.mark.live, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_no_browser_serves_jupyterlab(repo, tmp_path):
    port, token = free_port(), "gorun-kit-test-token"
    course = tmp_path / "gorun-course"  # the student's working copy make lab makes (default ~/gorun-course)
    args = f"--no-browser --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    proc = subprocess.Popen(["make", "-s", "lab", f"ARGS={args}", f"COURSE_DIR={course}"], cwd=repo,
                            start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    status = json.load(r)
                    break
            except OSError:
                time.sleep(1)
        assert status is not None, f"no answer on port {port}; make lab said:\n{proc.stdout.read() if proc.poll() is not None else ''}"
        assert "started" in status
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb"
                                    f"?content=0&token={token}", timeout=10) as r:
            assert r.status == 200
        assert "YOUR CODE HERE" in (course / "labs_c/ptrace_lab/tracer.c").read_text()  # the student's copy
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # the whole group is gone


def test_strict_mode_turns_a_skip_into_a_failure(tmp_path):
    """CI sets GORUN_KIT_STRICT=1 (.ci/run): a test that skips for a missing
    tool must fail there, and only there."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\ndef test_needs_wine():\n    pytest.skip('wine64 not found')\n")
    conftest = Path(__file__).with_name("conftest.py")
    (tmp_path / "conftest.py").write_text(conftest.read_text())
    (tmp_path / "background.py").write_text(conftest.with_name("background.py").read_text())
    run = lambda strict: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "GORUN_KIT_STRICT": strict})
    strict, relaxed = run("1"), run("0")
    assert strict.returncode == 1 and "skipped under GORUN_KIT_STRICT=1" in strict.stdout and "wine64" in strict.stdout
    assert relaxed.returncode == 0 and "1 skipped" in relaxed.stdout
    assert "GORUN_KIT_STRICT=1" in Path(__file__).resolve().parents[1].joinpath(".ci", "run").read_text()
