"""Every check of every exercise can fail and can pass (the course's own exercises).

For each notebook in notebooks/exercises/ (found at collection time; none is
skipped): the instructor's solution earns every point, and the committed
student release (release/, kept current by test_course_release.py) earns
zero on every graded cell -- so no check passes without the student's work.
This is `make grade` on the solutions and on the release, per exercise.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gorun_kit.course import layout
from gorun_kit.course.grade import grade_notebook

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = layout.exercise_notebooks(ROOT)


def test_the_course_has_exercises():
    assert EXERCISES, "no exercise notebooks in notebooks/exercises/"


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_solution_full_marks_release_zero(exercise):
    solved = grade_notebook(exercise, source=ROOT)
    assert solved.max_points > 0, f"{exercise.name} has no graded cells"
    lost = [c for c in solved.cells if c.status != "passed"]
    assert not lost, f"the solution of {exercise.name} loses points: {lost} {solved.note}"

    student = ROOT / layout.RELEASE_DIR / "notebooks" / "exercises" / exercise.name
    assert student.is_file(), f"{student} missing: run `gorun-kit course release release`"
    untouched = grade_notebook(student, source=ROOT)
    assert [c.grade_id for c in untouched.cells] == [c.grade_id for c in solved.cells]
    free = [c for c in untouched.cells if c.points != 0]
    assert not free, f"checks of {exercise.name} pass on the untouched student copy: {free}"
    assert untouched.points == 0 and untouched.max_points == solved.max_points
