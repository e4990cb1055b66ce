"""gorun_kit.course.classgrade on a made-up course, with the two sandboxes replaced by a
stand-in that answers with chosen outputs (as in tests/test_course_grade_model.py) and,
for grade_class, each student graded in a thread instead of a child process: who is
graded on what, the scores and statuses, what a student's folder can change, resuming,
and what the student reads (never a line of hidden test code). No process is started.
"""
from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st

import gorun_kit.course.grade as grade_mod
from gorun_kit.course import classgrade as cg
from gorun_kit.course.grade import CellResult, ExerciseResult
from test_course_grade_model import _code

EX1, EX2 = "97_cls_exercises.ipynb", "98_two_exercises.ipynb"
HIDDEN_LINE = "assert secret_helper(answer()) == 4242, 'the hidden one failed'"


def _markdown(source, gid, **flags):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False, "grade_id": gid,
                                 "schema_version": 3, **flags}
    return cell


NB1 = nbformat.v4.new_notebook(cells=[
    _code("def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION", "answer", solution=True),  # 0
    _code("assert answer() == 42", "t_visible", grade=True, locked=True, points=1),  # 1
    _code("assert answer()\n### BEGIN HIDDEN TESTS\n" + HIDDEN_LINE + "\nelse:\n### END HIDDEN TESTS",
          "t_hidden", grade=True, locked=True, points=2),  # 2
    _markdown("Explain.", "essay", grade=True, solution=True, points=3),  # 3
])
NB2 = nbformat.v4.new_notebook(cells=[
    _code("x = 1", "x", solution=True),  # 0
    _code("assert x == 1", "t_x", grade=True, locked=True, points=5),  # 1
])


@pytest.fixture
def course(tmp_path):
    src = tmp_path / "course"
    (src / "notebooks" / "exercises").mkdir(parents=True)
    nbformat.write(NB1, src / "notebooks" / "exercises" / EX1)
    nbformat.write(NB2, src / "notebooks" / "exercises" / EX2)
    return src


def _error(msg):
    return [{"output_type": "error", "ename": "AssertionError", "evalue": msg, "traceback": []}]


@pytest.fixture
def checks(monkeypatch):
    """The checks' outputs by cell index (of each notebook), and the calls made; every check passes
    unless ``fail`` names its cell index (the value is the assertion message)."""
    state = {"fail": {}, "raise": None, "calls": []}

    def fake(student_cells, checker_cells, where, **kw):
        state["calls"].append(kw)
        if state["raise"] is not None:
            raise state["raise"]
        return grade_mod._Run({i: _error(state["fail"][i]) if i in state["fail"] else [] for i in where},
                              {}, "", "")
    monkeypatch.setattr(grade_mod, "_run_sandboxed", fake)
    return state


def _hand_in(folder: Path, *names, where=("notebooks", "exercises")):
    d = folder.joinpath(*where)
    d.mkdir(parents=True, exist_ok=True)
    for name in names:
        nbformat.write(NB1 if name == EX1 else NB2, d / name)
    return d


def _exercises(course):
    return cg.course_exercises(course)


# -- the instructor's side ---------------------------------------------------------------


def test_course_exercises_reads_checks_points_and_hidden_lines(course):
    known = _exercises(course)
    assert sorted(known) == [EX1, EX2]
    ex = known[EX1]
    assert ex.cells == (("t_visible", 1.0, True), ("t_hidden", 2.0, True), ("essay", 3.0, False))
    assert ex.hidden == ("t_hidden",)
    assert ex.hidden_lines == (HIDDEN_LINE,)  # short lines ("else:") would match too much
    assert ex.max_points == 3.0 and ex.stem == "97_cls_exercises"
    assert ex.path == str(course / "notebooks" / "exercises" / EX1)
    import hashlib
    assert ex.digest == hashlib.sha256((course / "notebooks" / "exercises" / EX1).read_bytes()).hexdigest()
    assert known[EX2].hidden == () and known[EX2].max_points == 5.0


def test_an_exercise_stem_without_the_suffix_is_itself():
    assert cg.Exercise("plain", "", (), (), (), "").stem == "plain"


# -- the student's side: which notebook is graded -------------------------------------


def test_the_release_place_wins_and_links_are_refused(tmp_path):
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, where=("copy", "deep", "er"))
    _hand_in(folder, EX1)
    _hand_in(folder, EX2, where=("a",))
    _hand_in(folder, EX2, where=("b", "c"))
    (folder / "notes.ipynb").write_text("{}")
    (folder / ".hidden").mkdir()
    nbformat.write(NB2, folder / ".hidden" / "99_x_exercises.ipynb")
    chosen, refused, notes = cg.find_notebooks(folder, [EX1, EX2, "99_x_exercises.ipynb"])
    assert chosen == {EX1: folder / "notebooks" / "exercises" / EX1, EX2: folder / "a" / EX2}
    assert refused == {}
    assert notes == [f"ignored copy/deep/er/{EX1}: graded the copy in notebooks/exercises/{EX1}",
                     f"ignored b/c/{EX2}: graded the copy in a/{EX2}",
                     "ignored (not named like any exercise): notes.ipynb"]


def test_a_notebook_that_is_a_link_is_refused_even_at_the_release_place(tmp_path, course):
    folder = tmp_path / "ada"
    d = folder / "notebooks" / "exercises"
    d.mkdir(parents=True)
    (d / EX1).symlink_to(course / "notebooks" / "exercises" / EX1)  # the instructor's, with the solutions
    _hand_in(folder, EX1, where=("other",))
    chosen, refused, _ = cg.find_notebooks(folder, [EX1])
    assert chosen == {} and "symbolic link" in refused[EX1] and f"notebooks/exercises/{EX1}" in refused[EX1]


def test_a_linked_directory_is_not_followed(tmp_path, course):
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "course").symlink_to(course)
    chosen, refused, notes = cg.find_notebooks(folder, [EX1])
    assert (chosen, refused, notes) == ({}, {}, [])


# -- the fingerprint (resume) ---------------------------------------------------------------


def test_the_fingerprint_changes_with_the_work_and_the_checks(tmp_path, course):
    known = _exercises(course)
    folder = tmp_path / "ada"
    d = _hand_in(folder, EX1)
    first = cg.fingerprint(folder, [known[EX1]])
    assert first == cg.fingerprint(folder, [known[EX1]])
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "x").write_text("y")
    assert cg.fingerprint(folder, [known[EX1]]) == first  # hidden files are not the work
    (d / "extra.txt").write_text("a")
    second = cg.fingerprint(folder, [known[EX1]])
    assert second != first
    (d / "extra.txt").write_text("b")  # same size, other content
    third = cg.fingerprint(folder, [known[EX1]])
    assert third != second
    (d / "extra.txt").unlink()
    (d / "extra.txt").symlink_to("/etc/hostname")
    assert cg.fingerprint(folder, [known[EX1]]) not in (first, second, third)
    (d / "extra.txt").unlink()
    assert cg.fingerprint(folder, [known[EX1]]) == first
    assert cg.fingerprint(folder, [known[EX1], known[EX2]]) != first  # another assignment
    changed = cg.Exercise(EX1, "", (), (), (), "0" * 64)
    assert cg.fingerprint(folder, [changed]) != first  # the instructor changed the checks
    (d / "extra.txt").write_text("a")
    (d / "extra.txt").rename(d / "other.txt")
    assert cg.fingerprint(folder, [known[EX1]]) != second  # the name counts, not only the bytes


def test_the_fingerprint_reads_files_larger_than_one_block(tmp_path):
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "big").write_bytes(b"a" * (1 << 20) + b"b")
    one = cg.fingerprint(folder, [])
    (folder / "big").write_bytes(b"a" * (1 << 20) + b"c")
    assert cg.fingerprint(folder, []) != one


# -- grading one student -------------------------------------------------------------------


def test_a_student_who_hands_in_everything_and_passes_is_graded(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, EX2)
    r = cg.grade_student(folder, [known[EX1], known[EX2]], source=course)
    assert r.student == "ada" and r.status == "graded"
    assert (r.points, r.max_points) == (8.0, 8.0)
    assert [e.notebook for e in r.exercises] == [f"notebooks/exercises/{EX1}", f"notebooks/exercises/{EX2}"]
    assert r.notes == () and r.graded_at.endswith("+00:00") and r.seconds >= 0
    assert [c["student_id"] for c in checks["calls"]] == ["ada", "ada"]


def test_the_student_id_given_picks_the_variant_not_the_folder_name(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "folder-name"
    _hand_in(folder, EX2)
    r = cg.grade_student(folder, [known[EX2]], source=course, student_id="bob")
    assert r.student == "bob" and checks["calls"][0]["student_id"] == "bob"


def test_a_failed_check_costs_its_points(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1)
    checks["fail"] = {2: "nope"}
    r = cg.grade_student(folder, [known[EX1]], source=course)
    assert (r.points, r.max_points, r.status) == (1.0, 3.0, "graded")
    cells = {c.grade_id: (c.points, c.status) for c in r.exercises[0].cells}
    assert cells == {"t_visible": (1.0, "passed"), "t_hidden": (0.0, "failed"), "essay": (0.0, "manual")}


def test_an_exercise_not_handed_in_scores_zero_and_the_status_says_incomplete(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    r = cg.grade_student(folder, [known[EX1], known[EX2]], source=course)
    assert r.status == "incomplete" and (r.points, r.max_points) == (5.0, 8.0)
    missing = r.by_exercise()[EX1]
    assert missing.notebook == "" and missing.note == "not handed in" and missing.points == 0
    assert {c.grade_id: (c.points, c.max_points, c.status) for c in missing.cells} == {
        "t_visible": (0.0, 1.0, "not run"), "t_hidden": (0.0, 2.0, "not run"), "essay": (0.0, 3.0, "manual")}
    assert [c.detail for c in missing.cells] == ["not handed in", "not handed in", "graded by hand"]
    assert r.notes == ("97_cls_exercises: not handed in",)


def test_a_folder_without_exercises_is_empty(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "readme.txt").write_text("hi")
    r = cg.grade_student(folder, [known[EX1]], source=course)
    assert r.status == "empty" and r.points == 0 and r.max_points == 3.0
    assert checks["calls"] == []


def test_a_linked_notebook_is_not_graded_and_the_student_is_told(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    d = folder / "notebooks" / "exercises"
    d.mkdir(parents=True)
    (d / EX1).symlink_to(course / "notebooks" / "exercises" / EX1)
    r = cg.grade_student(folder, [known[EX1]], source=course)
    assert r.status == "incomplete" and r.points == 0 and checks["calls"] == []
    assert "symbolic link" in r.exercises[0].note and r.exercises[0].note.startswith("not graded: ")
    assert r.notes[0].startswith("97_cls_exercises: not graded: ") and "symbolic link" in r.notes[0]


def test_an_unreadable_notebook_is_not_graded_and_the_student_is_told_what_to_do(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    d = folder / "notebooks" / "exercises"
    d.mkdir(parents=True)
    (d / EX1).write_text("{ not json")
    (d / EX2).write_text("")
    r = cg.grade_student(folder, [known[EX1], known[EX2]], source=course)
    assert r.status == "incomplete" and r.points == 0 and checks["calls"] == []
    for e in r.exercises:
        assert e.note.startswith("not graded: not a readable notebook (") and "restore it from the release" in e.note
        assert e.notebook == f"notebooks/exercises/{e.exercise}"
        assert all(c.points == 0 for c in e.cells)
    assert "\n" not in r.exercises[0].note


def test_the_graders_own_failure_makes_the_status_error(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, EX2)
    checks["raise"] = RuntimeError("the checks' process ended")
    r = cg.grade_student(folder, [known[EX1]], source=course)
    assert r.status == "error" and r.points == 0
    assert r.notes[0] == "97_cls_exercises: the grader failed: RuntimeError: the checks' process ended"
    assert "teacher has been told" in r.exercises[0].note


def test_a_broken_instructor_notebook_is_the_graders_failure(tmp_path, course, checks):
    from gorun_kit.course.markup import MarkupError

    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    checks["raise"] = MarkupError("bad metadata in the instructor's notebook")
    r = cg.grade_student(folder, [known[EX2]], source=course)
    assert r.status == "error" and r.points == 0
    assert r.notes[0].startswith("98_two_exercises: the grader failed: ")
    assert "teacher has been told" in r.exercises[0].note and r.exercises[0].notebook == f"notebooks/exercises/{EX2}"


def test_a_notebook_the_grader_refuses_is_the_students_and_hides_the_machines_paths(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    checks["raise"] = ValueError(f"{folder}{os.sep}notebooks/x is odd; so is {folder}")
    r = cg.grade_student(folder, [known[EX2]], source=course)
    assert r.status == "incomplete"
    assert r.notes == ("98_two_exercises: not graded: notebooks/x is odd; so is .",)
    assert str(tmp_path) not in json.dumps(r.to_dict()["exercises"])


def test_known_exercises_beyond_the_assignment_are_not_reported_as_ignored(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, EX2)
    r = cg.grade_student(folder, [known[EX2]], source=course, known=known)
    assert r.notes == () and r.status == "graded" and [e.exercise for e in r.exercises] == [EX2]
    r2 = cg.grade_student(folder, [known[EX2]], source=course)
    assert r2.notes == (f"ignored (not named like any exercise): notebooks/exercises/{EX1}",)


# -- what the student reads ---------------------------------------------------------------


def _result(course, checks, tmp_path, fail):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1)
    checks["fail"] = fail
    return cg.grade_student(folder, [known[EX1], known[EX2]], source=course), known


def test_feedback_shows_points_and_why_a_check_failed_but_never_hidden_code(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {1: "answer was 41", 2: HIDDEN_LINE + " failed"})
    text = cg.feedback_text(result, known)
    assert HIDDEN_LINE not in text and "[hidden test code] failed" in text
    assert text.startswith("# Feedback for ada\n")
    assert "**Total: 0/8**" in text
    assert "## 97_cls_exercises: 0/3" in text and "## 98_two_exercises: 0/5" in text
    assert f"Graded: `notebooks/exercises/{EX1}`" in text and "Note: not handed in" in text
    assert "- `t_visible`: failed, 0/1  \n  AssertionError: answer was 41" in text
    assert "- `t_hidden` (includes hidden tests): failed, 0/2" in text
    assert "Some checks include hidden tests" in text
    assert "- `essay`: manual, 0/3" in text
    assert "- `t_x`: not run, 0/5\n" in text  # its detail is the exercise's note: said once
    assert "## Also" not in text  # every note belongs to an exercise, and is said there
    assert "grader failed" not in text


def test_feedback_lists_notes_that_belong_to_no_exercise(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX1)
    (folder / "scratch.ipynb").write_text("{}")
    r = cg.grade_student(folder, [known[EX1]], source=course)
    text = cg.feedback_text(r, known)
    assert text.endswith("## Also\n\n- ignored (not named like any exercise): scratch.ipynb\n")
    assert "Some checks include hidden tests" in text and "**Total: 3/3**" in text
    assert "passed, 1/1\n" in text and "passed, 1/1  \n" not in text


def test_feedback_of_a_failed_grader_says_it_is_not_the_students_fault(course):
    known = _exercises(course)
    failed = cg._failed("ada", [known[EX2]], "killed", "fp")
    text = cg.feedback_text(failed, known)
    assert "because the grader failed (not because of your work)" in text and "graded again" in text
    assert failed.status == "error" and failed.points == 0 and failed.fingerprint == "fp"
    assert failed.notes == ("killed",)


def test_feedback_without_hidden_checks_does_not_warn_of_them(tmp_path, course, checks):
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    text = cg.feedback_text(cg.grade_student(folder, [known[EX2]], source=course), known)
    assert "hidden" not in text and "## Also" not in text


def test_an_assertion_without_a_message_reads_as_its_name(course):
    known = _exercises(course)
    r = cg.StudentResult("ada", "graded", (ExerciseResult("x", EX2, (
        CellResult("t_x", 0.0, 5.0, "failed", "AssertionError: "),)),))
    assert "\n  AssertionError\n" in cg.feedback_text(r, known) + "\n"
    assert cg.gradescope_results(r, known)["tests"][0]["output"] == "AssertionError"


def test_gradescope_results_score_each_check_and_hide_hidden_code(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {2: "x " + HIDDEN_LINE})
    out = cg.gradescope_results(result, known)
    assert HIDDEN_LINE not in json.dumps(out)
    assert out["score"] == 1.0 and out["stdout_visibility"] == "hidden"
    assert out["extra_data"] == {"student": "ada", "status": "incomplete"}
    assert out["output"].split("\n")[0] == "ada: 1/8 (incomplete)"
    assert "98_two_exercises: not handed in" in out["output"].split("\n")[1:]
    tests = {t["name"]: t for t in out["tests"]}
    assert set(tests) == {"97_cls_exercises: t_visible", "97_cls_exercises: t_hidden", "98_two_exercises: t_x"}
    assert tests["97_cls_exercises: t_visible"] == {
        "name": "97_cls_exercises: t_visible", "number": "1", "score": 1.0, "max_score": 1.0, "status": "passed",
        "output": "", "visibility": "visible"}
    hidden = tests["97_cls_exercises: t_hidden"]
    assert hidden["status"] == "failed" and hidden["score"] == 0 and hidden["max_score"] == 2.0
    assert hidden["output"] == "This check includes hidden tests; its code is not shown. AssertionError: x [hidden test code]"
    assert hidden["number"] == "2"
    assert tests["98_two_exercises: t_x"]["number"] == "4"  # the manual cell keeps its number
    assert tests["98_two_exercises: t_x"]["output"] == "not handed in"


def test_gradescope_execution_time_is_whole_seconds():
    r = cg.StudentResult("ada", "graded", (), seconds=2.6)
    assert cg.gradescope_results(r, {})["execution_time"] == 3


def test_a_passed_hidden_check_says_only_that_it_has_hidden_tests(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {})
    tests = {t["name"]: t for t in cg.gradescope_results(result, known)["tests"]}
    assert tests["97_cls_exercises: t_hidden"]["output"] == "This check includes hidden tests; its code is not shown."
    assert tests["97_cls_exercises: t_hidden"]["status"] == "passed"


def test_partial_points_are_failed_on_gradescope(course):
    r = cg.StudentResult("ada", "graded", (ExerciseResult("x", EX2, (
        CellResult("t_x", 2.5, 5.0, "partial", "half"),)),))
    t = cg.gradescope_results(r, _exercises(course))["tests"][0]
    assert (t["status"], t["score"], t["output"]) == ("failed", 2.5, "half")


@given(st.text(min_size=0, max_size=60))
@settings(max_examples=100, deadline=None)
def test_no_detail_ever_quotes_a_hidden_line(noise):
    ex = cg.Exercise(EX1, "", (("t", 1.0, True),), ("t",), (HIDDEN_LINE, "another_hidden_line_here()"), "")
    detail = noise + HIDDEN_LINE + noise + "another_hidden_line_here()" + noise
    r = cg.StudentResult("ada", "graded", (ExerciseResult("x", EX1, (CellResult("t", 0.0, 1.0, "failed", detail),)),))
    assert HIDDEN_LINE not in cg.feedback_text(r, {EX1: ex})
    assert "another_hidden_line_here()" not in json.dumps(cg.gradescope_results(r, {EX1: ex}))


# -- records on disk ----------------------------------------------------------------------


def test_write_student_then_load_student_gives_the_result_back(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {1: "no"})
    out = tmp_path / "out" / "ada"
    cg.write_student(out, result, known)
    assert cg.load_student(out) == result
    assert (out / "feedback.md").read_text() == cg.feedback_text(result, known)
    assert json.loads((out / "results.json").read_text()) == cg.gradescope_results(result, known)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_load_student_of_a_newer_record_ignores_fields_it_does_not_know(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {})
    out = tmp_path / "out"
    cg.write_student(out, result, known)
    data = json.loads((out / "report.json").read_text())
    data["new_field"] = 1
    data["exercises"][0]["new_field"] = 2
    data["exercises"][0]["cells"][0]["new_field"] = 3
    (out / "report.json").write_text(json.dumps(data))
    assert cg.load_student(out) == result


@pytest.mark.parametrize("text", [None, "", "not json", "[]", '{"student": "ada"}', '{"exercises": 3}',
                                  '{"student": "a", "status": "graded", "exercises": [{"cells": [1]}]}'])
def test_load_student_of_a_missing_or_broken_report_is_none(tmp_path, text):
    if text is not None:
        (tmp_path / "report.json").write_text(text)
    assert cg.load_student(tmp_path) is None


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("old")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cg.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        cg._write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_gradebook_has_a_row_per_student_and_a_column_per_exercise(course):
    known = _exercises(course)
    graded = cg.StudentResult("ada", "incomplete", (ExerciseResult("x", EX1, (
        CellResult("t_visible", 1.0, 1.0, "passed"), CellResult("t_hidden", 0.5, 2.0, "partial"))),),
        notes=("a", "b"))
    report = cg.ClassReport("out", (EX1, EX2), (graded, cg.StudentResult("bob", "", ())), 1, 0.0)
    rows = list(csv.reader(io.StringIO(cg.gradebook_csv(report))))
    assert rows == [["student", "97_cls_exercises", "98_two_exercises", "total", "max", "status", "notes"],
                    ["ada", "1.5", "", "1.5", "3", "incomplete", "a; b"],
                    ["bob", "", "", "", "", "not graded", "the run was stopped first"]]
    assert not report.ok and report.failed == ()
    assert cg.ClassReport("o", (), (graded,), 1, 0.0).ok
    bad = cg.ClassReport("o", (), (graded, cg.StudentResult("eve", "error", ())), 1, 0.0)
    assert not bad.ok and bad.failed == ("eve",)
    assert not cg.ClassReport("o", (), (cg.StudentResult("x", "weird", ()),), 1, 0.0).ok


# -- grading a class ------------------------------------------------------------------------


@pytest.fixture
def in_threads(monkeypatch, checks):
    """grade_class with each student graded in this process (a thread) instead of a child."""
    seen = []

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        seen.append((student, timeout, [e.name for e in assignment]))
        result = cg.grade_student(folder, assignment, student_id=student, source=src, timeout=timeout,
                                  known=exercises)
        import dataclasses
        result = dataclasses.replace(result, fingerprint=fp)
        cg.write_student(out_dir, result, exercises)
        return result

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    return seen


def _class(tmp_path, **students):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, notebooks in students.items():
        folder = subs / name
        folder.mkdir()
        if notebooks:
            _hand_in(folder, *notebooks)
    return subs


def test_a_class_is_graded_on_what_some_student_handed_in(tmp_path, course, in_threads, checks):
    subs = _class(tmp_path, ada=[EX1], bob=[], cy=[EX1])
    (subs / "stray.txt").write_text("x")
    (subs / ".DS_Store").mkdir()
    lines = []
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=2, timeout=7, echo=lines.append)
    assert report.exercises == (EX1,)  # nobody handed in EX2: not part of the assignment
    assert [(s.student, s.status, s.points) for s in report.students] == [
        ("ada", "graded", 3.0), ("bob", "empty", 0.0), ("cy", "graded", 3.0)]
    assert report.graded_now == 3 and report.ok
    assert sorted(in_threads) == [(n, 7, [EX1]) for n in ("ada", "bob", "cy")]
    assert "ignored 1 file(s) beside the student folders: stray.txt" in lines
    assert "grading 3 student(s), 2 at a time" in lines
    assert sorted(l for l in lines if l.startswith("[")) == sorted(
        l for l in lines if l.startswith("[")) and len([l for l in lines if l.startswith("[")]) == 3
    assert any(l.startswith("[") and " ada 3/3 graded (" in l for l in lines)
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text())))
    assert [r[0] for r in rows] == ["student", "ada", "bob", "cy"]
    for s in ("ada", "bob", "cy"):
        assert cg.load_student(tmp_path / "out" / "students" / s).status == report.students[
            ["ada", "bob", "cy"].index(s)].status


def test_the_assignment_given_is_graded_for_everyone(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1])
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=1, exercises=["98_two_exercises", EX2])
    assert report.exercises == (EX2,)
    assert report.students[0].status == "incomplete" and report.students[0].max_points == 5.0


def test_an_unknown_exercise_is_refused_with_the_known_ones(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1])
    with pytest.raises(ValueError, match="'nope' is not one of the course's exercises; give one of: "
                                         "97_cls_exercises, 98_two_exercises"):
        cg.grade_class(subs, tmp_path / "out", source=course, exercises=["nope"])
    assert in_threads == []


def test_a_finished_student_is_not_graded_again_until_the_work_changes(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1])
    out = tmp_path / "out"
    cg.grade_class(subs, out, source=course, workers=1)
    assert len(in_threads) == 2
    lines = []
    again = cg.grade_class(subs, out, source=course, workers=1, echo=lines.append)
    assert len(in_threads) == 2 and again.graded_now == 0
    assert lines == ["[1/2] ada 3/3 graded (graded earlier)", "[2/2] bob 3/3 graded (graded earlier)"]
    (subs / "bob" / "more.txt").write_text("changed")
    third = cg.grade_class(subs, out, source=course, workers=1)
    assert [s for s, _, _ in in_threads[2:]] == ["bob"] and third.graded_now == 1
    cg.grade_class(subs, out, source=course, workers=1, regrade=True)
    assert sorted(s for s, _, _ in in_threads[3:]) == ["ada", "bob"]


def test_a_student_the_grader_failed_on_is_graded_again(tmp_path, course, in_threads, checks):
    subs = _class(tmp_path, ada=[EX1])
    out = tmp_path / "out"
    checks["raise"] = RuntimeError("flaky")
    first = cg.grade_class(subs, out, source=course, workers=1)
    assert first.students[0].status == "error" and not first.ok and first.failed == ("ada",)
    checks["raise"] = None
    second = cg.grade_class(subs, out, source=course, workers=1)
    assert second.students[0].status == "graded" and len(in_threads) == 2


def test_a_crash_grading_one_student_costs_that_student_only(tmp_path, course, monkeypatch, checks):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1])

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        if student == "ada":
            raise OSError("disk full")
        result = cg.grade_student(folder, assignment, student_id=student, source=src)
        import dataclasses
        result = dataclasses.replace(result, fingerprint=fp)
        cg.write_student(out_dir, result, exercises)
        return result

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    lines = []
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=1, echo=lines.append)
    ada, bob = report.students
    assert ada.status == "error" and ada.notes == ("the grader failed: OSError: disk full",) and ada.points == 0
    assert bob.status == "graded" and bob.points == 3
    assert any(l.endswith("ada 0/3 error (0.0 s): the grader failed: OSError: disk full") for l in lines)


def test_a_stopped_run_keeps_the_finished_students_and_writes_the_gradebook(tmp_path, course, monkeypatch, checks):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1])

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        if student == "bob":
            raise KeyboardInterrupt
        result = cg.grade_student(folder, assignment, student_id=student, source=src)
        import dataclasses
        result = dataclasses.replace(result, fingerprint=fp)
        cg.write_student(out_dir, result, exercises)
        return result

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    with pytest.raises(BaseException):
        cg.grade_class(subs, tmp_path / "out", source=course, workers=1)
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text())))
    assert rows[1][0] == "ada" and rows[1][-2] == "graded"
    assert rows[2][0] == "bob" and rows[2][-2] == "not graded"
    assert not (tmp_path / "out" / ".grade-class.lock").exists()


def test_a_report_from_an_earlier_run_is_withdrawn_until_the_student_is_graded_again(tmp_path, course, monkeypatch,
                                                                                   in_threads):
    subs = _class(tmp_path, ada=[EX1])
    out = tmp_path / "out"
    cg.grade_class(subs, out, source=course, workers=1)
    (subs / "ada" / "new.txt").write_text("x")
    seen = []

    def look(folder, student, out_dir, *rest):
        seen.append((out_dir / "report.json").exists())
        return None  # stopped before it finished

    monkeypatch.setattr(cg, "_grade_in_child", look)
    report = cg.grade_class(subs, out, source=course, workers=1)
    assert seen == [False] and report.students[0].status == "" and report.graded_now == 0


@pytest.mark.parametrize("kwargs, words", [
    ({"timeout": 0}, "greater than 0"), ({"timeout": -1}, "greater than 0"),
    ({"timeout": float("inf")}, "finite"), ({"timeout": "5"}, "finite"),
    ({"workers": 0}, "1 or more"), ({"workers": 1.5}, "whole number"), ({"workers": "2"}, "whole number"),
])
def test_bad_options_are_refused(tmp_path, course, in_threads, kwargs, words):
    subs = _class(tmp_path, ada=[EX1])
    with pytest.raises(ValueError, match=words):
        cg.grade_class(subs, tmp_path / "out", source=course, **kwargs)
    assert in_threads == [] and not (tmp_path / "out").exists()


def test_folders_that_are_no_student_id_are_refused_by_name(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1], **{"bad name": [EX1], "-x": [], "a/b".replace("/", "_"): []})
    for i in range(6):
        (subs / f"bad id {i}").mkdir()
    with pytest.raises(ValueError) as err:
        cg.grade_class(subs, tmp_path / "out", source=course)
    msg = str(err.value)
    assert "'-x'" in msg and "'bad id 3'" in msg and msg.count("'") == 10  # the first five, sorted
    assert " ..." in msg and "rename them" in msg and "'ada'" not in msg
    assert in_threads == []


def test_where_there_is_nothing_to_grade_the_run_says_why(tmp_path, course, in_threads):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "file.txt").write_text("")
    with pytest.raises(ValueError, match="holds no student folders"):
        cg.grade_class(empty, tmp_path / "out", source=course)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        cg.grade_class(tmp_path / "absent", tmp_path / "out", source=course)
    subs = _class(tmp_path, ada=[], bob=[])
    with pytest.raises(ValueError, match="no student folder .* holds an exercise notebook"):
        cg.grade_class(subs, tmp_path / "out", source=course)
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(ValueError, match="has no exercises"):
        cg.grade_class(subs, tmp_path / "out", source=bare)
    assert in_threads == []


def test_out_must_not_be_inside_the_submissions_nor_someone_elses_directory(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1])
    with pytest.raises(ValueError, match="inside"):
        cg.grade_class(subs, subs / "results", source=course)
    with pytest.raises(ValueError, match="inside"):
        cg.grade_class(subs, subs, source=course)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        cg.grade_class(subs, tmp_path / "file", source=course)
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("")
    with pytest.raises(ValueError, match="neither empty nor the output"):
        cg.grade_class(subs, other, source=course)
    assert in_threads == []
    earlier = tmp_path / "earlier"
    (earlier / "students").mkdir(parents=True)
    (earlier / "notes.txt").write_text("")
    cg.grade_class(subs, earlier, source=course)  # an earlier run's directory is resumed
    book = tmp_path / "book"
    book.mkdir()
    (book / "gradebook.csv").write_text("")
    cg.grade_class(subs, book, source=course)
    assert len(in_threads) == 2


def test_two_runs_never_write_the_same_out_at_once(tmp_path, course, in_threads):
    import fcntl

    subs = _class(tmp_path, ada=[EX1])
    out = tmp_path / "out"
    (out / "students").mkdir(parents=True)
    fd = os.open(out / ".grade-class.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ValueError, match="another grade-class run is writing"):
            cg.grade_class(subs, out, source=course)
    finally:
        os.close(fd)
    assert in_threads == []


def test_the_child_has_time_for_every_exercise(tmp_path, course, monkeypatch, checks):
    """_grade_in_child's budget: timeout per exercise plus the margin (seen by a stand-in child)."""
    seen = {}

    class Proc:
        pid = None
        exitcode = 0
        sentinel = None

        def __init__(self, target, name, args):
            seen["args"] = args
            seen["name"] = name

        def start(self):
            pass

    class Conn:
        def close(self):
            pass

        def poll(self):
            return False

    class Ctx:
        def Pipe(self, duplex):
            return Conn(), Conn()

        def Process(self, **kw):
            return Proc(**kw)

    monkeypatch.setattr(cg, "_forkserver", lambda: Ctx())
    monkeypatch.setattr(cg, "_wait_child", lambda proc, timeout: True)
    monkeypatch.setattr(cg.os, "killpg", lambda *a: None)
    known = _exercises(course)
    out = tmp_path / "out" / "ada"
    r = cg._grade_in_child(tmp_path / "ada", "ada", out, [known[EX1], known[EX2]], course, 5.0, "fp", known,
                           threading.Event())
    assert seen["name"] == "grade-class ada"
    assert seen["args"][1:] == (str(tmp_path / "ada"), "ada", str(out), [EX1, EX2], str(course), 5.0, "fp")
    assert r.status == "error" and r.notes == ("the grader of this student ended with status 0 without a report",)
    assert cg.load_student(out) == r


def test_default_workers_is_at_least_one(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cg.default_workers() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert cg.default_workers() == 6


# -- the child process and its parent's handling of it ------------------------------------


class _Child:
    """A real process seen through the part of multiprocessing.Process that _wait_child and
    _stop_child use (pid, sentinel, exitcode, join)."""

    def __init__(self, code: str):
        import subprocess
        import sys
        self.popen = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                                      stdout=subprocess.PIPE, text=True)
        self.pid = self.popen.pid
        self.sentinel = os.pidfd_open(self.pid)
        self.joined = False

    @property
    def exitcode(self):
        return self.popen.poll()

    def join(self):
        self.popen.wait()
        self.joined = True

    def close(self):
        import contextlib
        import signal
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()
        self.popen.stdout.close()
        os.close(self.sentinel)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def child():
    made = []

    def make(code):
        made.append(_Child(code))
        return made[-1]
    yield make
    for c in made:
        c.close()


def test_wait_child_says_whether_the_child_ended_and_joins_it(child):
    import time
    proc = child("import sys, time; sys.stdin.close(); time.sleep(0.6)")
    t0 = time.monotonic()
    assert cg._wait_child(proc, 0.1) is False and not proc.joined
    assert time.monotonic() - t0 >= 0.09  # it waited
    assert cg._wait_child(proc, 10) is True and proc.joined and proc.exitcode == 0
    assert time.monotonic() - t0 < 5


def test_stop_child_lets_a_child_clean_up_on_sigterm(child, monkeypatch):
    import time
    monkeypatch.setattr(cg, "_CHILD_GRACE", 30.0)
    proc = child("import signal, sys, time\n"
                 "signal.signal(signal.SIGTERM, lambda *a: (print('cleaned up', flush=True), sys.exit(3)))\n"
                 "print('ready', flush=True)\ntime.sleep(60)")
    assert proc.popen.stdout.readline() == "ready\n"
    t0 = time.monotonic()
    cg._stop_child(proc)
    assert proc.popen.stdout.readline() == "cleaned up\n" and proc.exitcode == 3 and proc.joined
    assert time.monotonic() - t0 < 10  # not the whole grace


def test_stop_child_kills_a_child_that_ignores_sigterm_and_all_it_started(child, monkeypatch):
    """After the grace, SIGKILL to the child's session and to every descendant, even one
    in a session of its own."""
    import time
    monkeypatch.setattr(cg, "_CHILD_GRACE", 0.5)
    proc = child("import os, signal, subprocess, sys, time\n"
                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                 "a = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'], start_new_session=True)\n"
                 "b = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
                 "print(a.pid, b.pid, flush=True)\ntime.sleep(60)")
    kids = [int(x) for x in proc.popen.stdout.readline().split()]
    assert all(_alive(k) for k in kids)
    t0 = time.monotonic()
    cg._stop_child(proc)
    assert proc.exitcode == -9 and proc.joined
    assert time.monotonic() - t0 >= 0.45
    deadline = time.monotonic() + 10
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if _alive(k)]


def test_stop_child_of_a_child_that_is_gone_already(child):
    proc = child("pass")
    proc.popen.wait()
    cg._stop_child(proc)  # no ProcessLookupError
    assert proc.exitcode == 0 and proc.joined


def test_the_childs_signal_handler_raises_keyboardinterrupt_once():
    import signal
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with pytest.raises(KeyboardInterrupt, match="^SIGTERM$"):
            cg._raise_interrupt(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_the_child_dies_with_its_parent():
    """PR_SET_PDEATHSIG with SIGTERM (read back with PR_GET_PDEATHSIG), reset afterwards."""
    import ctypes
    import signal
    libc = ctypes.CDLL(None, use_errno=True)
    got = ctypes.c_int(-1)
    assert libc.prctl(2, ctypes.byref(got), 0, 0, 0) == 0
    before = got.value
    try:
        cg._die_with_parent()
        assert libc.prctl(2, ctypes.byref(got), 0, 0, 0) == 0
        assert got.value == signal.SIGTERM
    finally:
        libc.prctl(1, before, 0, 0, 0)


def test_the_forkserver_preloads_the_grader():
    from multiprocessing import forkserver
    ctx = cg._forkserver()
    assert ctx.get_start_method() == "forkserver"
    assert forkserver._forkserver._preload_modules == ["gorun_kit.course.classgrade"]


class _Conn:
    def __init__(self, fail=None):
        self.sent, self.closed, self.fail = [], False, fail

    def send(self, value):
        if self.fail:
            raise self.fail
        self.sent.append(value)

    def close(self):
        self.closed = True


@pytest.fixture
def in_child(monkeypatch):
    """_child run in this process: what it would do to the process (new session, death signal,
    signal handlers, fds 0-2) is recorded instead of done."""
    import contextlib
    done = {"setsid": 0, "die": 0, "signals": {}, "dup2": []}
    monkeypatch.setattr(cg.os, "setsid", lambda: done.__setitem__("setsid", done["setsid"] + 1))
    monkeypatch.setattr(cg, "_die_with_parent", lambda: done.__setitem__("die", done["die"] + 1))
    monkeypatch.setattr(cg.signal, "signal", lambda sig, h: done["signals"].__setitem__(sig, h))
    monkeypatch.setenv("GORUN_KIT_PROGRESS", "1")
    opened = []
    real_open, real_dup2 = os.open, os.dup2

    def track(path, *a, **k):
        fd = real_open(path, *a, **k)
        opened.append(fd)
        return fd

    def dup2(fd, fd2, *a):  # pytest's own output capture goes on using the real one
        if fd not in opened:
            return real_dup2(fd, fd2, *a)
        done["dup2"].append((os.readlink(f"/proc/self/fd/{fd}"), fd2))
        return fd2
    monkeypatch.setattr(cg.os, "open", track)
    monkeypatch.setattr(cg.os, "dup2", dup2)
    yield done
    for fd in opened:
        with contextlib.suppress(OSError):
            os.close(fd)


def test_the_child_grades_writes_the_report_and_says_ok(tmp_path, course, checks, in_child):
    import signal
    folder = tmp_path / "subs" / "ada"
    _hand_in(folder, EX1)
    out = tmp_path / "out" / "ada"
    conn = _Conn()
    checks["fail"] = {1: "visible failed"}
    cg._child(conn, str(folder), "ada9", str(out), [EX1, EX2], str(course), 7.0, "fp1")
    assert conn.sent == [("ok", "")] and conn.closed
    assert in_child["setsid"] == 1 and in_child["die"] == 1
    assert in_child["signals"] == {signal.SIGTERM: cg._raise_interrupt, signal.SIGINT: cg._raise_interrupt}
    assert in_child["dup2"] == [(os.devnull, 0), (os.devnull, 1), (os.devnull, 2)]
    assert os.environ["GORUN_KIT_PROGRESS"] == "0"
    result = cg.load_student(out)
    assert result.student == "ada9" and result.fingerprint == "fp1" and result.status == "incomplete"
    assert [e.exercise for e in result.exercises] == [EX1, EX2]
    assert result.points == 2 and result.max_points == 8
    assert [kw["timeout"] for kw in checks["calls"]] and all(kw["timeout"] == 7.0 for kw in checks["calls"])
    assert (out / "feedback.md").read_text() == cg.feedback_text(result, _exercises(course))


def test_the_child_says_why_it_failed(tmp_path, course, checks, in_child):
    folder = tmp_path / "ada"
    _hand_in(folder, EX1)
    conn = _Conn()
    cg._child(conn, str(folder), "ada", str(tmp_path / "out"), ["nope.ipynb"], str(course), 7.0, "fp")
    assert conn.sent == [("error", "KeyError: 'nope.ipynb'")] and conn.closed
    assert not (tmp_path / "out").exists()


def test_the_childs_error_is_cut_to_500_characters(tmp_path, course, checks, in_child, monkeypatch):
    monkeypatch.setattr(cg, "grade_student", lambda *a, **k: (_ for _ in ()).throw(OSError("x" * 900)))
    conn = _Conn()
    cg._child(conn, str(tmp_path), "ada", str(tmp_path / "out"), [EX1], str(course), 7.0, "fp")
    assert conn.sent == [("error", ("OSError: " + "x" * 900)[:500])]


def test_a_stopped_child_says_so_and_a_closed_pipe_is_no_error(tmp_path, course, in_child, monkeypatch):
    monkeypatch.setattr(cg, "grade_student", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt("SIGTERM")))
    conn = _Conn()
    cg._child(conn, str(tmp_path), "ada", str(tmp_path / "out"), [EX1], str(course), 7.0, "fp")
    assert conn.sent == [("stopped", "")] and conn.closed
    for exc in (OSError("broken pipe"), ValueError("closed")):
        conn = _Conn(fail=exc)
        cg._child(conn, str(tmp_path), "ada", str(tmp_path / "out"), [EX1], str(course), 7.0, "fp")
        assert conn.closed


class _Clock:
    """cg.time for _grade_in_child: each wait for the child advances it by what was asked."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def stand_in(monkeypatch, tmp_path, course):
    """_grade_in_child with a stand-in child: ``state`` says how it ends (exit code, what it
    says on the pipe, whether it writes its report, after how many waits), and records what
    the parent did to it."""
    state = {"code": 0, "said": ("ok", ""), "report_fp": "fp", "ends_after": 1, "waits": [], "stopped": [],
             "killpg": [], "killpg_raises": None, "wait_raises": None, "start_raises": None, "duplex": [],
             "target": None}
    clock = _Clock()
    monkeypatch.setattr(cg, "time", clock)
    known = _exercises(course)

    class Proc:
        def __init__(self, target, name, args):
            state["target"] = target
            self.args = args
            self.pid = None
            self.exitcode = None
            self.ended = False

        def start(self):
            if state["start_raises"]:
                raise state["start_raises"]
            self.pid = 4242

        def end(self):
            self.ended = True
            self.exitcode = state["code"]

    class Conn:
        def __init__(self):
            self.closed = False

        def close(self):
            self.closed = True

        def poll(self):
            return state["said"] is not None

        def recv(self):
            return state["said"]

    class Ctx:
        def Pipe(self, duplex):
            state["duplex"].append(duplex)
            state["ours"], state["theirs"] = Conn(), Conn()
            return state["ours"], state["theirs"]

        def Process(self, target, name, args):
            state["proc"] = Proc(target, name, args)
            return state["proc"]

    def wait(proc, timeout):
        state["waits"].append((proc, timeout))
        if state["wait_raises"] is not None and timeout != 0:
            exc, state["wait_raises"] = state["wait_raises"], None
            raise exc
        if not proc.ended and timeout:
            clock.now += timeout
            if len(state["waits"]) >= state["ends_after"]:
                if state["report_fp"] is not None:
                    result = cg.grade_student(tmp_path / "none", [known[EX1]], student_id="ada", source=course)
                    import dataclasses
                    cg.write_student(state["out"], dataclasses.replace(result, fingerprint=state["report_fp"]), known)
                proc.end()
        return proc.ended

    def stop(proc):
        state["stopped"].append(proc)
        proc.exitcode = -9
        proc.ended = True

    def killpg(pid, sig):
        state["killpg"].append((pid, sig))
        if state["killpg_raises"]:
            raise state["killpg_raises"]

    monkeypatch.setattr(cg, "_forkserver", lambda: Ctx())
    monkeypatch.setattr(cg, "_wait_child", wait)
    monkeypatch.setattr(cg, "_stop_child", stop)
    monkeypatch.setattr(cg.os, "killpg", killpg)
    state["out"] = tmp_path / "out" / "ada"
    state["clock"] = clock

    def run(exercises=(EX1,), timeout=10.0, stopping=None):
        return cg._grade_in_child(tmp_path / "ada", "ada", state["out"], [known[e] for e in exercises], course,
                                  timeout, "fp", known, stopping or threading.Event())
    state["run"] = run
    return state


def test_a_child_that_finished_gives_its_own_report(stand_in):
    import signal
    r = stand_in["run"]()
    assert r.status == "empty" and r.fingerprint == "fp" and r == cg.load_student(stand_in["out"])
    assert stand_in["target"] is cg._child and stand_in["stopped"] == []
    assert stand_in["waits"] == [(stand_in["proc"], 0.5)]
    assert stand_in["killpg"] == [(4242, signal.SIGKILL)]  # what the child's session left goes with it
    assert stand_in["theirs"].closed and stand_in["ours"].closed


@pytest.mark.parametrize("exc", [ProcessLookupError, PermissionError])
def test_a_child_session_already_gone_is_no_error(stand_in, exc):
    stand_in["killpg_raises"] = exc()
    assert stand_in["run"]().status == "empty"


@pytest.mark.parametrize("change, why", [
    ({"said": ("ok", ""), "code": 1}, "the grader of this student ended with status 1 without a report"),
    ({"said": None, "code": 0}, "the grader of this student ended with status 0 without a report"),
    ({"said": ("ok", "x"), "code": 0}, "the grader of this student ended with status 0 without a report"),
    ({"report_fp": None}, "the grader of this student ended with status 0 without a report"),
    ({"report_fp": "an earlier fingerprint"}, "the grader of this student ended with status 0 without a report"),
    ({"said": ("error", "OSError: disk full"), "code": 0}, "the grader failed: OSError: disk full"),
    ({"said": ("error", "ValueError: x"), "code": 1, "report_fp": None}, "the grader failed: ValueError: x"),
    ({"said": None, "code": -9, "report_fp": None}, "the grader of this student was killed by SIGKILL"),
    ({"said": ("stopped", ""), "code": -15}, "the grader of this student was killed by SIGTERM"),
])
def test_a_child_that_did_not_say_ok_with_its_report_costs_the_student_an_error(stand_in, change, why, course):
    import datetime
    stand_in.update(change)
    r = stand_in["run"](exercises=(EX1, EX2))
    assert r.status == "error" and r.notes == (why,) and r.fingerprint == "fp" and r.student == "ada"
    assert r.points == 0 and r.max_points == 8 and r.seconds == 0.0
    assert [(e.exercise, e.notebook, e.note) for e in r.exercises] == [
        (EX1, "", "the grader failed; your teacher has been told"),
        (EX2, "", "the grader failed; your teacher has been told")]
    at = datetime.datetime.fromisoformat(r.graded_at)
    assert at.tzinfo is not None and abs((datetime.datetime.now(datetime.timezone.utc) - at).total_seconds()) < 60
    assert cg.load_student(stand_in["out"]) == r  # written: the student gets feedback, the next run regrades
    assert "could not be graded completely" in (stand_in["out"] / "feedback.md").read_text()


@pytest.mark.parametrize("exercises, budget", [((EX1,), 130), ((EX1, EX2), 140)])
def test_a_child_that_overruns_its_budget_is_stopped(stand_in, exercises, budget):
    """Budget: the timeout per exercise plus a margin; the child is polled every half second."""
    stand_in["ends_after"] = 10 ** 9
    stand_in["report_fp"] = None
    r = stand_in["run"](exercises=exercises)
    assert stand_in["stopped"] == [stand_in["proc"]]
    waits = stand_in["waits"]
    assert all(w == (stand_in["proc"], 0.5) for w in waits)
    # stopped once the clock is past the deadline (not at it), then seen to have ended
    assert len(waits) == 2 * budget + 2
    assert r.status == "error" and r.notes == (f"the grader of this student did not finish within {budget} s",)


def test_a_stopping_run_stops_the_child_and_gives_no_result(stand_in):
    stand_in["ends_after"] = 10 ** 9
    stopping = threading.Event()
    stopping.set()
    assert stand_in["run"](stopping=stopping) is None
    assert stand_in["stopped"] == [stand_in["proc"]] and len(stand_in["waits"]) == 1
    assert not stand_in["out"].exists() and stand_in["ours"].closed


def test_an_interrupted_parent_stops_a_running_child_and_goes_on_with_the_interrupt(stand_in):
    stand_in["wait_raises"] = KeyboardInterrupt()
    stand_in["ends_after"] = 10 ** 9
    with pytest.raises(KeyboardInterrupt):
        stand_in["run"]()
    proc = stand_in["proc"]
    assert stand_in["waits"] == [(proc, 0.5), (proc, 0)] and stand_in["stopped"] == [proc]
    assert stand_in["ours"].closed


def test_an_interrupted_parent_leaves_a_child_that_ended_alone(stand_in, monkeypatch):
    stand_in["wait_raises"] = KeyboardInterrupt()
    stand_in["ends_after"] = 10 ** 9

    real = cg._wait_child

    def wait(proc, timeout):
        proc.ended = proc.ended or timeout == 0  # it ended meanwhile
        return real(proc, timeout)
    monkeypatch.setattr(cg, "_wait_child", wait)
    with pytest.raises(KeyboardInterrupt):
        stand_in["run"]()
    assert stand_in["stopped"] == []


def test_a_child_that_did_not_start_is_not_waited_for(stand_in):
    stand_in["start_raises"] = OSError("no fork")
    with pytest.raises(OSError):
        stand_in["run"]()
    assert stand_in["waits"] == [] and stand_in["stopped"] == [] and stand_in["ours"].closed


# -- records and the gradebook: what the survivors of the first measurement asked -----------


def test_load_student_of_a_minimal_record_has_no_exercises_notes_or_checks(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"student": "ada", "status": "empty"}))
    assert cg.load_student(tmp_path) == cg.StudentResult("ada", "empty", ())
    (tmp_path / "report.json").write_text(json.dumps({"student": "ada", "status": "error", "exercises": [
        {"notebook": "", "exercise": EX1}]}))
    assert cg.load_student(tmp_path) == cg.StudentResult("ada", "error", (ExerciseResult("", EX1, ()),))


def test_the_fingerprint_of_names_that_are_not_utf8(tmp_path, course):
    """A file or a link named (or pointing) in another encoding is still part of the work."""
    folder = tmp_path / "ada"
    folder.mkdir()
    known = list(_exercises(course).values())
    os.symlink(b"caf\xe9", os.path.join(os.fsencode(folder), b"l\xe9"))
    first = cg.fingerprint(folder, known)
    (folder / "caf\udce9").write_bytes(b"x")  # the link's target, named in Latin-1
    second = cg.fingerprint(folder, known)
    assert first != second
    (folder / "caf\udce9").write_bytes(b"y")
    assert cg.fingerprint(folder, known) not in (first, second)


def test_the_gradebook_text_and_its_columns(course):
    done = cg.StudentResult("cy", "graded", (ExerciseResult("x", "plain", (CellResult("c", 1.0, 1.0, "passed"),)),))
    report = cg.ClassReport("out", ("plain",), (cg.StudentResult("bob", "", ()), done), 1, 0.0)
    assert cg.gradebook_csv(report) == ("student,plain,total,max,status,notes\n"
                                        "bob,,,,not graded,the run was stopped first\n"
                                        "cy,1,1,1,graded,\n")


def test_the_assignment_is_every_exercise_any_student_handed_in(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1], bob=[EX2], cy=[])
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=1)
    assert report.exercises == (EX1, EX2)
    assert [(s.student, s.status, s.points, s.max_points) for s in report.students] == [
        ("ada", "incomplete", 3.0, 8.0), ("bob", "incomplete", 5.0, 8.0), ("cy", "empty", 0.0, 8.0)]


def test_a_resumed_student_keeps_the_earlier_result_in_the_report_and_gradebook(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1])
    out = tmp_path / "out"
    first = cg.grade_class(subs, out, source=course, workers=1)
    (subs / "bob" / "more.txt").write_text("changed")
    again = cg.grade_class(subs, out, source=course, workers=1)
    assert again.students[0] == first.students[0] and again.graded_now == 1
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    assert rows[1] == ["ada", "3", "3", "3", "graded", ""]
    assert sorted(os.listdir(out)) == ["gradebook.csv", "students"]  # no lock, no temporary


def test_at_most_workers_students_at_a_time_each_in_a_grader_thread(tmp_path, course, monkeypatch, checks):
    import time
    subs = _class(tmp_path, ada=[EX1], bob=[EX1], cy=[EX1], dan=[EX1])
    lock, now, most, names = threading.Lock(), [0], [0], []

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
            names.append(threading.current_thread().name)
        time.sleep(0.15)
        with lock:
            now[0] -= 1
        return cg.StudentResult(student, "graded", (), fingerprint=fp)

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    lines = []
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=2, echo=lines.append)
    assert most[0] == 2 and report.graded_now == 4
    assert all(n.startswith("grade-class") for n in names)
    times = [float(l.rsplit("(", 1)[1].split()[0]) for l in lines if l.startswith("[")]
    assert len(times) == 4 and all(0.1 <= t < 30 for t in times)


def test_an_interrupt_tells_the_students_being_graded_to_stop(tmp_path, course, monkeypatch, checks):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1])
    bob_started, told = threading.Event(), []

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        if student == "ada":
            assert bob_started.wait(10)
            raise KeyboardInterrupt
        bob_started.set()
        told.append(stopping.wait(10))
        return None

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    with pytest.raises(KeyboardInterrupt):
        cg.grade_class(subs, tmp_path / "out", source=course, workers=2)
    assert told == [True]


def test_without_source_the_installed_course_is_graded(tmp_path, course, in_threads, monkeypatch):
    monkeypatch.setattr(cg.layout, "course_root", lambda: course)
    subs = _class(tmp_path, ada=[EX1])
    report = cg.grade_class(subs, tmp_path / "a" / "b" / "out", workers=1, timeout=0.5)
    assert report.students[0].status == "graded" and in_threads == [("ada", 0.5, [EX1])]


@pytest.mark.parametrize("count", [5, 6])
def test_at_most_five_stray_files_and_bad_folders_are_named(tmp_path, course, in_threads, count):
    subs = _class(tmp_path, ada=[EX1])
    for i in range(count):
        (subs / f"stray{i}.txt").write_text("")
    lines = []
    cg.grade_class(subs, tmp_path / "out", source=course, workers=1, echo=lines.append)
    more = " ..." if count > 5 else ""
    assert f"ignored {count} file(s) beside the student folders: " \
           f"stray0.txt, stray1.txt, stray2.txt, stray3.txt, stray4.txt{more}" in lines
    for i in range(count):
        (subs / f"bad {i}").mkdir()
    with pytest.raises(ValueError) as err:
        cg.grade_class(subs, tmp_path / "out2", source=course)
    assert str(err.value) == (f"student folder(s) under {subs} not named by a student id: "
                              "'bad 0', 'bad 1', 'bad 2', 'bad 3', 'bad 4'" + more +
                              "; rename them (1-100 letters, digits and . _ @ + -, starting with a letter or digit)")


def test_the_refusals_of_out_say_what_to_do(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1])
    with pytest.raises(ValueError) as err:
        cg.grade_class(subs, subs / "results", source=course)
    assert str(err.value).endswith("where it would be taken for a student's folder; write the results somewhere else")
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("")
    with pytest.raises(ValueError) as err:
        cg.grade_class(subs, other, source=course)
    assert str(err.value) == (f"{other} is neither empty nor the output of an earlier grade-class run; "
                              "give a new directory (an earlier run's directory is resumed)")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError) as err:
        cg.grade_class(empty, tmp_path / "out", source=course)
    assert str(err.value) == (f"{empty} holds no student folders; put each student's work in a folder "
                              "named by the student's id")


def test_the_records_are_written_for_reading(tmp_path, course, checks):
    result, known = _result(course, checks, tmp_path, {})
    out = tmp_path / "out"
    cg.write_student(out, result, known)
    for name in ("report.json", "results.json"):
        text = (out / name).read_text()
        assert text.startswith("{\n  \"") and text.endswith("\n}\n")


def test_a_write_that_fails_before_the_temporary_exists_raises_its_own_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        cg._write_atomic(tmp_path / "absent" / "report.json", "x")


@pytest.mark.parametrize("first", ["missing", "link", "unreadable", "refused", "grader failed", "markup"])
def test_an_exercise_that_is_not_graded_does_not_stop_the_next_one(tmp_path, course, checks, monkeypatch, first):
    """Who is graded on what: whatever happens to the first exercise, the second is graded."""
    known = _exercises(course)
    folder = tmp_path / "ada"
    d = _hand_in(folder, EX2)
    if first == "link":
        (d / EX1).symlink_to(course / "notebooks" / "exercises" / EX1)
    elif first == "unreadable":
        (d / EX1).write_text("{ not json")
    elif first in ("refused", "grader failed", "markup"):
        _hand_in(folder, EX1)
        real = cg.grade_notebook

        def grade(nb, **kw):
            if Path(nb).name == EX1:
                raise {"refused": ValueError("refused"), "markup": cg.MarkupError("bad points"),
                       "grader failed": RuntimeError("broken")}[first]
            return real(nb, **kw)
        monkeypatch.setattr(cg, "grade_notebook", grade)
    r = cg.grade_student(folder, [known[EX1], known[EX2]], source=course)
    assert [e.exercise for e in r.exercises] == [EX1, EX2]
    assert r.by_exercise()[EX2].points == 5 and r.points == 5
    assert r.status == ("error" if first in ("grader failed", "markup") else "incomplete")
    assert len(r.notes) == 1 and r.notes[0].startswith("97_cls_exercises: ")
    ex1 = r.by_exercise()[EX1]
    assert ex1.notebook == ("" if first in ("missing", "link") else f"notebooks/exercises/{EX1}")
    note = {"missing": "not handed in", "refused": "not graded: refused",
            "grader failed": "the grader failed on this exercise; your teacher has been told",
            "markup": "the grader failed on this exercise; your teacher has been told"}
    if first == "markup":
        assert r.notes == ("97_cls_exercises: the grader failed: bad points",)
    if first in note:
        assert ex1.note == note[first]
        assert [c.detail for c in ex1.cells] == [note[first], note[first], "graded by hand"]


def test_without_source_the_student_is_graded_on_the_installed_course(tmp_path, course, checks, monkeypatch):
    monkeypatch.setattr(cg.layout, "course_root", lambda: course)
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    r = cg.grade_student(folder, [known[EX2]], timeout=3.5)
    assert r.status == "graded" and r.fingerprint == "" and [c["timeout"] for c in checks["calls"]] == [3.5]
    assert 0 <= r.seconds < 60 and r.seconds == round(r.seconds, 3)


@pytest.mark.parametrize("message, shown", [("", "ValueError"), ("  \n", "ValueError"),
                                            ("x" * 300 + "\nsecond line", "x" * 200),
                                            ("first\nsecond", "first")])
def test_why_a_notebook_is_unreadable_is_one_short_line(tmp_path, monkeypatch, message, shown):
    def read(nb, as_version):
        raise ValueError(message)
    monkeypatch.setattr(cg.nbformat, "read", read)
    assert cg._unreadable(tmp_path / "x.ipynb") == (f"not a readable notebook ({shown}); "
                                                    "restore it from the release and copy your answers back")


def test_only_long_lines_inside_the_hidden_region_are_hidden_lines():
    source = ("visible_line_that_is_long = 1\n### BEGIN HIDDEN TESTS\n  exactly_12ch\n  eleven_char\n"
              "### END HIDDEN TESTS\nanother_visible_long_line = 2\n")
    assert cg._hidden_region_lines(source) == ["exactly_12ch"]


def test_hidden_files_are_not_the_students_work(tmp_path, course):
    folder = tmp_path / "ada"
    _hand_in(folder, EX1)
    known = list(_exercises(course).values())
    before = cg.fingerprint(folder, known)
    (folder / ".DS_Store").write_text("x")
    (folder / "notebooks" / ".x.ipynb").write_text("{}")
    assert cg.fingerprint(folder, known) == before
    (folder / "a.ipynb").write_text("{}")
    (folder / "b.ipynb").write_text("{}")
    _, _, notes = cg.find_notebooks(folder, [EX1])
    assert notes == ["ignored (not named like any exercise): a.ipynb, b.ipynb"]


def test_grading_time_is_in_seconds_to_the_millisecond(tmp_path, course, checks, monkeypatch):
    class Clock:
        now = 100.0

        def monotonic(self):
            Clock.now += 0.6172839
            return Clock.now
    monkeypatch.setattr(cg, "time", Clock())
    known = _exercises(course)
    folder = tmp_path / "ada"
    _hand_in(folder, EX2)
    r = cg.grade_student(folder, [known[EX2]], source=course)
    assert r.seconds == 0.617


def test_every_hidden_test_cell_hides_its_lines_and_defaults_of_a_graded_cell(tmp_path):
    src = tmp_path / "course"
    (src / "notebooks" / "exercises").mkdir(parents=True)
    second = "assert other_secret_helper(42) == 'the second hidden check'"
    nb = nbformat.v4.new_notebook(cells=[
        _code("x = 1", "x", solution=True),
        _code("assert x\n### BEGIN HIDDEN TESTS\n" + HIDDEN_LINE + "\n### END HIDDEN TESTS", "h1",
              grade=True, locked=True, points=1),
        _code("assert x\n### BEGIN HIDDEN TESTS\n" + second + "\n### END HIDDEN TESTS", "h2",
              grade=True, locked=True, points=1),
    ])
    nbformat.write(nb, src / "notebooks" / "exercises" / EX2)
    ex = cg.course_exercises(src)[EX2]
    assert ex.hidden == ("h1", "h2") and ex.hidden_lines == (HIDDEN_LINE, second)
    del nb.cells[2].metadata["nbgrader"]["points"]
    del nb.cells[1].metadata["nbgrader"]["grade_id"]
    nbformat.write(nb, src / "notebooks" / "exercises" / EX2)
    assert cg.course_exercises(src)[EX2].cells == (("", 1.0, True), ("h2", 0.0, True))


def test_a_detail_keeps_its_last_letters(course):
    known = _exercises(course)
    r = cg.StudentResult("ada", "graded", (ExerciseResult("x", EX2, (
        CellResult("t_x", 0.0, 5.0, "failed", "AssertionError: want MAX"),)),))
    assert "\n  AssertionError: want MAX\n" in cg.feedback_text(r, known)
    assert cg.gradescope_results(r, known)["tests"][0]["output"] == "AssertionError: want MAX"


def test_gradescope_names_checks_by_stem_and_says_nothing_of_a_passed_one(course):
    r = cg.StudentResult("ada", "graded", (ExerciseResult("x", "plain", (
        CellResult("c", 1.0, 1.0, "passed", "some output"), CellResult("d", 0.0, 1.0, "failed", "no"))),))
    tests = cg.gradescope_results(r, {})["tests"]
    assert [(t["name"], t["output"], t["status"]) for t in tests] == [("plain: c", "", "passed"),
                                                                      ("plain: d", "no", "failed")]


def test_the_whole_feedback_of_a_failed_grader_with_hidden_checks(course):
    known = _exercises(course)
    r = cg.StudentResult("ada", "error", (
        ExerciseResult(f"notebooks/exercises/{EX1}", EX1, (
            CellResult("t_visible", 1.0, 1.0, "passed", ""),
            CellResult("t_hidden", 0.0, 2.0, "failed", "AssertionError: " + HIDDEN_LINE),
            CellResult("essay", 0.0, 3.0, "manual", "graded by hand")), "a note"),
        ExerciseResult("", "plain", (CellResult("c", 0.0, 1.0, "not run", "not handed in"),), "not handed in")),
        ("97_cls_exercises: something", "the grader failed: boom"))
    assert cg.feedback_text(r, known) == (
        "# Feedback for ada\n"
        "\n"
        "Your work could not be graded completely because the grader failed (not because of your work).\n"
        "Your teacher has been told; it will be graded again.\n"
        "\n"
        "**Total: 1/4**\n"
        "\n"
        "Some checks include hidden tests, which are not in your copy of the exercise: passing the visible part "
        "does not guarantee their points. Their code is not shown here, only what they reported.\n"
        "\n"
        "## 97_cls_exercises: 1/3\n"
        "\n"
        f"Graded: `notebooks/exercises/{EX1}`\n"
        "Note: a note\n"
        "\n"
        "- `t_visible`: passed, 1/1\n"
        "- `t_hidden` (includes hidden tests): failed, 0/2  \n"
        "  AssertionError: [hidden test code]\n"
        "- `essay`: manual, 0/3  \n"
        "  graded by hand\n"
        "\n"
        "## plain: 0/1\n"
        "\n"
        "Note: not handed in\n"
        "\n"
        "- `c`: not run, 0/1\n"
        "\n"
        "## Also\n"
        "\n"
        "- the grader failed: boom\n")  # the other note belongs to an exercise
    done = cg.StudentResult("bob", "graded", (ExerciseResult("nb", "plain", (CellResult("c", 1, 1, "passed"),)),))
    assert cg.feedback_text(done, known) == ("# Feedback for bob\n\n**Total: 1/1**\n\n## plain: 1/1\n\n"
                                             "Graded: `nb`\n\n- `c`: passed, 1/1\n")


def test_stop_child_when_what_it_kills_is_gone_or_not_ours(monkeypatch):
    import signal
    from gorun_kit import sessions
    waits, kills = [], []

    class Proc:
        pid = 4242

    def wait(proc, timeout):
        waits.append(timeout)
        return timeout is None

    def kill(pid, sig):
        kills.append((pid, sig))
        raise ProcessLookupError

    def killpg(pid, sig):
        kills.append(("pg", pid, sig))
        raise PermissionError

    monkeypatch.setattr(cg, "_wait_child", wait)
    monkeypatch.setattr(sessions, "descendants", lambda pid: [5, 6])
    monkeypatch.setattr(cg.os, "kill", kill)
    monkeypatch.setattr(cg.os, "killpg", killpg)
    cg._stop_child(Proc())
    assert waits == [cg._CHILD_GRACE, None]
    assert kills == [(4242, signal.SIGTERM), (5, signal.SIGKILL), (6, signal.SIGKILL), ("pg", 4242, signal.SIGKILL)]


@pytest.mark.parametrize("libc", ["missing", "no prctl"])
def test_the_death_signal_is_skipped_where_libc_cannot_set_it(monkeypatch, libc):
    import ctypes

    def cdll(name, use_errno=False):
        if libc == "missing":
            raise OSError("no libc")
        return object()
    monkeypatch.setattr(ctypes, "CDLL", cdll)
    cg._die_with_parent()  # no error


def test_the_child_does_not_call_the_other_exercises_ignored(tmp_path, course, checks, in_child):
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, EX2)
    out = tmp_path / "out"
    conn = _Conn()
    cg._child(conn, str(folder), "ada", str(out), [EX1], str(course), 7.0, "fp")
    assert conn.sent == [("ok", "")] and cg.load_student(out).notes == ()


def test_an_interrupt_cancels_the_students_not_started_and_keeps_one_that_finished(tmp_path, course, monkeypatch,
                                                                                 checks):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1], cy=[EX1], dan=[EX1])
    seen = []

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        seen.append(student)
        if student == "ada":
            raise KeyboardInterrupt
        assert stopping.wait(10)  # bob finishes only once the run is stopping
        result = cg.StudentResult(student, "graded", (), fingerprint=fp)
        cg.write_student(out_dir, result, exercises)
        return result

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    with pytest.raises(KeyboardInterrupt):
        cg.grade_class(subs, tmp_path / "out", source=course, workers=2)
    assert "dan" not in seen  # never started (cy may have taken ada's place before the run saw the interrupt)
    rows = {r[0]: r for r in csv.reader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text()))}
    assert rows["bob"][-2] == "graded" and rows["dan"][-2] == "not graded" and rows["ada"][-2] == "not graded"


def test_the_run_counts_students_as_they_finish_and_reports_where_and_how_long(tmp_path, course, in_threads):
    subs = _class(tmp_path, ada=[EX1], bob=[EX1], cy=[EX1])
    out = tmp_path / "out"
    cg.grade_class(subs, out, source=course, workers=1)
    (subs / "cy" / "more.txt").write_text("x")
    (subs / "dan").mkdir()
    _hand_in(subs / "dan", EX1)
    lines = []
    report = cg.grade_class(subs, out, source=course, workers=1, echo=lines.append)
    assert [l.split()[0] + " " + l.split()[1] for l in lines if l.startswith("[")] == [
        "[1/4] ada", "[2/4] bob", "[3/4] cy", "[4/4] dan"]
    assert report.out_dir == str(out) and report.graded_now == 2
    assert isinstance(report.seconds, float) and 0 <= report.seconds < 60
    assert report.seconds == round(report.seconds, 3)


def test_a_crashed_students_result_has_no_fingerprint(tmp_path, course, monkeypatch, checks):
    subs = _class(tmp_path, ada=[EX1])

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(cg, "_grade_in_child", crash)
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=1)
    assert report.students[0].fingerprint == "" and report.students[0].status == "error"


def test_of_two_copies_equally_deep_the_first_by_path_is_graded(tmp_path):
    folder = tmp_path / "ada"
    _hand_in(folder, EX1, where=("a", "b"))
    _hand_in(folder, EX1, where=("a-b", "c"))  # walked after a/, but "a-b/" sorts before "a/"
    chosen, _, notes = cg.find_notebooks(folder, [EX1])
    assert chosen == {EX1: folder / "a-b" / "c" / EX1}
    assert notes == [f"ignored a/b/{EX1}: graded the copy in a-b/c/{EX1}"]


def test_feedback_of_a_passed_check_says_nothing_more(course):
    r = cg.StudentResult("ada", "graded", (
        ExerciseResult("nb", "plain", (CellResult("c", 1.0, 1.0, "passed", "printed something"),)),))
    assert cg.feedback_text(r, {}) == ("# Feedback for ada\n\n**Total: 1/1**\n\n## plain: 1/1\n\nGraded: `nb`\n\n"
                                       "- `c`: passed, 1/1\n")


def test_students_who_finish_in_the_same_poll_are_reported_each_in_name_order(tmp_path, course, monkeypatch, checks):
    import concurrent.futures as cf
    subs = _class(tmp_path, ada=[EX1], bob=[EX1], cy=[EX1])
    real_wait = cf.wait

    def wait_for_all(fs, timeout=None, return_when=cf.ALL_COMPLETED):
        return real_wait(fs, timeout=10, return_when=cf.ALL_COMPLETED)

    def grade_here(folder, student, out_dir, assignment, src, timeout, fp, exercises, stopping):
        if student == "ada":
            return None  # stopped
        result = cg.StudentResult(student, "graded", (), fingerprint=fp)
        cg.write_student(out_dir, result, exercises)
        return result

    monkeypatch.setattr(cg, "_grade_in_child", grade_here)
    monkeypatch.setattr(cg.concurrent.futures, "wait", wait_for_all)
    lines = []
    report = cg.grade_class(subs, tmp_path / "out", source=course, workers=3, echo=lines.append)
    assert [l.split(" (")[0] for l in lines if l.startswith("[")] == ["[1/3] bob 0/0 graded", "[2/3] cy 0/0 graded"]
    assert report.graded_now == 2
