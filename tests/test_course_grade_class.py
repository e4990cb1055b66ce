"""``gorun-kit course grade-class``: a whole class graded at once, resumed,
stopped, failing for one student only; feedback and Gradescope results that
never show hidden test code; the Gradescope autograder scripts in deploy/.

The class is generated (tests/class_submissions.py) from the fixture course,
so the expected gradebook follows from the instructor's notebook.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from class_submissions import ANSWER, DAEMON_SLEEP, EXERCISE, FIXTURE, WRONG, make_class, solution
from trace_helpers import default_action, leftovers, marked_env

from gorun_kit import cli
from gorun_kit.course import classgrade
from gorun_kit.course.grade import CellResult, ExerciseResult

REPO = Path(__file__).resolve().parent.parent
GRADESCOPE = REPO / "deploy" / "gradescope"
STEM = EXERCISE[:-len(".ipynb")]
KIT = [sys.executable, "-m", "gorun_kit"]


def _sandbox_or_skip():
    from gorun_kit.course import sandbox

    why = sandbox.available()
    if why:
        pytest.skip(why)


def _hidden_code() -> list[str]:
    """The lines of the fixture exercise's hidden tests: no output may quote them."""
    nb = nbformat.read(FIXTURE / "notebooks" / "exercises" / EXERCISE, as_version=4)
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    assert lines
    return lines


def _grade_class(subs: Path, out: Path, *args: str, env=None, source: Path = FIXTURE, assignment=True):
    cmd = [*KIT, "course", "grade-class", str(subs), "-o", str(out), "--source", str(source), *args]
    if assignment:
        cmd += ["--exercise", STEM]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)


def _gradebook(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def _left_in(tmp: Path) -> list[str]:
    """What grading left in its TMPDIR, but for the sandbox slots' lock files (they stay by design)."""
    return sorted(p.name for p in tmp.iterdir() if p.name != "gorun-kit-sandbox-slots")


def _has_arg(proc: Path, arg: str) -> bool:
    try:
        return arg.encode() in (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
_TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
              "tags", "visibility", "extra_data"}


def check_gradescope(doc: dict) -> None:
    """``doc`` follows Gradescope's results.json specification
    (gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    assert set(doc) <= _TOP_KEYS, set(doc) - _TOP_KEYS
    assert isinstance(doc["score"], (int, float))
    assert doc.get("stdout_visibility", "hidden") in _VISIBILITY
    assert isinstance(doc.get("output", ""), str)
    for test in doc["tests"]:
        assert set(test) <= _TEST_KEYS, set(test) - _TEST_KEYS
        assert isinstance(test["name"], str) and test["name"]
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
        assert test.get("visibility", "visible") in _VISIBILITY
        assert isinstance(test.get("output", ""), str)
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


@pytest.fixture(scope="module")
def full_points() -> float:
    nb = nbformat.read(FIXTURE / "notebooks" / "exercises" / EXERCISE, as_version=4)
    return sum(c.metadata["nbgrader"]["points"] for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")


@pytest.mark.slow
def test_a_class_of_30_gets_the_expected_gradebook_and_resumes(tmp_path, full_points):
    _sandbox_or_skip()
    subs, out = tmp_path / "submissions", tmp_path / "out"
    expected = make_class(subs, hostile=True)
    course_before = _tree_digest(FIXTURE)
    env, mark = marked_env()
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env["TMPDIR"] = str(private_tmp)

    run = _grade_class(subs, out, "--workers", "2", "--timeout", "10", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not leftovers(mark)
    assert _left_in(private_tmp) == []  # every grading tree was removed
    assert not [d for d in Path("/proc").iterdir() if d.name.isdigit() and _has_arg(d, DAEMON_SLEEP)]
    assert _tree_digest(FIXTURE) == course_before

    rows = _gradebook(out)
    assert sorted(rows) == sorted(expected)
    for sid, want in expected.items():
        row = rows[sid]
        assert (float(row[STEM]), float(row["total"]), float(row["max"]), row["status"]) \
            == (want.points, want.points, full_points, want.status), (sid, row)
        if want.note:
            assert want.note in row["notes"], (sid, row["notes"])
        else:
            assert row["notes"] == "", (sid, row["notes"])

    progress = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert sorted(int(line[1:].split("/")[0]) for line in progress) == list(range(1, 31))
    assert sorted(line.split()[1] for line in progress) == sorted(expected)
    assert all(line.split()[0].endswith("/30]") for line in progress)

    hidden = _hidden_code()
    for sid, want in expected.items():
        folder = out / "students" / sid
        report = json.loads((folder / "report.json").read_text())
        assert (report["student"], report["status"], report["points"]) == (sid, want.status, want.points)
        results = json.loads((folder / "results.json").read_text())
        check_gradescope(results)
        assert results["score"] == want.points
        feedback = (folder / "feedback.md").read_text()
        assert f"Total: {want.points:g}/{full_points:g}" in feedback
        for text in (feedback, json.dumps(results)):
            assert not any(line in text for line in hidden), sid
    visible_only = (out / "students" / "visibleonly1" / "feedback.md").read_text()
    assert "`test_count_vowels_random` (includes hidden tests): failed" in visible_only
    assert "`test_count_vowels`: passed" in visible_only
    assert not [p for p in out.rglob("*") if p.name.endswith(".part") or p.name.startswith(".grade-class")]

    # resume: nothing changed, nothing is graded again
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("students/*/report.json")}
    again = _grade_class(subs, out, "--workers", "2", "--timeout", "10")
    assert again.returncode == 0, again.stderr
    assert sum("(graded earlier)" in line for line in again.stdout.splitlines()) == 30
    assert {p: p.stat().st_mtime_ns for p in out.glob("students/*/report.json")} == stamps
    assert _gradebook(out) == rows

    # one student hands in again: only that student is graded again
    nb_path = subs / "wrong1" / "notebooks" / "exercises" / EXERCISE
    nb = nbformat.read(nb_path, as_version=4)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER).source = \
        solution(FIXTURE)
    nbformat.write(nb, nb_path)
    third = _grade_class(subs, out, "--workers", "2", "--timeout", "10")
    assert third.returncode == 0, third.stderr
    fresh = [line for line in third.stdout.splitlines() if line.startswith("[") and "graded earlier" not in line]
    assert [line.split()[1] for line in fresh] == ["wrong1"]
    assert float(_gradebook(out)["wrong1"]["total"]) == full_points


def _correct_class(dest: Path, n: int) -> None:
    released = dest.parent / "release"
    from gorun_kit.course.release import release

    release(released, source=FIXTURE)
    for i in range(n):
        folder = dest / f"student{i:02d}"
        folder.mkdir(parents=True)
        nb = nbformat.read(released / "notebooks" / "exercises" / EXERCISE, as_version=4)
        next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER).source = \
            solution(FIXTURE)
        nbformat.write(nb, folder / EXERCISE)


@pytest.mark.slow
def test_ctrl_c_keeps_finished_students_and_leaves_nothing(tmp_path, full_points):
    _sandbox_or_skip()
    subs, out = tmp_path / "submissions", tmp_path / "out"
    _correct_class(subs, 6)
    env, mark = marked_env()
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env["TMPDIR"] = str(private_tmp)
    cmd = [*KIT, "course", "grade-class", str(subs), "-o", str(out), "--source", str(FIXTURE), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=default_action(signal.SIGINT))
    try:
        assert proc.stdout.readline().startswith("grading 6 student(s), 1 at a time")
        first = proc.stdout.readline()  # one student finished
        assert first.startswith("[1/6] student00"), first
    finally:
        proc.send_signal(signal.SIGINT)  # also when the test fails: the run stops as a user would stop it
        rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "stopped by SIGINT" in err
    assert not leftovers(mark)
    assert _left_in(private_tmp) == []
    rows = _gradebook(out)
    done = [s for s, r in rows.items() if r["status"] == "graded"]
    assert "student00" in done and len(done) < 6
    assert all(rows[s]["status"] == "not graded" for s in rows if s not in done)
    assert sorted(p.parent.name for p in out.glob("students/*/report.json")) == sorted(done)

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert sum("(graded earlier)" in line for line in resumed.stdout.splitlines()) == len(done)
    assert {r["status"] for r in _gradebook(out).values()} == {"graded"}
    assert {float(r["total"]) for r in _gradebook(out).values()} == {full_points}


@pytest.mark.slow
def test_a_grader_failure_costs_one_student_and_is_retried(tmp_path, full_points):
    _sandbox_or_skip()
    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)
    instructor = course / "notebooks" / "exercises" / EXERCISE
    good = instructor.read_bytes()
    nb = nbformat.reads(good.decode(), as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    graded[1].metadata["nbgrader"]["grade_id"] = graded[0].metadata["nbgrader"]["grade_id"]  # the grader refuses
    nbformat.write(nb, instructor)
    subs, out = tmp_path / "submissions", tmp_path / "out"
    _correct_class(subs, 1)
    (subs / "nothing").mkdir()

    run = _grade_class(subs, out, source=course, assignment=False)  # the assignment: what was handed in
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the grader failed for: student00" in run.stderr
    rows = _gradebook(out)
    assert list(rows["student00"])[1] == STEM
    assert (rows["student00"]["status"], rows["nothing"]["status"]) == ("error", "empty")
    assert "grader failed" in rows["student00"]["notes"]
    check_gradescope(json.loads((out / "students" / "student00" / "results.json").read_text()))
    assert "your teacher has been told" in (out / "students" / "student00" / "feedback.md").read_text()

    instructor.write_bytes(good)
    again = _grade_class(subs, out, source=course, assignment=False)
    assert again.returncode == 0, again.stderr
    assert _gradebook(out)["student00"]["status"] == "graded"
    assert float(_gradebook(out)["student00"]["total"]) == full_points


@pytest.mark.parametrize("args, words", [
    (["--timeout", "0"], "greater than 0"),
    (["--timeout", "-3"], "greater than 0"),
    (["--timeout", "nan"], "greater than 0"),
    (["--workers", "0"], "1 or more"),
    (["--workers", "two"], "whole number"),
])
def test_bad_options_are_refused_before_anything_runs(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as exc:
        cli.main(["course", "grade-class", str(tmp_path), "-o", str(tmp_path / "out"), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    if args[0] == "--timeout":
        with pytest.raises(SystemExit) as exc:
            cli.main(["course", "grade", str(tmp_path), *args])
        assert exc.value.code == 2


def test_grade_refuses_a_student_id_that_is_not_one(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["course", "grade", str(tmp_path), "--student", "Ada Lovelace"])
    assert exc.value.code == 2
    assert "'Ada Lovelace' is not a student id" in capsys.readouterr().err


def test_bad_folders_get_one_clear_line(tmp_path, capsys):
    def refused(subs, out, *extra) -> str:
        assert cli.main(["course", "grade-class", str(subs), "-o", str(out), "--source", str(FIXTURE),
                         *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        return err

    assert "is not a directory" in refused(tmp_path / "missing", tmp_path / "out")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "loose.ipynb").write_text("{}")
    assert "holds no student folders" in refused(subs, tmp_path / "out")
    (subs / "ada").mkdir()
    assert "inside" in refused(subs, subs / "out")
    assert "no student folder" in refused(subs, tmp_path / "out")  # nothing handed in: no assignment
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert "neither empty nor" in refused(subs, foreign, "--exercise", STEM)
    assert "90_fixture_labs_exercises" in refused(subs, tmp_path / "out", "--exercise", "nope")
    (subs / "Ada Lovelace").mkdir()
    assert "'Ada Lovelace'" in refused(subs, tmp_path / "out", "--exercise", STEM)
    assert not (tmp_path / "out").exists() and (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="greater than 0"):
        classgrade.grade_class(subs, tmp_path / "out", timeout=0, source=FIXTURE)
    with pytest.raises(ValueError, match="1 or more"):
        classgrade.grade_class(subs, tmp_path / "out", workers=0, source=FIXTURE)


def test_feedback_and_gradescope_results_never_quote_hidden_code():
    exercises = classgrade.course_exercises(FIXTURE)
    hidden_line = _hidden_code()[0]
    result = classgrade.StudentResult("ada", "graded", (ExerciseResult(
        EXERCISE, EXERCISE, (
            CellResult("test_count_vowels", 1.0, 1.0, "passed"),
            CellResult("test_count_vowels_random", 0.0, 2.0, "failed",
                       f"AssertionError: the check was: {hidden_line}"),
        )),), seconds=2.0)
    feedback = classgrade.feedback_text(result, exercises)
    results = classgrade.gradescope_results(result, exercises)
    check_gradescope(results)
    for text in (feedback, json.dumps(results)):
        assert hidden_line not in text
        assert "[hidden test code]" in text
    assert "`test_count_vowels_random` (includes hidden tests): failed, 0/2" in feedback
    assert [t["name"] for t in results["tests"]] == [f"{STEM}: test_count_vowels", f"{STEM}: test_count_vowels_random"]
    assert results["tests"][1]["output"].startswith("This check includes hidden tests")
    assert results["score"] == 1.0


def test_default_workers_follow_the_cpus_this_process_may_use():
    assert classgrade.default_workers() == len(os.sched_getaffinity(0))


# -- Gradescope -----------------------------------------------------------------


def _fake_autograder(root: Path, email: str = "ada@example.org") -> None:
    (root / "submission").mkdir(parents=True)
    released = root.parent / "release"
    from gorun_kit.course.release import release

    release(released, source=FIXTURE)
    nb = nbformat.read(released / "notebooks" / "exercises" / EXERCISE, as_version=4)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER).source = WRONG
    nbformat.write(nb, root / "submission" / EXERCISE)
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": email, "id": 7, "name": "Ada L"}], "assignment": {"title": "ch91"}}))


def _run_autograder(root: Path, **env) -> subprocess.CompletedProcess:
    kit = str(Path(sys.executable).parent / "gorun-kit")
    return subprocess.run(["bash", str(GRADESCOPE / "run_autograder")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "GORUN_KIT_COURSE": str(FIXTURE),
                               "GORUN_KIT": kit, "GORUN_KIT_EXERCISES": STEM, **env})


@pytest.mark.slow
def test_run_autograder_writes_gradescope_results(tmp_path, full_points):
    _sandbox_or_skip()
    root = tmp_path / "autograder"
    _fake_autograder(root)
    run = _run_autograder(root)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_gradescope(results)
    assert results["score"] == 0 and sum(t["max_score"] for t in results["tests"]) == full_points
    assert results["extra_data"]["student"] == "ada@example.org"
    assert sorted(p.name for p in root.iterdir()) == ["results", "submission", "submission_metadata.json"]


def test_run_autograder_reports_a_failed_grader_as_results(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    run = _run_autograder(root, GORUN_KIT="/bin/false")
    assert run.returncode == 0
    assert "wrote no results" in run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_gradescope(results)
    assert results["score"] == 0 and "could not grade" in results["output"]


def test_make_zip_puts_the_scripts_at_the_root(tmp_path):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout")
    out = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, str(GRADESCOPE / "make_zip.py"), str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        for script in ("setup.sh", "run_autograder"):
            assert script in names
            assert z.getinfo(script).external_attr >> 16 & 0o111
            assert z.read(script) == (GRADESCOPE / script).read_bytes()
        assert "notebooks/exercises/02_lookpath_linux_exercises.ipynb" in names
        assert not any(n.startswith((".venv/", ".git/")) for n in names)
