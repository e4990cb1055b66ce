"""A student's notebook cannot raise its own score through nbgrader's cell metadata.

A submission is an editable JSON file: a student can mark an answer cell as
graded with 100 points, add graded cells, copy, delete or edit the checks, and
change ``schema_version``. These tests hand such notebooks to the grader with
the two sandboxes replaced by a stand-in (``_run_sandboxed``) that records
what each process would have been given and answers with chosen outputs, so
the whole path from the submission to the points runs in milliseconds: which
cells the student's process runs, which checks the checker runs, and which
points each graded cell can earn. Cells graded by hand (an answer cell or a
markdown cell with points) are "manual" and stay out of ``max_points``.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

import gorun_kit.course.grade as grade_mod
from gorun_kit.course.grade import CellResult, ExerciseResult, GradeReport, restore_protected
from gorun_kit.course.markup import nbgrader_meta
from gorun_kit.course.release import student_notebook

NB = "95_meta_exercises.ipynb"
LAB_C = "/* ### BEGIN SOLUTION TODO 1 */\nint answer(void) { return 42; }\n/* ### END SOLUTION */\n//| int answer(void) { return 0; }\n"


def _meta(gid, *, grade=False, solution=False, locked=False, points=None, task=False):
    meta = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": 3, "solution": solution,
            "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source, **meta):
    return nbformat.v4.new_code_cell(source, metadata=_meta(**meta) if meta else {})


def _md(source, **meta):
    return nbformat.v4.new_markdown_cell(source, metadata=_meta(**meta) if meta else {})


def _instructor():
    """Autograded checks worth 1 + 2 points, two answers graded by hand (4 and 3) and a task (5)."""
    return nbformat.v4.new_notebook(cells=[
        _md("# Exercises"),                                                             # 0
        _code("BASE = 10", gid="setup", locked=True),                                   # 1
        _md("Write `square(x)`."),                                                      # 2
        _code("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
              gid="square", solution=True),                                             # 3
        _code("assert square(3) == 9", gid="test_square", grade=True, locked=True, points=1),  # 4
        _code("assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(-1) == 1\n### END HIDDEN TESTS",
              gid="test_square_hidden", grade=True, locked=True, points=2),              # 5
        _md("### BEGIN SOLUTION\nBecause.\n### END SOLUTION", gid="explain", grade=True, solution=True,
            points=4),                                                                  # 6
        _code("def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION",
              gid="cube", grade=True, solution=True, points=3),                         # 7
        _md("Describe the plot.", gid="task_plot", grade=True, locked=True, points=5, task=True),  # 8
        _code("print('after the answers')"),                                            # 9
    ])


INSTRUCTOR = _instructor()  # one copy, so that cell ids compare equal


def _teacher():
    return copy.deepcopy(INSTRUCTOR)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course tree holding the exercise and a C lab with a solution region."""
    src = tmp_path_factory.mktemp("course")
    (src / "notebooks" / "exercises").mkdir(parents=True)
    nbformat.write(INSTRUCTOR, src / "notebooks" / "exercises" / NB)
    (src / "labs_c" / "lab1").mkdir(parents=True)
    (src / "labs_c" / "lab1" / "work.c").write_text(LAB_C)
    (src / "labs_c" / "lab1" / "notes.txt").write_text("instructor's notes\n")
    return src


def _released(course):
    """The student copy of the exercise, answers still stubbed."""
    return student_notebook(course / "notebooks" / "exercises" / NB)


def _answered(course):
    nb = _released(course)
    _cell(nb, "square").source = "def square(x):\n    return x * x"
    _cell(nb, "cube").source = "def cube(x):\n    return x ** 3"
    return nb


def _cell(nb, gid):
    found = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == gid]
    assert len(found) == 1, (gid, len(found))
    return found[0]


def _gids(nb):
    return [nbgrader_meta(c).get("grade_id") for c in nb.cells]


class FakeSandboxes:
    """Stands in for the two sandboxes: records what each process was given and
    answers each check with ``outputs[index]`` (default: it ran clean)."""

    def __init__(self, outputs=None, *, skipped=None, note="", missing=()):
        self.outputs, self.skipped, self.note, self.missing = outputs or {}, skipped or {}, note, set(missing)
        self.calls = []

    def __call__(self, student_cells, checker_cells, where, **kw):
        tree = kw["student_tree"]
        files = {str(p.relative_to(tree)): p.read_text() for p in sorted(tree.rglob("*")) if p.is_file()}
        modes = {str(p.relative_to(tree)): p.stat().st_mode & 0o777 for p in [tree, *tree.rglob("*")]}
        check = {str(p.relative_to(kw["check_tree"])) for p in kw["check_tree"].rglob("*") if p.is_file()}
        self.calls.append(dict(kw, student_cells=student_cells, checker_cells=checker_cells, where=where,
                               files=files, modes=modes, check_files=check,
                               tmp_mode=kw["tmp"].stat().st_mode & 0o777))
        outputs = {i: self.outputs.get(i, []) for i in where if i not in self.missing}
        return grade_mod._Run(outputs, self.skipped, self.note, "")


@pytest.fixture
def sandboxes(monkeypatch):
    def install(**kw):
        fake = FakeSandboxes(**kw)
        monkeypatch.setattr(grade_mod, "_run_sandboxed", fake)
        return fake
    return install


def _submit(course, nb, tmp_path, name="alice"):
    """Hand in ``nb`` as a release-shaped submission; returns the notebook's path."""
    root = tmp_path / name
    (root / "notebooks" / "exercises").mkdir(parents=True)
    path = root / "notebooks" / "exercises" / NB
    nbformat.write(nb, path)
    return path


def _grade(course, nb, tmp_path, **kw):
    return grade_mod.grade_notebook(_submit(course, nb, tmp_path), source=course, **kw)


def _by_id(result):
    return {c.grade_id: c for c in result.cells}


EXPECTED = {  # grade_id -> (max points, status) of a clean run, whatever the submission's metadata
    "test_square": (1.0, "passed"), "test_square_hidden": (2.0, "passed"),
    "explain": (4.0, "manual"), "cube": (3.0, "manual"), "task_plot": (5.0, "manual"),
}


# --- restore_protected: the submission the student's process sees ---------------------------

def test_an_honest_submission_keeps_its_answers_and_cells(course):
    student = _answered(course)
    out = restore_protected(student, _teacher())
    assert [c.metadata for c in out.cells] == [c.metadata for c in student.cells]
    assert [c.source for c in out.cells] == [  # the checks are the instructor's, hidden tests included
        t.source if g in ("test_square", "test_square_hidden") else c.source
        for c, t, g in zip(student.cells, INSTRUCTOR.cells, _gids(student))]
    assert "BEGIN HIDDEN TESTS" in out.cells[5].source


@pytest.mark.parametrize("forged", [
    {"grade": True, "points": 100},
    {"grade": True, "points": 100, "solution": False, "locked": True},
    {"grade": True, "points": 1e9, "solution": True, "locked": False, "task": True},
    {"schema_version": 1, "grade": True, "points": 100},
    {"schema_version": 99, "grade": "yes", "points": "100"},
    {"schema_version": None, "checksum": "0" * 32, "cell_type": "code"},
])
def test_an_answer_cell_cannot_give_itself_points(course, forged):
    student = _answered(course)
    answer = _cell(student, "square")
    answer.metadata["nbgrader"].update(forged)
    out = restore_protected(student, _teacher())
    mine = _cell(out, "square")
    assert mine.source == "def square(x):\n    return x * x"  # the answer is still the student's
    assert mine.metadata["nbgrader"] == _cell(_teacher(), "square").metadata["nbgrader"]
    assert answer.metadata["nbgrader"]["schema_version"] == forged.get("schema_version", 3)  # input untouched


@pytest.mark.parametrize("gid", ["my_points", "square_2", ""])
def test_graded_metadata_under_a_new_grade_id_is_dropped(course, gid):
    student = _answered(course)
    answer = _cell(student, "square")
    answer.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 100,
                                   "grade_id": gid, "schema_version": 3}
    added = _code("assert True", gid="bonus", grade=True, locked=True, points=50)
    student.cells.insert(5, added)
    out = restore_protected(student, _teacher())
    assert "nbgrader" not in out.cells[3].metadata and out.cells[3].source == answer.source
    assert "nbgrader" not in out.cells[5].metadata and out.cells[5].source == "assert True"
    assert len(out.cells) == len(student.cells)


@pytest.mark.parametrize("junk", ["junk", [1, 2], {"grade_id": ["test_square"], "grade": True, "points": 9},
                                  {"grade_id": 4, "grade": True}, None])
def test_malformed_grading_metadata_is_dropped(course, junk):
    student = _answered(course)
    student.cells.append(_code("x = 1"))
    student.cells[-1].metadata["nbgrader"] = junk
    out = restore_protected(student, _teacher())
    assert out.cells[-1].source == "x = 1" and "nbgrader" not in out.cells[-1].metadata
    assert _gids(out) == _gids(student)[:-1] + [None]


def test_an_edited_check_with_raised_points_is_the_instructors_again(course):
    student = _answered(course)
    check = _cell(student, "test_square")
    check.source = "pass"
    check.metadata["nbgrader"].update(points=100, locked=False, solution=True, schema_version=1)
    check.outputs = [{"output_type": "stream", "name": "stdout", "text": "all passed"}]
    check.execution_count = 7
    out = restore_protected(student, _teacher())
    back = _cell(out, "test_square")
    theirs = _cell(_teacher(), "test_square")
    assert (back.source, back.metadata) == (theirs.source, theirs.metadata)
    assert back.outputs == [] and back.execution_count is None
    assert out.cells.index(back) == student.cells.index(check)  # where the student had it
    assert check.source == "pass"  # the submission itself is left alone


def test_a_locked_cell_and_a_graded_task_are_the_instructors_again(course):
    student = _answered(course)
    _cell(student, "setup").source = "BASE = 99"
    _cell(student, "setup").metadata["nbgrader"]["locked"] = False
    _cell(student, "task_plot").source = "I earned these points."
    _cell(student, "task_plot").metadata["nbgrader"]["points"] = 50
    out = restore_protected(student, _teacher())
    for gid in ("setup", "task_plot"):
        assert _cell(out, gid) == _cell(_teacher(), gid)


def test_a_check_given_answer_metadata_stays_a_check(course):
    """A check turned into an "answer" keeps no source of the student's."""
    student = _answered(course)
    check = _cell(student, "test_square")
    check.source = "square = lambda x: 9"
    check.metadata["nbgrader"].update(solution=True, grade=False, locked=False)
    out = restore_protected(student, _teacher())
    assert _cell(out, "test_square") == {**_cell(_teacher(), "test_square"), "outputs": [],
                                          "execution_count": None}


def test_copied_graded_cells_score_once(course):
    student = _answered(course)
    check, answer = _cell(student, "test_square"), _cell(student, "square")
    student.cells += [copy.deepcopy(check), copy.deepcopy(answer), copy.deepcopy(check)]
    student.cells[-3].metadata["nbgrader"]["points"] = 100
    out = restore_protected(student, _teacher())
    assert _gids(out).count("test_square") == 1 and _gids(out).count("square") == 1
    assert len(out.cells) == len(student.cells) - 2  # the copied checks are gone
    assert out.cells[-1].source == answer.source and "nbgrader" not in out.cells[-1].metadata
    assert _cell(out, "square") is not out.cells[-1]  # the first one is the answer


def test_a_copy_ahead_of_the_original_takes_its_place(course):
    """The first cell with a check's grade_id becomes the check; later ones are dropped."""
    student = _answered(course)
    fake = _code("print('ok')", gid="test_square", grade=True, locked=True, points=100)
    student.cells.insert(0, fake)
    out = restore_protected(student, _teacher())
    assert out.cells[0].source == "assert square(3) == 9"
    assert _gids(out) == ["test_square", *[g for g in _gids(student)[1:] if g != "test_square"]]


@pytest.mark.parametrize("deleted, after", [
    ("setup", None), ("test_square", "square"), ("test_square_hidden", "test_square"),
    ("task_plot", "cube"),
])
def test_a_deleted_protected_cell_is_put_back_in_place(course, deleted, after):
    student = _answered(course)
    student.cells = [c for c in student.cells if nbgrader_meta(c).get("grade_id") != deleted]
    student.cells.insert(0, _md("My notes"))
    out = restore_protected(student, _teacher())
    at = _gids(out).index(deleted)
    assert out.cells[at].source == _cell(_teacher(), deleted).source
    if after is None:
        assert at == 0
    else:
        assert _gids(out)[at - 1] == after
    assert len(out.cells) == len(student.cells) + 1


def test_every_deleted_cell_comes_back_in_the_instructors_order(course):
    student = _answered(course)
    student.cells = [c for c in student.cells if not nbgrader_meta(c).get("locked")]
    out = restore_protected(student, _teacher())
    assert [g for g in _gids(out) if g] == [g for g in _gids(_teacher()) if g]
    back = _cell(out, "test_square_hidden")
    assert back.outputs == [] and back.execution_count is None and "HIDDEN TESTS" in back.source


def test_deleted_answers_are_not_put_back(course):
    student = _answered(course)
    student.cells = [c for c in student.cells if nbgrader_meta(c).get("grade_id") not in ("square", "explain")]
    out = restore_protected(student, _teacher())
    assert "square" not in _gids(out) and "explain" not in _gids(out)


def test_reordered_cells_keep_the_students_order(course):
    student = _answered(course)
    student.cells.reverse()
    out = restore_protected(student, _teacher())
    assert _gids(out) == _gids(student)


# --- grade_notebook with stand-in sandboxes --------------------------------------------------

def test_an_honest_submission_scores_the_instructors_points(course, sandboxes, tmp_path):
    fake = sandboxes()
    result = _grade(course, _answered(course), tmp_path, student_id="alice")
    assert {g: (c.max_points, c.status) for g, c in _by_id(result).items()} == EXPECTED
    assert [c.grade_id for c in result.cells] == ["test_square", "test_square_hidden", "explain", "cube",
                                                 "task_plot"]
    assert (result.points, result.max_points, result.note) == (3.0, 3.0, "")
    assert result.exercise == NB and result.notebook == str(tmp_path / "alice" / "notebooks" / "exercises" / NB)
    (call,) = fake.calls
    assert call["student_id"] == "alice" and call["exercise"] == NB
    assert call["timeout"] == grade_mod.DEFAULT_TIMEOUT


def test_manual_cells_earn_nothing_and_count_in_no_maximum(course, sandboxes, tmp_path):
    sandboxes()
    student = _answered(course)
    for gid in ("explain", "cube", "task_plot"):
        _cell(student, gid).metadata["nbgrader"]["points"] = 100
    result = _grade(course, student, tmp_path)
    manual = {c.grade_id: c for c in result.cells if c.status == "manual"}
    assert {g: c.max_points for g, c in manual.items()} == {"explain": 4.0, "cube": 3.0, "task_plot": 5.0}
    assert all(c.points == 0 for c in manual.values())
    assert manual["explain"].detail == manual["task_plot"].detail == "graded by hand"
    assert manual["cube"].detail == "an answer cell with points is graded by hand"
    assert result.max_points == 3.0 and GradeReport((result,)).full_marks


def _cheats(course):
    """A submission that tries every metadata route at once, with wrong answers."""
    nb = _released(course)
    answer = _cell(nb, "square")
    answer.source = "def square(x):\n    return 0"
    answer.metadata["nbgrader"].update(grade=True, points=100, solution=False, locked=True, schema_version=1)
    cube = _cell(nb, "cube")
    cube.metadata["nbgrader"].update(solution=False, points=100)  # an answer made into a "check"
    cube.source = "print('cube passed')"
    _cell(nb, "test_square").source = "pass"
    _cell(nb, "test_square").metadata["nbgrader"]["points"] = 100
    nb.cells.append(_code("print('bonus')", gid="bonus", grade=True, locked=True, points=100))
    nb.cells.append(_code("print('bonus')", gid="test_square", grade=True, locked=True, points=100))
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") != "test_square_hidden"]
    return nb


def test_no_metadata_route_raises_the_score(course, sandboxes, tmp_path):
    error = [{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}]
    fake = sandboxes(outputs={4: error, 5: error})
    result = _grade(course, _cheats(course), tmp_path)
    assert {g: (c.max_points, c.status) for g, c in _by_id(result).items()} == {
        **EXPECTED, "test_square": (1.0, "failed"), "test_square_hidden": (2.0, "failed")}
    assert (result.points, result.max_points) == (0.0, 3.0)
    call = fake.calls[0]
    # the checker runs the instructor's checks, hidden tests included, and binds the answers' names
    assert call["where"] == [1, 3, 4, 5, 7, 9]
    assert call["checker_cells"] == [
        {"source": "BASE = 10", "bind": None}, {"bind": ["square"]},
        {"source": "assert square(3) == 9", "bind": None},
        {"source": _teacher().cells[5].source, "bind": None},
        {"bind": ["cube"]}, {"source": "print('after the answers')", "bind": None}]
    # the student's process runs the student's code cells, no check, up to the last answer
    assert call["student_cells"] == ["BASE = 10", "def square(x):\n    return 0", "print('cube passed')"]


def test_the_student_process_runs_every_cell_when_no_answer_is_left(course, sandboxes, tmp_path):
    fake = sandboxes()
    nb = _answered(course)
    for gid in ("square", "cube"):
        _cell(nb, gid).metadata["nbgrader"]["grade_id"] = gid + "_renamed"
    _grade(course, nb, tmp_path)
    assert fake.calls[0]["student_cells"] == ["BASE = 10", "def square(x):\n    return x * x",
                                              "def cube(x):\n    return x ** 3", "print('after the answers')"]


def test_the_student_process_stops_at_the_last_answer(course, sandboxes, tmp_path):
    fake = sandboxes()
    nb = _answered(course)
    nb.cells.insert(4, _code("print('between')"))
    _grade(course, nb, tmp_path)
    assert fake.calls[0]["student_cells"] == ["BASE = 10", "def square(x):\n    return x * x",
                                              "print('between')", "def cube(x):\n    return x ** 3"]


def test_partial_credit_not_run_and_skipped_checks(course, sandboxes, tmp_path):
    value = [{"output_type": "execute_result", "data": {"text/plain": "1.5"}, "metadata": {}, "execution_count": 1}]
    sandboxes(outputs={5: value}, missing={4}, note="timed out after 5s in cell 4")
    result = _grade(course, _answered(course), tmp_path)
    cells = _by_id(result)
    assert (cells["test_square"].status, cells["test_square"].points) == ("not run", 0.0)
    assert cells["test_square"].detail == result.note == "timed out after 5s in cell 4"
    assert (cells["test_square_hidden"].status, cells["test_square_hidden"].points) == ("partial", 1.5)
    assert cells["test_square_hidden"].detail == "partial credit: the cell's value is 1.5"
    assert (result.points, result.max_points) == (1.5, 3.0)


def test_a_check_that_skipped_its_tool_is_not_run(course, sandboxes, tmp_path):
    error = [{"output_type": "error", "ename": "AssertionError", "evalue": "boom", "traceback": []}]
    sandboxes(outputs={5: error}, skipped={4: "needs go (missing)", 5: "needs cc (missing)"})
    cells = _by_id(_grade(course, _answered(course), tmp_path))
    assert (cells["test_square"].status, cells["test_square"].points) == ("not run", 0.0)
    assert cells["test_square"].detail == ("this machine cannot run the check: needs go (missing); "
                                           "see gorun-kit doctor")
    # a check that failed is failed, whatever was skipped in it
    assert (cells["test_square_hidden"].status, cells["test_square_hidden"].detail) == ("failed", "AssertionError: boom")


def test_the_grading_trees_hold_the_submission_and_stubbed_labs(course, sandboxes, tmp_path):
    fake = sandboxes()
    nb = _answered(course)
    path = _submit(course, nb, tmp_path)
    lab = path.parents[2] / "labs_c" / "lab1"
    lab.mkdir(parents=True)
    (lab / "work.c").write_text("int answer(void) { return 42; }\n")
    (lab / "notes.txt").write_text("the student's notes\n")
    grade_mod.grade_notebook(path, source=course)
    files = fake.calls[0]["files"]
    assert files["labs_c/lab1/work.c"] == "int answer(void) { return 42; }\n"  # the student's lab source
    assert files["labs_c/lab1/notes.txt"] == "instructor's notes\n"  # not a file students complete
    assert json.loads(files[f"notebooks/exercises/{NB}"]) == json.loads(path.read_text())
    assert fake.calls[0]["student_tree"] != fake.calls[0]["check_tree"]


def test_the_grading_trees_leave_out_build_outputs_and_hidden_files(course, sandboxes, tmp_path):
    fake = sandboxes()
    lab = course / "labs_c" / "lab1"
    for rel in ("build/work.o", ".git/config", "__pycache__/x.pyc", ".ipynb_checkpoints/n.txt"):
        (lab / rel).parent.mkdir(parents=True, exist_ok=True)
        (lab / rel).write_text("x")
    (course / "benchmarks").mkdir(exist_ok=True)
    (course / "benchmarks" / "result.json").write_text("{}")
    (course / "benchmarks" / "run.sh").write_text("#!/bin/sh\n")
    (course / "benchmarks" / "run.sh").chmod(0o700)
    (course / "benchmarks" / "secret.txt").write_text("s")
    (course / "benchmarks" / "secret.txt").chmod(0o600)
    (course / "tests").mkdir(exist_ok=True)
    (course / "tests" / "answers.py").write_text("x")
    try:
        _grade(course, _answered(course), tmp_path)
    finally:
        for rel in ("build", ".git", "__pycache__", ".ipynb_checkpoints"):
            shutil.rmtree(lab / rel)
        shutil.rmtree(course / "benchmarks")
        shutil.rmtree(course / "tests")
    call = fake.calls[0]
    want = {"labs_c/lab1/work.c", "labs_c/lab1/notes.txt", "benchmarks/result.json", "benchmarks/run.sh",
            "benchmarks/secret.txt", f"notebooks/exercises/{NB}"}
    assert set(call["files"]) == call["check_files"] == want
    modes = call["modes"]
    assert modes["."] == modes["labs_c"] == modes["notebooks/exercises"] == 0o755  # the sandboxes' uids read them
    assert (modes["benchmarks/run.sh"], modes["benchmarks/secret.txt"], modes["labs_c/lab1/work.c"]) == (
        0o755, 0o644, 0o644)
    assert call["tmp_mode"] == 0o711
    assert call["tmp"].name.startswith(f"gorun-kit-grade-{os.getpid()}-")
    assert (call["student_tree"], call["check_tree"]) == (call["tmp"] / "student", call["tmp"] / "check")
    assert not call["tmp"].exists()  # removed after grading


def test_oversized_and_linked_lab_sources_are_not_taken(course, sandboxes, tmp_path):
    fake = sandboxes()
    path = _submit(course, _answered(course), tmp_path)
    lab = path.parents[2] / "labs_c" / "lab1"
    lab.mkdir(parents=True)
    with open(lab / "work.c", "wb") as fh:
        fh.truncate((50 << 20) + 1)  # sparse: larger than 50 MiB, costs nothing
    grade_mod.grade_notebook(path, source=course)
    assert fake.calls[-1]["files"]["labs_c/lab1/work.c"].startswith("/* TODO 1: YOUR CODE HERE */")
    with open(lab / "work.c", "wb") as fh:
        fh.truncate(50 << 20)  # exactly 50 MiB: still taken
    grade_mod.grade_notebook(path, source=course)
    assert len(fake.calls[-1]["files"]["labs_c/lab1/work.c"]) == 50 << 20
    (lab / "work.c").unlink()
    (tmp_path / "elsewhere.c").write_text("int answer(void) { return 42; }\n")
    (lab / "work.c").symlink_to(tmp_path / "elsewhere.c")
    grade_mod.grade_notebook(path, source=course)
    assert fake.calls[-1]["files"]["labs_c/lab1/work.c"].startswith("/* TODO 1: YOUR CODE HERE */")


def test_an_oversized_notebook_is_refused_unread(course, sandboxes, tmp_path):
    fake = sandboxes()
    path = _submit(course, _answered(course), tmp_path)
    with open(path, "r+b") as fh:
        fh.truncate((50 << 20) + 1)
    result = grade_mod.grade_notebook(path, source=course)
    assert not fake.calls and "or larger than 50 MiB" in result.note and result.points == 0


def test_a_lone_notebook_gets_the_stubbed_lab(course, sandboxes, tmp_path):
    fake = sandboxes()
    path = tmp_path / NB
    nbformat.write(_answered(course), path)
    (tmp_path / "labs_c" / "lab1").mkdir(parents=True)
    (tmp_path / "labs_c" / "lab1" / "work.c").write_text("int answer(void) { return 42; }\n")
    grade_mod.grade_notebook(path, source=course)
    files = fake.calls[0]["files"]
    assert files["labs_c/lab1/work.c"] == "/* TODO 1: YOUR CODE HERE */\nint answer(void) { return 0; }\n"
    assert set(files) == {"labs_c/lab1/work.c", "labs_c/lab1/notes.txt", f"notebooks/exercises/{NB}"}


def test_an_unreadable_submission_scores_nothing_with_the_same_maximum(course, sandboxes, tmp_path):
    fake = sandboxes()
    path = tmp_path / "bob" / "notebooks" / "exercises" / NB
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    result = grade_mod.grade_notebook(path, source=course)
    assert not fake.calls
    assert "not a readable notebook" in result.note
    assert {g: c.max_points for g, c in _by_id(result).items()} == {g: m for g, (m, _) in EXPECTED.items()}
    assert result.points == 0 and result.max_points == 3.0
    assert {g: c.status for g, c in _by_id(result).items()} == {
        "test_square": "not run", "test_square_hidden": "not run",
        "explain": "manual", "cube": "manual", "task_plot": "manual"}
    assert _by_id(result)["test_square"].detail == result.note


def test_a_linked_submission_is_refused(course, sandboxes, tmp_path):
    fake = sandboxes()
    real = _submit(course, _answered(course), tmp_path)
    link = tmp_path / "handed_in" / NB
    link.parent.mkdir()
    link.symlink_to(real)
    result = grade_mod.grade_notebook(link, source=course)
    assert not fake.calls and "symbolic link" in result.note and result.points == 0


def test_bad_arguments_are_refused(course, tmp_path):
    with pytest.raises(ValueError, match="timeout=0"):
        grade_mod.grade_notebook(tmp_path / NB, source=course, timeout=0)
    with pytest.raises(ValueError, match=r"homework\.ipynb is not one of the course's exercises.*95_meta"):
        grade_mod.grade_notebook(tmp_path / "homework.ipynb", source=course)
    with pytest.raises(ValueError, match="timeout=-1"):
        grade_mod.grade(tmp_path, source=course, timeout=-1)


def test_grade_a_class_directory(course, sandboxes, tmp_path):
    sandboxes()
    _submit(course, _answered(course), tmp_path / "class", "alice")
    _submit(course, _cheats(course), tmp_path / "class", "bob")
    (tmp_path / "class" / "bob" / "notes.ipynb").write_text("{}")
    lines = []
    report = grade_mod.grade(tmp_path / "class", tmp_path / "out.json", source=course, echo=lines.append)
    assert [Path(e.notebook).relative_to(tmp_path / "class").parts[0] for e in report.exercises] == ["alice", "bob", "bob"]
    assert report.exercises[2].exercise == "notes.ipynb" and "not one of the course's exercises" in \
        report.exercises[2].note
    assert report.points == 6.0 and report.max_points == 6.0  # the stand-in passes every check
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(json.dumps(report.to_dict()))
    assert len(lines) == 3 and lines[0].startswith(f"{NB}: 3/3\n") and "TOTAL" not in "".join(lines)


# --- scores of one check, names of one answer ------------------------------------------------

def _value(text):
    return [{"output_type": "execute_result", "data": {"text/plain": text}, "metadata": {}, "execution_count": 1}]


@pytest.mark.parametrize("text, points, why", [
    ("2", 2.0, "partial credit: the cell's value is 2"),  # as many as the cell is worth
    ("0", 0.0, "partial credit: the cell's value is 0"),
    ("0.25", 0.25, "partial credit: the cell's value is 0.25"),
    ("2.5", 0.0, "the cell's value 2.5 is more than its 2 points"),
    ("-0.5", 2.0, ""),
    (["1"], 1.0, "partial credit: the cell's value is 1"),
    (["1", "2"], 2.0, ""),
    ([], 2.0, ""),
    ("", 2.0, ""),
    ("True", 2.0, ""),
])
def test_a_checks_value_is_its_partial_credit(text, points, why):
    assert grade_mod.cell_points(_value(text), 2.0) == (points, why)


def test_a_result_without_text_earns_full_points():
    assert grade_mod.cell_points([{"output_type": "execute_result", "data": {}}], 2.0) == (2.0, "")
    assert grade_mod.cell_points([{"output_type": "display_data", "data": {"text/plain": "0"}}], 2.0) == (2.0, "")


def test_errors_and_stderr_are_named_and_cut_short():
    long = [{"output_type": "error", "ename": "AssertionError", "evalue": "x" * 500}]
    got, why = grade_mod.cell_points(long, 2.0)
    assert got == 0.0 and why == ("AssertionError: " + "x" * 500)[:300]
    assert grade_mod.error_text(long) == why and grade_mod.error_text(long, limit=20) == why[:20]
    assert grade_mod.error_text([{"output_type": "stream", "name": "stdout", "text": "x"}, *long]) == why
    assert grade_mod.error_text([{"output_type": "stream", "name": "stderr", "text": "x"}]) is None
    noisy = [{"output_type": "stream", "name": "stderr", "text": "\n  \nwarning: slow\nmore\n" + "y" * 400}]
    assert grade_mod.cell_points(noisy, 2.0) == (0.0, "wrote to stderr (nbgrader scores that 0): warning: slow")
    wide = [{"output_type": "stream", "name": "stderr", "text": "z" * 400}]
    assert grade_mod.cell_points(wide, 2.0)[1] == ("wrote to stderr (nbgrader scores that 0): " + "z" * 400)[:300]
    assert grade_mod.cell_points([{"output_type": "stream", "name": "stderr", "text": ""}], 2.0) == (
        0.0, "wrote to stderr (nbgrader scores that 0): ")


def test_the_names_an_answer_defines():
    source = """import os
def f(x):
    inner = 1
async def g():
    pass
class C:
    attr = 2
a, (b, c) = 1, (2, 3)
d: int = 4
e = f = 5
e += 1
obj.attr = 6
table[key] = 7
[h, *rest], i = (8, 9), 10
for loop in []:
    pass
"""
    # `obj.attr = ...` and `table[key] = ...` change objects: binding those names in the
    # checker would hand it the student's `obj`, or take away its own `key`
    assert grade_mod.defined_names(source) == ["f", "g", "C", "a", "b", "c", "d", "e", "h", "rest", "i"]
    assert grade_mod.defined_names("def broken(:\n") == []
    assert grade_mod.defined_names("") == []


def test_what_grade_finds_to_grade(course, sandboxes, tmp_path):
    fake = sandboxes()
    report = grade_mod.grade(source=course)  # the instructor's own notebooks
    assert [e.notebook for e in report.exercises] == [str(course / "notebooks" / "exercises" / NB)]
    assert report.full_marks and fake.calls[0]["student_id"] is None
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist; give an exercise notebook or a directory"):
        grade_mod.grade(tmp_path / "nowhere", source=course)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no exercise notebooks \(\*\.ipynb\) under .*empty"):
        grade_mod.grade(tmp_path / "empty", source=course)
    stray = tmp_path / "stray" / "homework.ipynb"
    stray.parent.mkdir()
    stray.write_text("{}")
    with pytest.raises(ValueError, match="not one of the course's exercises"):
        grade_mod.grade(stray, source=course)  # the one notebook asked for: the caller's mistake
    path = _submit(course, _answered(course), tmp_path / "class", "zoe")
    (path.parent / ".ipynb_checkpoints").mkdir()
    nbformat.write(_cheats(course), path.parent / ".ipynb_checkpoints" / NB)
    report = grade_mod.grade(path.parents[3], source=course, timeout=9, student_id="zoe")
    assert [e.notebook for e in report.exercises] == [str(path)]
    assert (fake.calls[-1]["timeout"], fake.calls[-1]["student_id"]) == (9, "zoe")
    report = grade_mod.grade(path, source=course)  # one file: handed in from its own directory
    assert [e.notebook for e in report.exercises] == [str(path)] and report.full_marks


def test_a_notebook_the_grader_fails_on_costs_the_others_nothing(course, monkeypatch, tmp_path):
    def broken(*args, **kw):
        raise RuntimeError("the checks' process ended before cell 4" + "!" * 600)

    monkeypatch.setattr(grade_mod, "_run_sandboxed", broken)
    _submit(course, _answered(course), tmp_path / "class", "ann")
    report = grade_mod.grade(tmp_path / "class", source=course)
    (failed,) = report.exercises
    assert failed.cells == () and failed.exercise == NB
    assert failed.note == ("the grader failed on this notebook: RuntimeError: the checks' process ended "
                           "before cell 4" + "!" * 600)[:500]


# --- reports ---------------------------------------------------------------------------------

def test_report_totals_and_text():
    a = ExerciseResult("a.ipynb", "a.ipynb", (
        CellResult("t1", 1.0, 1.0, "passed", "ignored when passed"),
        CellResult("t2", 0.5, 2.0, "partial", "half"),
        CellResult("essay", 0.0, 4.0, "manual", "graded by hand")))
    b = ExerciseResult("b.ipynb", "b.ipynb", (CellResult("t3", 0.0, 3.0, "not run", ""),), "timed out")
    report = GradeReport((a, b))
    assert (a.points, a.max_points, b.max_points) == (1.5, 3.0, 3.0)
    assert (report.points, report.max_points, report.full_marks) == (1.5, 6.0, False)
    assert GradeReport((a,)).full_marks is False and GradeReport(()).full_marks is True
    assert report.render().splitlines() == [
        "a.ipynb: 1.5/3",
        f"  {'t1':<32}    1/1    passed",
        f"  {'t2':<32}  0.5/2    partial: half",
        f"  {'essay':<32}    0/4    manual: graded by hand",
        "b.ipynb: 0/3  (timed out)",
        f"  {'t3':<32}    0/3    not run",
        "TOTAL 1.5/6",
    ]
    data = report.to_dict()
    assert list(data) == ["points", "max_points", "exercises"]
    assert (data["points"], data["max_points"]) == (1.5, 6.0)
    assert data["exercises"][0]["points"] == 1.5 and data["exercises"][0]["max_points"] == 3.0
    assert data["exercises"][1]["note"] == "timed out" and data["exercises"][1]["cells"][0]["grade_id"] == "t3"


# --- markup: what the grader reads as a check, an answer, a locked cell ------------------------

def test_nbgrader_meta_reads_only_a_mapping_and_a_string_grade_id():
    cell = _code("x", gid="g", grade=True, points=2)
    meta = nbgrader_meta(cell)
    assert meta == cell.metadata["nbgrader"]
    meta["points"] = 100
    assert cell.metadata["nbgrader"]["points"] == 2  # a copy
    for metadata in ("junk", [1], None, {"nbgrader": "junk"}, {"nbgrader": [("grade_id", "g")]}, {}):
        assert nbgrader_meta({"metadata": metadata}) == {}
    assert nbgrader_meta({}) == {}
    assert nbgrader_meta({"metadata": {"nbgrader": {"grade_id": 7, "grade": True}}}) == {"grade": True}


def test_checks_and_answers_are_told_apart():
    from gorun_kit.course.markup import is_solution_cell, is_test_cell

    check = _code("assert f()", gid="t", grade=True, points=1)
    assert is_test_cell(check) and not is_solution_cell(check)
    assert not is_test_cell(_md("text", gid="t", grade=True, points=1))  # graded markdown: by hand
    answer = _code("def f(): pass", gid="a", grade=True, solution=True, points=1)
    assert is_solution_cell(answer) and not is_test_cell(answer)
    marked = _code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    assert is_solution_cell(marked) and not is_test_cell(marked)
    assert not is_test_cell(_code("x", gid="s", locked=True)) and not is_solution_cell(_code("x", gid="s"))


@pytest.mark.parametrize("cells, message", [
    ([_code("x", gid="", grade=True, points=1)], "cell 0: nbgrader cell without a grade_id"),
    ([_code("x", gid="", solution=True)], "cell 0: nbgrader cell without a grade_id"),
    ([_code("x", gid="", locked=True)], "cell 0: nbgrader cell without a grade_id"),
    ([_code("x", gid="a", locked=True), _md("y"), _code("z", gid="a", grade=True, points=1)],
     "cell 2: grade_id 'a' is also used by cell 0"),
    ([_code("x", gid="t", grade=True, points="1")], r"cell 0 \(t\): graded cell needs numeric points >= 0, has '1'"),
    ([_code("x", gid="t", grade=True, points=True)], "has True"),
    ([_code("x", gid="t", grade=True, points=-1)], "has -1"),
    ([_code("x", gid="t", grade=True)], "has None"),
    ([_code("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS", gid="a", solution=True)],
     "cell 0: hidden tests in a cell that is not a graded test cell"),
    ([_md("### BEGIN SOLUTION\nx")], "cell 0: '### BEGIN SOLUTION' at line 1 is never closed"),
    ([_code("x\n### END HIDDEN TESTS", gid="t", grade=True, points=1)],
     "cell 0: line 2: '### END HIDDEN TESTS' without a '### BEGIN HIDDEN TESTS' before it"),
])
def test_bad_instructor_markup_is_refused(cells, message):
    from gorun_kit.course.markup import MarkupError, check_notebook_markup

    with pytest.raises(MarkupError, match=message):
        check_notebook_markup(nbformat.v4.new_notebook(cells=cells), "ex.ipynb")


def test_good_markup_passes():
    from gorun_kit.course.markup import check_notebook_markup

    check_notebook_markup(INSTRUCTOR, "ex.ipynb")
    check_notebook_markup(nbformat.v4.new_notebook(cells=[
        _code("x", gid="t", grade=True, points=0), _code("y", gid="u", grade=True, points=2.5),
        _code("z", gid="t2"), _code("w", gid="t2"),  # neither graded, answer nor locked: ids may repeat
        _code("print('### BEGIN SOLUTION')"), _md("No metadata", )]), "ex.ipynb")


def test_regions_are_stubbed_at_their_indentation():
    from gorun_kit.course.markup import MarkupError, strip_hidden_tests, strip_region

    text = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\nx = '### BEGIN SOLUTION'"
    assert strip_region(text, "solution", ["# YOUR CODE HERE", "raise NotImplementedError()"], "w") == (
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\nx = '### BEGIN SOLUTION'")
    assert strip_region(text, "solution", None, "w") == "def f():\nx = '### BEGIN SOLUTION'"
    assert strip_region("a\n# ### BEGIN SOLUTION -*-\nb\n/* ### END SOLUTION */\nc", "solution", [], "w") == "a\nc"
    hidden = "assert f()\n### BEGIN HIDDEN TESTS\nassert g()\n### END HIDDEN TESTS\nprint('ok')"
    assert strip_hidden_tests(hidden, "w") == (
        "assert f()\n# Hidden tests run here when this notebook is graded (gorun-kit course grade):\n"
        "# passing the checks above does not guarantee full points.\nprint('ok')")
    with pytest.raises(MarkupError, match=r"^w: line 3: '### BEGIN SOLUTION' inside another region \(opened at "
                                          r"line 1\); close the first one with '### END SOLUTION'$"):
        strip_region("### BEGIN SOLUTION\nx\n### BEGIN SOLUTION\n### END SOLUTION", "solution", None, "w")


# --- the grader's side of the two processes, with stand-in processes --------------------------

_CHECKER = """
import os, sys, time
open({seen!r}, "w").write(sys.stdin.read())
time.sleep({pause!r})
fd = int(sys.argv[sys.argv.index("--results-fd") + 1])
for chunk in {chunks!r}:
    os.write(fd, chunk.encode())
    time.sleep(0.01)
err = {err!r}
sys.stderr.buffer.write(err if isinstance(err, bytes) else err.encode())
sys.stderr.flush()
if {hang!r}:
    time.sleep(60)
sys.exit({code!r})
"""
_STUDENT = "import sys\nopen({seen!r}, 'w').write(sys.stdin.read())\n"


@pytest.fixture
def boxes(monkeypatch, tmp_path):
    """Replace bubblewrap by plain processes: the checker's writes ``chunks`` to the results
    pipe, then ``err`` to stderr, and exits with ``code`` (or hangs)."""
    import contextlib
    import subprocess
    import sys

    from gorun_kit.course import sandbox as sb

    made = []
    script = {}

    class Box:
        @property
        def limit_kind(self):
            return "stand-in" if self.role == 0 else "the checker's stand-in"  # the report gives the student's

        def __init__(self, slot, role, limits=sb.Limits(), read_only=(), writable=(), hidden=(), keep_caps=()):
            self.slot, self.role, self.limits = slot, role, limits
            self.read_only, self.writable, self.hidden, self.keep_caps = read_only, writable, hidden, keep_caps
            self.owned, self.proc = [], None
            made.append(self)

        def own(self, path):
            self.owned.append(path)

        def start(self, argv, *, cwd, env, pass_fds=(), stderr=subprocess.DEVNULL):
            self.argv, self.cwd, self.env, self.pass_fds = list(argv), cwd, dict(env), list(pass_fds)
            code = script["student"] if self.role == 0 else script["checker"]
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", code, *argv], stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=pass_fds)
            return self.proc

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait()

    @contextlib.contextmanager
    def slot():
        yield 7

    why = {"value": None}
    monkeypatch.setattr(sb, "available", lambda: why["value"])
    monkeypatch.setattr(sb, "slot", slot)
    monkeypatch.setattr(sb, "Sandbox", Box)
    monkeypatch.setattr(sb, "confine_prefix", lambda n: ["confine", str(n)])
    monkeypatch.setenv("GOCACHE", str(tmp_path / "gocache"))
    grade_mod._go_cache.cache_clear()

    def run(lines=(), *, err="", code=0, hang=False, pause=0.0, timeout=30.0, unavailable=None, student_id="alice",
            exercise="02_lookpath_linux_exercises.ipynb"):
        why["value"] = unavailable
        chunks = [line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines]
        script["student"] = _STUDENT.format(seen=str(tmp_path / "student-stdin"))
        script["checker"] = _CHECKER.format(seen=str(tmp_path / "checker-stdin"), chunks=chunks, err=err,
                                            hang=hang, code=code, pause=pause)
        work = tmp_path / f"run{len(made)}"
        work.mkdir()
        trees = {name: work / name for name in ("student", "check")}
        for tree in trees.values():
            (tree / "notebooks" / "exercises").mkdir(parents=True)
        return grade_mod._run_sandboxed(
            ["s = 1", "def f(): pass"], [{"source": "x = 1", "bind": None}, {"bind": ["f"]},
                                         {"source": "assert f() is None", "bind": None}], [1, 3, 4],
            student_tree=trees["student"], check_tree=trees["check"], tmp=work, exercise=exercise,
            timeout=timeout, student_id=student_id)

    run.made, run.tmp = made, tmp_path
    yield run
    grade_mod._go_cache.cache_clear()


def test_results_come_back_by_the_instructors_cell(boxes):
    import sys

    from gorun_kit.cache import cache_dir

    stream = [{"output_type": "stream", "name": "stdout", "text": "ok"}]
    lines = [json.dumps({"index": 0, "outputs": []}) + "\n" + '{"index": 1, "bo', 'und": true}\n',
             {"index": 2, "outputs": stream, "skipped": "needs go (missing)"}]
    run = boxes(lines)
    assert run == grade_mod._Run({1: [], 4: stream}, {4: "needs go (missing)"}, "", "stand-in")
    assert json.loads((boxes.tmp / "student-stdin").read_text()) == {"cells": ["s = 1", "def f(): pass"]}
    assert json.loads((boxes.tmp / "checker-stdin").read_text())["cells"][1] == {"bind": ["f"]}
    student, checker = boxes.made
    work = boxes.tmp / "run0"
    assert (student.slot, student.role, checker.slot, checker.role) == (7, 0, 7, 1)
    assert student.writable == [str(work / "student"), str(work / "student-home")]
    assert student.owned == [work / "student", work / "student-home"]
    assert student.hidden == grade_mod.withheld_paths("02_lookpath_linux_exercises.ipynb") != []
    assert student.read_only == () and student.keep_caps == () and student.limits == grade_mod_limits()
    assert (checker.limits.memory_bytes, checker.limits.processes) == (8 << 30, 512)
    assert checker.read_only == [str(work / "check")] and checker.hidden == () and checker.owned == []
    assert checker.writable == [str(work / "check-home"), str(cache_dir()), str(boxes.tmp / "gocache")]
    assert checker.keep_caps == (("CAP_SETUID", "CAP_SETGID") if os.geteuid() == 0 else ())
    python = [sys.executable, "-I", "-m", "gorun_kit.course.cellrun"]
    assert student.argv[:5] == [*python, "student"] and student.argv[5] == "--channel-fd"
    assert checker.argv[:5] == [*python, "check"] and checker.argv[5] == "--channel-fd"
    assert checker.argv[7] == "--results-fd" and len(student.argv) == 7 and len(checker.argv) == 9
    # each side is told the descriptors it was given: the channel's end, and the checker's results pipe
    assert student.argv[6] == str(student.pass_fds[0]) and checker.argv[6] == str(checker.pass_fds[0])
    assert checker.argv[8] == str(checker.pass_fds[1])
    assert student.cwd == str(work / "student" / "notebooks" / "exercises")
    assert checker.cwd == str(work / "check" / "notebooks" / "exercises")
    assert student.env["HOME"] == str(work / "student-home") and student.env["GORUN_KIT_STUDENT"] == "alice"
    assert "GORUN_KIT_CONFINE" not in student.env and "GOCACHE" not in student.env
    assert {k: checker.env[k] for k in ("HOME", "GORUN_KIT_STUDENT", "GORUN_KIT_CACHE", "GOCACHE",
                                         "GORUN_KIT_SKIP_LOG", "GORUN_KIT_CONFINE")} == {
        "HOME": str(work / "check-home"), "GORUN_KIT_STUDENT": "alice", "GORUN_KIT_CACHE": str(cache_dir()),
        "GOCACHE": str(boxes.tmp / "gocache"), "GORUN_KIT_SKIP_LOG": str(work / "check-home" / "skips.log"),
        "GORUN_KIT_CONFINE": '["confine", "7"]'}
    assert (work / "check-home").stat().st_mode & 0o777 == 0o700
    assert (work / "check-home" / "skips.log").read_text() == ""
    assert (boxes.tmp / "gocache").is_dir()


def grade_mod_limits():
    from gorun_kit.course import sandbox as sb

    return sb.Limits()


def test_without_a_student_id_no_id_is_set(boxes):
    boxes([{"index": i, "outputs": []} for i in range(3)], student_id=None, exercise="99_other.ipynb")
    student, checker = boxes.made
    assert "GORUN_KIT_STUDENT" not in student.env and "GORUN_KIT_STUDENT" not in checker.env
    assert student.hidden == []


@pytest.mark.parametrize("bad", [
    "not json\n", {"index": 3, "outputs": []}, {"index": -1, "outputs": []}, {"index": "0", "outputs": []},
    {"outputs": []}, {"index": 1.0, "outputs": []}, {"index": 0, "outputs": "passed"}, "[1]\n",
])
def test_a_malformed_result_is_noted_and_skipped(boxes, bad):
    run = boxes([bad, {"index": 0, "outputs": []}, {"index": 1, "bound": False, "error": "EOFError"},
                 {"index": 2, "outputs": []}])
    assert run.outputs == {1: [], 4: []}
    assert run.note == "the checks sent a malformed result"


def test_a_malformed_result_costs_none_of_the_results_sent_with_it(boxes):
    run = boxes(["not json\n" + "".join(json.dumps({"index": i, "outputs": []}) + "\n" for i in range(3))])
    assert run.outputs == {1: [], 3: [], 4: []} and run.note == "the checks sent a malformed result"


def test_a_checker_that_finishes_within_its_time_is_not_cut_short(boxes):
    # the results come one second before the deadline
    run = boxes([{"index": i, "outputs": []} for i in range(3)], pause=2.2, timeout=3.2)
    assert run.outputs == {1: [], 3: [], 4: []} and run.note == ""


def test_an_unreachable_student_is_noted(boxes):
    run = boxes([{"index": 0, "outputs": []}, {"index": 1, "bound": False, "error": "EOFError: gone"},
                 {"index": 2, "outputs": [], "skipped": ""}])
    assert run.outputs == {1: [], 4: []} and run.skipped == {}
    assert run.note == "the student's code could not be reached: EOFError: gone"
    run = boxes([{"index": 0, "outputs": []}, {"index": 1, "bound": True, "missing": ["f"]},
                 {"index": 2, "outputs": []}])
    assert run.note == ""


def test_a_checker_that_ends_early_is_the_graders_failure(boxes):
    with pytest.raises(RuntimeError, match=r"^the checks' process ended before cell 3 \(exit status 3\): "
                                           r"ImportError: no module named x$"):
        boxes([{"index": 0, "outputs": []}], err="\n ImportError: no module named x \n", code=3)
    with pytest.raises(RuntimeError, match=r"ended before cell 1 \(exit status 0\): it said nothing$"):
        boxes([])
    long = "x" * 2000 + "END"
    with pytest.raises(RuntimeError) as caught:
        boxes([{"index": 0, "outputs": []}, {"index": 1, "bound": True}], err=long, code=1)
    assert str(caught.value) == f"the checks' process ended before cell 4 (exit status 1): {long[-1500:]}"


def test_what_the_checker_said_is_read_whatever_its_bytes(boxes):
    # the last 1500 bytes, cut in the middle of a character, and a byte that is no UTF-8 at all
    with pytest.raises(RuntimeError) as caught:
        boxes([], err="\u00e9".encode() * 800 + b"! \xff", code=2)
    assert str(caught.value).split("(exit status 2): ", 1)[1] == "\ufffd" + "\u00e9" * 748 + "! \ufffd"


@pytest.mark.parametrize("lines, cell, timeout", [
    ([], 1, 0.25), ([{"index": i, "outputs": []} for i in range(3)], 4, 1.5)])  # time for the stand-in to write its lines
def test_a_hanging_checker_times_out_in_the_cell_it_was_at(boxes, lines, cell, timeout):
    import time

    start = time.monotonic()
    run = boxes(lines, hang=True, timeout=timeout)
    assert run.note == f"timed out after {timeout:g}s in cell {cell}"
    assert time.monotonic() - start < timeout + 4
    assert run.outputs == {w: [] for w in [1, 3, 4][:len(lines)]}


def test_no_sandbox_no_grading(boxes):
    with pytest.raises(RuntimeError, match="^cannot grade: bubblewrap is not installed$"):
        boxes([], unavailable="bubblewrap is not installed")
    assert boxes.made == []


def test_the_go_build_cache_the_checks_share(monkeypatch, tmp_path):
    from gorun_kit import toolchain

    asked = []

    class Done:
        stdout = f"  {tmp_path / 'from-go'}\n"

    def run_go(args, **kw):
        asked.append((args, kw["timeout"]))
        return Done()

    monkeypatch.setattr(toolchain, "run_go", run_go)
    monkeypatch.delenv("GOCACHE", raising=False)
    grade_mod._go_cache.cache_clear()
    try:
        assert grade_mod._go_cache() == str(tmp_path / "from-go") and (tmp_path / "from-go").is_dir()
        assert grade_mod._go_cache() == str(tmp_path / "from-go") and len(asked) == 1  # asked once
        assert asked == [(["env", "GOCACHE"], 60)]

        def broken(args, **kw):
            raise OSError("no go")

        for answer in (broken, lambda args, **kw: type("D", (), {"stdout": "\n"})()):
            monkeypatch.setattr(toolchain, "run_go", answer)
            grade_mod._go_cache.cache_clear()
            monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
            assert grade_mod._go_cache() == str(tmp_path / "xdg" / "go-build")
            grade_mod._go_cache.cache_clear()
            monkeypatch.delenv("XDG_CACHE_HOME")
            monkeypatch.setenv("HOME", str(tmp_path / "home"))
            assert grade_mod._go_cache() == str(tmp_path / "home" / ".cache" / "go-build")
            assert (tmp_path / "home" / ".cache" / "go-build").is_dir()
    finally:
        grade_mod._go_cache.cache_clear()
