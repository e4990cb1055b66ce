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

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = layout.exercise_notebooks(ROOT)


def test_the_course_has_exercises():
    assert EXERCISES, "no exercise notebooks in notebooks/exercises/"


def _cells(report: dict, name: str) -> list[dict]:
    found = [e for e in report["exercises"] if e["exercise"] == name]
    assert len(found) == 1, f"{name} graded {len(found)} times"
    return found[0]["cells"]


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_solution_full_marks_release_zero(exercise, course_grades):
    """Read from one grading of the whole course (tests/conftest.py: course_grades),
    which tests/test_course_nbgrader.py compares with real nbgrader."""
    solved = _cells(course_grades["solutions"][1], exercise.name)
    assert sum(c["max_points"] for c in solved) > 0, f"{exercise.name} has no graded cells"
    lost = [c for c in solved if c["status"] != "passed"]
    assert not lost, f"the solution of {exercise.name} loses points: {lost}"

    student = ROOT / layout.RELEASE_DIR / "notebooks" / "exercises" / exercise.name
    assert student.is_file(), f"{student} missing: run `gorun-kit course release release`"
    untouched = _cells(course_grades["untouched"][1], exercise.name)
    assert [c["grade_id"] for c in untouched] == [c["grade_id"] for c in solved]
    free = [c for c in untouched if c["points"] != 0]
    assert not free, f"checks of {exercise.name} pass on the untouched student copy: {free}"
    assert [c["max_points"] for c in untouched] == [c["max_points"] for c in solved]
