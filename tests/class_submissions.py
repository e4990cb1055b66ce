"""A generated class: 30 student folders for ``gorun-kit course grade-class``,
with the gradebook row each one must get.

Built on the fixture course (tests/fixtures/course), exercise
91_fixture_py_exercises: every folder starts as that course's student
release, and the answer cell is filled in -- with the instructor's solution
(correct), with wrong answers of several kinds, or the folder is damaged
(a notebook that is not JSON, a link to the solutions, nothing handed in,
a misnamed notebook, two copies of one).
With ``hostile=True`` a few students' code also attacks the grader (an
endless loop, killing its parent, a daemon left running, a fork bomb).

The expected points are derived from the instructor's notebook (its graded
cells and which of them hold hidden tests), not written down: a correct
answer gets every point, an answer that passes only the visible checks gets
the points of the cells without hidden tests, a wrong one gets none.
Used by tests/test_course_grade_class.py and benchmarks/grade_class.py.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import nbformat

from gorun_kit.course.markup import has_marker, nbgrader_meta
from gorun_kit.course.release import release

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"
EXERCISE = "91_fixture_py_exercises.ipynb"
ANSWER = "count_vowels"  # the grade_id of the answer cell

WRONG = "def count_vowels(s):\n    return 0\n"
# right for every non-empty string (the visible checks), wrong for '' (a hidden one)
VISIBLE_ONLY = "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s) if s else None\n"
SYNTAX_ERROR = "def count_vowels(s)\n    return sum(ch in 'aeiouAEIOU' for ch in s)\n"
# attacks on the grader (hostile=True only: they need the sandbox)
ENDLESS = "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s)\n\nwhile True:\n    pass\n"
KILL_PARENT = (WRONG + "import os\nfor pid in (os.getppid(), 1, -1):\n    try:\n        os.kill(pid, 9)\n"
               "    except OSError:\n        pass\n")
DAEMON_SLEEP = "86398.75"  # seconds: an argument no other process has, to look for after grading
DAEMON = ("import subprocess\n"
          f"subprocess.Popen(['setsid', 'sleep', '{DAEMON_SLEEP}'])\n\n"
          "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s)\n")
FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"


@dataclasses.dataclass(frozen=True)
class Expected:
    points: float
    status: str  # graded | incomplete | empty
    note: str = ""  # a piece of the gradebook's notes ("" when they must be empty)


def _points(source: Path) -> tuple[float, float]:
    """(every point of the exercise, the points of its checks without hidden tests)."""
    nb = nbformat.read(source / "notebooks" / "exercises" / EXERCISE, as_version=4)
    full = visible = 0.0
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.cell_type == "code":
            full += meta["points"]
            if not has_marker(cell.source, "hidden"):
                visible += meta["points"]
    return full, visible


def solution(source: Path) -> str:
    """The instructor's answer cell without its solution markers."""
    nb = nbformat.read(source / "notebooks" / "exercises" / EXERCISE, as_version=4)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == ANSWER)
    return "\n".join(line for line in cell.source.split("\n")
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def _answered(student_copy: Path, answer: str | None, *, drop_checks: bool = False) -> nbformat.NotebookNode:
    nb = nbformat.read(student_copy, as_version=4)
    for cell in nb.cells:
        if answer is not None and nbgrader_meta(cell).get("grade_id") == ANSWER:
            cell.source = answer
    if drop_checks:  # a student who deletes the checks (the grader puts them back)
        nb.cells = [c for c in nb.cells if not nbgrader_meta(c).get("grade")]
    return nb


def make_class(dest: Path, *, source: Path = FIXTURE, hostile: bool = False) -> dict[str, Expected]:
    """Write 30 student folders into ``dest``; return each one's expected gradebook row."""
    full, visible = _points(source)
    released = dest.parent / f".{dest.name}-release"
    release(released, source=source)
    student_nb = released / "notebooks" / "exercises" / EXERCISE
    instructor_nb = source / "notebooks" / "exercises" / EXERCISE
    correct = solution(source)
    dest.mkdir(parents=True)
    expected: dict[str, Expected] = {}

    def tree(student: str, answer: str | None, **kw) -> Path:
        """A copy of the whole student release with the answer filled in."""
        root = dest / student
        shutil.copytree(released, root, ignore=shutil.ignore_patterns("README.md"))
        nbformat.write(_answered(student_nb, answer, **kw), root / "notebooks" / "exercises" / EXERCISE)
        return root

    def plain(student: str, answer: str | None, where: str = "", name: str = EXERCISE) -> Path:
        """Just the notebook, at the top of the folder or in a subfolder."""
        folder = dest / student / where
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(_answered(student_nb, answer), folder / name)
        return folder / name

    correct_ids = [f"correct{n:02d}" for n in range(1, 11)]
    wrong_ids = [f"wrong{n}" for n in range(1, 4)]
    if hostile:  # four of the ordinary students become attackers
        correct_ids, wrong_ids = correct_ids[:7], wrong_ids[:2]
        tree("hostile-endless", ENDLESS)
        expected["hostile-endless"] = Expected(0.0, "graded")
        tree("hostile-killparent", KILL_PARENT)
        expected["hostile-killparent"] = Expected(0.0, "graded")
        tree("hostile-daemon", DAEMON)
        expected["hostile-daemon"] = Expected(full, "graded")
        tree("hostile-forkbomb", FORK_BOMB)
        expected["hostile-forkbomb"] = Expected(0.0, "graded")
    for sid in correct_ids:
        tree(sid, correct)
        expected[sid] = Expected(full, "graded")
    for sid in wrong_ids:
        tree(sid, WRONG)
        expected[sid] = Expected(0.0, "graded")
    for sid in ("visibleonly1", "visibleonly2"):
        tree(sid, VISIBLE_ONLY)
        expected[sid] = Expected(visible, "graded")
    for sid in ("untouched1", "untouched2"):  # the release as handed out: NotImplementedError
        tree(sid, None)
        expected[sid] = Expected(0.0, "graded")
    tree("syntax-error", SYNTAX_ERROR)
    expected["syntax-error"] = Expected(0.0, "graded")
    tree("deleted-checks", WRONG, drop_checks=True)
    expected["deleted-checks"] = Expected(0.0, "graded")
    for sid in ("plain1", "plain2"):
        plain(sid, correct)
        expected[sid] = Expected(full, "graded")
    plain("nested", correct, where="handin/week2")
    expected["nested"] = Expected(full, "graded")
    for sid, text in (("broken-text", "this is not a notebook\n"), ("broken-json", json.dumps({"cells": 3}))):
        (dest / sid).mkdir()
        (dest / sid / EXERCISE).write_text(text)
        expected[sid] = Expected(0.0, "incomplete", "not a readable notebook")
    for sid in ("empty1", "empty2"):
        (dest / sid).mkdir()
        expected[sid] = Expected(0.0, "empty", "not handed in")
    plain("misnamed", correct, name=EXERCISE.replace(".ipynb", " (1).ipynb"))
    expected["misnamed"] = Expected(0.0, "empty", "not named like any exercise")
    (dest / "symlink").mkdir()
    (dest / "symlink" / EXERCISE).symlink_to(instructor_nb.resolve())  # the solutions, if followed
    expected["symlink"] = Expected(0.0, "incomplete", "symbolic link")
    tree("duplicate", correct)
    plain("duplicate", WRONG)  # a second copy at the top: the release's place wins
    expected["duplicate"] = Expected(full, "graded", "graded the copy in")
    tree("extra", correct)
    nbformat.write(nbformat.v4.new_notebook(), dest / "extra" / "scratch.ipynb")
    expected["extra"] = Expected(full, "graded", "scratch.ipynb")
    shutil.rmtree(released)
    assert len(expected) == 30, len(expected)
    return expected
