"""Hostile submissions: wrong answers that try to cheat, escape or bring the
grader down. Each gets 0 points, the grader always writes its report, and
nothing outside the submission changes (a checksum of the course tree, the
kit and a file outside the submission) or keeps running (no process of a
sandbox uid, no temporary grading directory, no cgroup).

The fixture course (tests/fixtures/course) keeps these fast; its Python
exercise has one answer cell, ``count_vowels``, and two test cells, one with
hidden tests.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

import gorun_kit
import gorun_kit.course.grade as grade_mod
from gorun_kit.course import sandbox as sb

from grading_submissions import FIXTURE, LABS_NB, PY_NB, WRONG, released, submit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(sb.available() is not None, reason=f"no sandbox here: {sb.available()}")

REPO = Path(__file__).resolve().parents[1]
KIT = Path(gorun_kit.__file__).resolve().parent


def _digest(*roots: Path) -> dict[str, str]:
    """path -> SHA-256 of every file under ``roots``."""
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for root in roots for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def _sandbox_leftovers() -> list[str]:
    """Processes of our sandboxes, and grading cgroups of this process, as text.

    A process is ours when it is in one of this process's grading cgroups, or
    has a sandbox uid and is in no grading cgroup at all (it escaped one);
    another grader's sandboxes, running beside these tests, are not ours."""
    found = []
    top = sb.UID_BASE + 3 * 64
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                uid = int((d / "status").read_text().split("\nUid:\t")[1].split()[0])
                groups = (d / "cgroup").read_text()
            except (OSError, IndexError, ValueError):
                continue
            mine = f"gorun-kit/{os.getpid()}-" in groups
            escaped = sb.UID_BASE <= uid < top and "gorun-kit/" not in groups
            if mine or escaped:
                found.append(f"pid {d.name} uid {uid}: {(d / 'cmdline').read_bytes()[:80]!r}")
    for base in ("/sys/fs/cgroup/gorun-kit", "/sys/fs/cgroup/memory/gorun-kit", "/sys/fs/cgroup/pids/gorun-kit"):
        if os.path.isdir(base):
            found += [f"cgroup {p}" for p in Path(base).iterdir() if p.name.startswith(f"{os.getpid()}-")]
    return found






@pytest.fixture
def guarded(tmp_path):
    """Checks, after the test, that nothing outside the submission changed and nothing is left."""
    outside = tmp_path / "outside.txt"
    outside.write_text("not the student's\n")
    roots = (FIXTURE, KIT, REPO / "notebooks" / "exercises")
    before = _digest(*roots)

    yield outside
    for _ in range(50):
        if not _sandbox_leftovers():
            break
        time.sleep(0.1)
    assert _sandbox_leftovers() == []
    assert outside.read_text() == "not the student's\n"
    after = _digest(*roots)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert changed == [], f"files of the course or the kit changed while grading: {changed}"
    assert list(Path(tempfile.gettempdir()).glob(f"gorun-kit-grade-{os.getpid()}-*")) == []


def _grade(path: Path, timeout: float = 60) -> grade_mod.ExerciseResult:
    report = grade_mod.grade(path, source=FIXTURE, timeout=timeout)
    assert len(report.exercises) == 1
    return report.exercises[0]


def _zero(result) -> None:
    assert result.max_points == 3
    assert result.points == 0, result


def _attack(outside: Path) -> str:
    """Code that tries every write and read outside the submission it can think of."""
    targets = [str(FIXTURE), str(KIT), str(REPO / "notebooks"), str(REPO / "release"), str(outside)]
    return WRONG + f'''
import os, glob
for top in {targets!r}:
    if os.path.isfile(top):
        try:
            os.remove(top)
        except OSError:
            pass
    for path in glob.glob(top + "/**/*", recursive=True):
        try:
            with open(path, "a") as fh:
                fh.write("# changed by a student\\n")
        except OSError:
            pass
'''


@pytest.mark.slow
def test_exception_hooks_do_not_earn_points(submit, guarded):
    hooks = [
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
        "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})",
    ]
    for i, hook in enumerate(hooks):
        result = _grade(submit(WRONG + hook + "\n", name=f"s{i}"))
        _zero(result)
        assert {c.status for c in result.cells} == {"failed"}, result


@pytest.mark.slow
def test_values_that_claim_equality_do_not_pass(submit, guarded):
    always = ("class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
              "def count_vowels(s):\n    return Yes()\n")
    result = _grade(submit(always, "eq"))
    _zero(result)
    assert all("cannot be passed" in c.detail for c in result.cells), result
    subclass = ("class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
                "def count_vowels(s):\n    return Yes(0)\n")
    _zero(_grade(submit(subclass, "int")))  # crosses as a plain 0


@pytest.mark.slow
def test_writes_outside_the_submission_change_nothing(submit, guarded, tmp_path):
    """The rewrite of hidden tests and of the grader's source, and the deletion of
    a file outside the submission: in one run of two students, the second (a plain
    wrong answer) must not profit from what the first tried."""
    class_dir = tmp_path / "handed-in"
    for name, answer in (("a-hostile", _attack(guarded)), ("b-wrong", WRONG)):
        path = submit(answer, name)
        dest = class_dir / name
        dest.mkdir(parents=True)
        shutil.copy(path, dest / PY_NB)
    report = grade_mod.grade(class_dir, source=FIXTURE, timeout=60)
    assert [e.points for e in report.exercises] == [0, 0], report.render()


@pytest.mark.slow
def test_kill_of_the_parent_and_of_everything_is_survived(submit, guarded, tmp_path):
    killer = WRONG + "import os\nfor pid in (os.getppid(), 1, -1):\n    try:\n        os.kill(pid, 9)\n" \
                     "    except OSError:\n        pass\n"
    result = _grade(submit(killer, "killer"))
    _zero(result)


@pytest.mark.slow
def test_a_daemon_does_not_outlive_grading(submit, guarded):
    marker = f"{os.getpid() % 1000 + 5000}.25"
    daemon = WRONG + f"import subprocess\nsubprocess.Popen(['setsid', 'sleep', '{marker}'])\n" \
                     f"subprocess.Popen(['sh', '-c', 'nohup sleep {marker} >/dev/null 2>&1 &'])\n"
    _zero(_grade(submit(daemon, "daemon")))
    for _ in range(50):
        alive = [d for d in Path("/proc").iterdir() if d.name.isdigit() and _has_arg(d, marker)]
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []


def _has_arg(d: Path, arg: str) -> bool:
    try:
        return arg.encode() in (d / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


@pytest.mark.slow
def test_resource_exhaustion_is_contained(submit, guarded):
    cases = {
        "bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        "hog": WRONG + "hog = []\nwhile True:\n    hog.append(bytearray(256 << 20))\n",
        "loop": "while True:\n    pass\n",
    }
    for name, answer in cases.items():
        start = time.monotonic()
        result = _grade(submit(answer, name), timeout=8)
        _zero(result)
        assert time.monotonic() - start < 60, name
        if name != "hog":  # the hog fails fast at its memory limit; the others run out the clock
            assert "timed out" in result.note, (name, result)


@pytest.mark.slow
def test_solution_still_scores_full_marks_in_the_sandbox(guarded):
    report = grade_mod.grade(FIXTURE / "notebooks" / "exercises" / PY_NB, source=FIXTURE, timeout=60)
    assert report.full_marks and report.points == 3, report.render()


def _probe(code: str, work: Path, *, hidden=(), timeout: float = 120) -> tuple[int, bytes, bytes]:
    """Run the Python ``code`` in a student's sandbox whose writable directory is ``work``:
    (exit status, stdout, stderr)."""
    import subprocess

    with sb.slot() as n:
        with sb.Sandbox(n, 0, writable=[str(work)], hidden=list(hidden)) as box:
            proc = box.start([sys.executable, "-c", code], cwd=str(work), env=sb.environment(home=str(work)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_student_sandbox_sees_no_course_and_no_network(tmp_path):
    """The student's sandbox, probed directly: what it can read and reach."""
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o777)
    probe = f'''
import json, os, socket
out = {{}}
for path in {[str(REPO / "notebooks" / "exercises"), str(FIXTURE), str(REPO / "tests"), "/root", str(KIT)]!r}:
    try:
        out[path] = sorted(os.listdir(path))[:3]
    except OSError as exc:
        out[path] = exc.__class__.__name__
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    out["net"] = "connected"
except OSError as exc:
    out["net"] = exc.__class__.__name__
try:
    open({str(KIT / "course" / "grade.py")!r}, "a")
    out["kit"] = "writable"
except OSError as exc:
    out["kit"] = exc.__class__.__name__
out["uid"] = os.getuid()
print(json.dumps(out))
'''
    _, out, _ = _probe(probe, work, hidden=grade_mod.withheld_paths("02_lookpath_linux_exercises.ipynb"))
    seen = json.loads(out)
    assert seen[str(REPO / "notebooks" / "exercises")] == "FileNotFoundError"
    assert seen[str(FIXTURE)] == "FileNotFoundError"
    assert seen[str(REPO / "tests")] == "FileNotFoundError"
    assert seen["net"] in ("OSError", "ConnectionRefusedError", "TimeoutError") or "Error" in seen["net"]
    assert seen["kit"] in ("OSError", "PermissionError")
    assert seen[str(KIT)] and isinstance(seen[str(KIT)], list)  # the kit is there, read-only
    if os.geteuid() == 0:
        assert seen["uid"] != 0


def test_withheld_modules_are_absent_for_their_exercise(tmp_path):
    """The LookPath exercise cannot call the kit's LookPath model; chapter cells still import the kit."""
    probe = ("from gorun_kit import nb\nnb.stamp()\n"
             "try:\n    from gorun_kit.lookpath import lookpath\n    print('model')\n"
             "except ImportError:\n    print('withheld')\n")
    work = tmp_path / "w"
    work.mkdir()
    work.chmod(0o777)
    _, out, _ = _probe(probe, work, hidden=grade_mod.withheld_paths("02_lookpath_linux_exercises.ipynb"))
    assert out.decode().strip().splitlines()[-1] == "withheld"


@pytest.mark.slow
def test_the_labs_tools_work_in_the_student_sandbox(tmp_path):
    """cc, ptrace and Go, which the labs need, work for the student's code:
    the kit's tracer is compiled there (cc), a Go program is built there (go,
    a private cache) and traced there (ptrace)."""
    work = tmp_path / "w"
    (work / "hello").mkdir(parents=True)
    (work / "hello" / "main.go").write_text('package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n')
    (work / "hello" / "go.mod").write_text("module hello\n\ngo 1.22\n")
    for p in (work, work / "hello", *work.joinpath("hello").iterdir()):
        p.chmod(0o777)
    probe = ("import json\nfrom gorun_kit import trace\nfrom gorun_kit.build import build_go\n"
             "exe = build_go('hello').path\nt = trace.run([exe])\n"
             "print(json.dumps({'status': t.returncode, 'execs': len([e for e in t.events "
             "if type(e).__name__ == 'ExecEvent'])}))\n")
    status, out, err = _probe(probe, work, timeout=600)
    assert status == 0, err.decode()[-2000:]
    assert json.loads(out.decode().strip().splitlines()[-1]) == {"status": 3, "execs": 1}
