""""Check my work": the visible checks against the student's definitions, the hidden ones named.

* on a synthetic exercise: a passing, a failing, a stub (NotImplementedError),
  a check that writes to stderr, one a missing tool skipped; hidden code is
  cut out before anything runs, in the instructor's copy too;
* on the course's LookPath exercise: the solution passes every visible check;
  the student copy (no hidden tests in it) with the stub says "not written
  yet", with a wrong answer says which assertion failed, and lists the hidden
  checks with their points without showing their code;
* every exercise ends with one check cell: not graded, calling selfcheck with
  its own name; and the cell never raises, whatever it is given.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from gorun_kit.course import selfcheck, variant
from gorun_kit.course.markup import nbgrader_meta, strip_region
from gorun_kit.course.release import student_notebook

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "notebooks" / "exercises"
LINUX = "02_lookpath_linux_exercises"


def _test_cell(gid: str, source: str, points: float = 1):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "points": points,
                                 "schema_version": 3, "solution": False}
    return cell


def _synthetic(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("def double(x):\n    return 2 * x"),
        _test_cell("double_check", "helper = 7\nassert double(2) == 4\n### BEGIN HIDDEN TESTS\n"
                   "raise RuntimeError('hidden code ran')\n### END HIDDEN TESTS", 2),
        _test_cell("uses_helper", "assert helper == 7  # defined by the check above"),
        _test_cell("wrong_check", "x = 1\nassert double(3) == 7, 'double(3) is 6'"),
        _test_cell("stub_check", "half(4)"),
        _test_cell("noisy_check", "import sys\nprint('to stderr', file=sys.stderr)"),
        _test_cell("skipped_check", "print('skipped: needs cc (not found); fix: apt install gcc')"),
    ]
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_each_check_is_reported_and_hidden_code_never_runs(tmp_path):
    path = _synthetic(tmp_path)

    def half(x):
        raise NotImplementedError()

    namespace = {"double": lambda x: 2 * x, "half": half}
    result = selfcheck.evaluate("toy", namespace, notebook=path)
    status = {c.grade_id: (c.status, c.detail) for c in result.checks}
    assert status["double_check"] == ("passed", "")  # the hidden RuntimeError was never run
    assert status["uses_helper"] == ("passed", "")  # checks share their names, in order
    assert status["wrong_check"][0] == "failed" and "double(3) is 6" in status["wrong_check"][1]
    assert "check line 2" in status["wrong_check"][1]
    assert status["stub_check"] == ("failed", "not written yet (NotImplementedError)")
    assert status["noisy_check"][0] == "failed" and "stderr" in status["noisy_check"][1]
    assert status["skipped_check"][0] == "not run" and "needs cc" in status["skipped_check"][1]
    assert [c.grade_id for c in result.checks if c.hidden] == ["double_check"]
    assert "helper" not in namespace  # the checks ran in a copy of the namespace
    text = result.render()
    assert "hidden code ran" not in text and "RuntimeError" not in text
    assert re.search(r"double_check +\(2 points\)", text.split("hidden checks")[1])
    assert not result.passed


def _solution_namespace(notebook: Path) -> dict:
    """The namespace after running the instructor's answer cells (and the given cells)."""
    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {"variant": variant}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "code" and meta.get("grade_id") in ("predict_linux", "my_scenario", "my_lookpath"):
                source = cell.source
                if meta["grade_id"] == "my_scenario":  # needs `model` from the check cell
                    checks = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "predict_linux_checks")
                    exec(strip_region(checks.source, "hidden", None, "t").split("# visible")[0], namespace)
                exec(source, namespace)  # noqa: S102 - the course's own cells
    return namespace


def test_the_solution_passes_every_visible_check_of_the_lookpath_exercise():
    notebook = EXERCISES / f"{LINUX}.ipynb"
    result = selfcheck.evaluate(LINUX, _solution_namespace(notebook), notebook=notebook)
    assert [c.grade_id for c in result.checks] == ["predict_linux_checks", "my_lookpath_check"]
    assert result.passed, result.render()
    assert {c.grade_id: c.points for c in result.checks if c.hidden} == \
        {"predict_linux_checks": 3.0, "my_lookpath_check": 1.0}


def test_the_student_copy_says_not_written_yet_and_names_hidden_checks(tmp_path, monkeypatch):
    copy = tmp_path / f"{LINUX}.ipynb"
    nbformat.write(student_notebook(EXERCISES / f"{LINUX}.ipynb"), copy)
    monkeypatch.chdir(tmp_path)  # the kernel's directory: the student's notebook is found there

    def predict_linux(name, path, files, cwd="/"):
        raise NotImplementedError("write predict_linux")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        selfcheck.check_my_work(LINUX, {"predict_linux": predict_linux, "variant": variant})
    text = out.getvalue()
    assert re.search(r"failed +predict_linux_checks .*not written yet", text)
    assert re.search(r"failed +my_lookpath_check ", text) and "MY_LOOKPATH" in text  # not defined yet
    hidden = text.split("hidden checks")[1]
    assert re.search(r"predict_linux_checks +\(3 points\)", hidden) and re.search(r"my_lookpath_check +\(1 point\)", hidden)
    assert "model(*my_scenario())" not in text and "random.Random()" not in text  # nothing of the hidden code

    result = selfcheck.evaluate(LINUX, {"predict_linux": lambda *a, **k: ("", "ErrNotFound"),
                                        "variant": variant, "MY_LOOKPATH": ("", None)})
    status = {c.grade_id: c for c in result.checks}
    assert status["predict_linux_checks"].status == "failed"
    assert "assertion failed" in status["predict_linux_checks"].detail
    assert "assert predict_linux(tool" in status["predict_linux_checks"].detail
    assert status["my_lookpath_check"].status == "passed"  # the form is right; the value is hidden
    assert result.notebook == str(copy)


def test_the_committed_release_records_the_hidden_checks():
    for path in sorted((ROOT / "release" / "notebooks" / "exercises").glob("*.ipynb")):
        student = nbformat.read(path, as_version=4)
        instructor = nbformat.read(EXERCISES / path.name, as_version=4)
        recorded = student.metadata["gorun_kit"]["hidden_checks"]
        assert recorded == selfcheck.hidden_record(instructor), path.name
        assert "### BEGIN HIDDEN TESTS" not in "".join(c.source for c in student.cells)


@pytest.mark.parametrize("path", sorted(EXERCISES.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_exercise_ends_with_an_ungraded_check_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    last = code[-1]
    assert f'selfcheck.check_my_work("{path.stem}", globals())' in last.source
    assert not nbgrader_meta(last).get("grade"), "the check cell must not be graded"
    assert sum("selfcheck.check_my_work" in c.source for c in code) == 1
    printed = "".join(o.get("text", "") for o in last.get("outputs", []))
    assert printed.startswith(f"check my work: {path.stem}"), printed[:200]
    assert "failed" not in printed  # the instructor's copy passes its own visible checks


def test_check_my_work_never_raises(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        selfcheck.check_my_work("no_such_exercise", {})
    assert out.getvalue().startswith("check my work could not run: no_such_exercise.ipynb is not in")


def test_a_copy_without_a_record_does_not_claim_there_are_no_hidden_checks(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [_test_cell("plain_check", "assert True")]
    bare = tmp_path / "bare.ipynb"
    nbformat.write(nb, bare)
    text = selfcheck.evaluate("bare", {}, notebook=bare).render()
    assert "does not record which checks have hidden parts" in text and "no hidden checks" not in text
    nb.metadata["gorun_kit"] = {"hidden_checks": []}  # what the release writes for an exercise without any
    nbformat.write(nb, bare)
    assert "no hidden checks" in selfcheck.evaluate("bare", {}, notebook=bare).render()
