"""The kit installs like any Python tool.

A wheel is built from the package's own files (copied away from the checkout, so
nothing is written into it), installed into a fresh venv in a temporary
directory, and used from another temporary directory with an empty kit cache:
``gorun-kit doctor``, ``trace``, ``threads`` on a program written there,
``lookpath --real`` and the Python API. Everything the kit builds at run time
must come from the wheel's package data; a missing file fails here.

The venv gets the kit's declared dependencies (and theirs) as links to the
packages this test runs with, so no download is needed and an undeclared
dependency is missing there, as it would be for a user; the checkout's editable
``gorun_kit`` is not among them (checked).
"""
from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from packaging.requirements import Requirement

pytestmark = [pytest.mark.slow, pytest.mark.live]

TIMEOUT = 300


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL, **kw)


def build_wheel(repo: Path, work: Path) -> Path:
    """The wheel of the package as it is in ``repo`` now (tracked or not)."""
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", *[p.name for p in repo.glob("LICEN[CS]E*")]):
        shutil.copy2(repo / name, src / name)
    shutil.copytree(repo / "gorun_kit", src / "gorun_kit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work / "dist", src])
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (work / "dist").glob("gorun_kit-*.whl")
    return wheel


def dependency_closure(requirements: list[str]) -> list[md.Distribution]:
    """The installed distributions ``requirements`` need, transitively (no extras)."""
    seen: dict[str, md.Distribution] = {}
    pending = [Requirement(r) for r in requirements]
    while pending:
        req = pending.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = req.name.lower().replace("_", "-")
        if key in seen:
            continue
        dist = md.distribution(req.name)  # PackageNotFoundError: the test environment lacks it
        seen[key] = dist
        pending += [Requirement(r) for r in dist.requires or ()]
    return list(seen.values())


def link_packages(dists: list[md.Distribution], site: Path) -> None:
    """Put each distribution's top-level files into ``site`` as symbolic links."""
    for dist in dists:
        base = Path(str(dist.locate_file("")))
        tops = {f.parts[0] for f in dist.files or () if f.parts and f.parts[0] not in ("..", "__pycache__")}
        for top in tops:
            if top.endswith(".pth") or not (base / top).exists() or (site / top).exists():
                continue
            (site / top).symlink_to(base / top)


@pytest.fixture(scope="module")
def kit(repo, tmp_path_factory):
    """(run, venv): ``run(*cmd)`` runs in a fresh directory with the installed kit first on PATH."""
    if sys.platform != "linux":
        pytest.skip("the installed kit's live commands run on Linux")
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(repo, work)

    venv = work / "venv"
    proc = _run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    link_packages(dependency_closure(project["dependencies"]), site)
    proc = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                 "--quiet", wheel])
    assert proc.returncode == 0, proc.stderr[-3000:]

    cwd = work / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
               GORUN_KIT_CACHE=str(work / "cache"), GORUN_KIT_PROGRESS="0")

    def run(*cmd) -> subprocess.CompletedProcess:
        return _run(cmd, cwd=cwd, env=env)

    return run, venv, cwd


def test_the_wheel_carries_what_the_kit_builds_at_run_time(kit):
    run, venv, _ = kit
    proc = run("python", "-c", "import gorun_kit, gorun_kit._src as s; print(gorun_kit.__file__); "
                               "print(*(s.source(*p.split('/')) for p in ('tracer/tracer.c', "
                               "'runtime_patches/threads_hook.go.tmpl', 'lookpath_oracle/go.mod', "
                               "'winshim/bcryptprimitives.c')), sep='\\n'); "
                               "from importlib import resources; "
                               "print(resources.files('gorun_kit.threads') / 'gdbscripts' / 'mstart_entry.py')")
    assert proc.returncode == 0, proc.stderr
    where = proc.stdout.split()
    assert len(where) == 6 and Path(where[-1]).is_file(), where
    # the venv's own copy, never the checkout's editable one
    assert all(Path(p).resolve().is_relative_to(venv.resolve()) for p in where), where
    pip_check = _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "check"])
    assert pip_check.returncode == 0, pip_check.stdout + pip_check.stderr


def test_doctor(kit):
    run, _, _ = kit
    proc = run("gorun-kit", "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok  ptrace" in proc.stdout


def test_trace_from_any_directory(kit):
    run, _, cwd = kit
    proc = run("gorun-kit", "trace", "--json", "trace.jsonl", "--", "sh", "-c", "ls | wc -l")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in (cwd / "trace.jsonl").read_text().splitlines()]
    programs = {os.path.basename(r["filename"]) for r in records if r["type"] == "exec"}
    assert programs >= {"sh", "ls", "wc"}, records


def test_python_api(kit):
    run, _, _ = kit
    proc = run("python", "-c", "from gorun_kit import trace; t = trace.run(['/bin/sh', '-c', '/bin/true; exit 3']); "
                               "print(t.returncode, *[e.filename for e in t.execs])")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["3", "/bin/sh", "/bin/true"], proc.stdout


def test_threads_on_a_program_of_ones_own(kit):
    run, _, cwd = kit
    prog = cwd / "myprog"
    prog.mkdir()
    (prog / "go.mod").write_text("module example.com/myprog\n\ngo 1.22\n")
    (prog / "main.go").write_text('package main\n\nimport "time"\n\n'
                                  "func main() { time.Sleep(20 * time.Millisecond) }\n")
    proc = run("gorun-kit", "threads", "--json", "threads.json", str(prog))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((cwd / "threads.json").read_text())
    # the hook saw the runtime's Ms (main thread, sysmon, ...) and the tracer agreed
    assert report["ok"] and len(report["ms"]) >= 2 and report["binary"].startswith(str(cwd.parent / "cache")), report
    assert sorted(p.name for p in prog.iterdir()) == ["go.mod", "main.go"], "the build wrote into the program's directory"


def test_lookpath_real(kit):
    run, _, _ = kit
    proc = run("gorun-kit", "lookpath", "--goos", "linux", "--path", "/opt/tools:/bin",
               "--file", "/opt/tools/fmt:755", "--real", "fmt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(proc.stdout)
    assert "/opt/tools/fmt" in json.dumps(answer), answer


def test_nothing_was_written_into_site_packages(kit):
    _, venv, _ = kit
    package = next(venv.glob("lib/python*/site-packages/gorun_kit"))
    built = [p for p in package.rglob("*") if p.is_file() and p.suffix not in (
        ".py", ".pyc", ".c", ".go", ".mod", ".tmpl", ".md")]
    assert not built, built


def test_course_commands_ask_for_the_checkout(kit):
    run, _, _ = kit
    proc = run("gorun-kit", "bench", "spawn", "--sizes", "0")
    assert proc.returncode == 2 and "--labs DIR" in proc.stderr, proc.stdout + proc.stderr
    proc = run("python", "-c", "from gorun_kit.course.layout import course_root; course_root()")
    assert proc.returncode != 0 and "not installed from a course checkout" in proc.stderr, proc.stderr
