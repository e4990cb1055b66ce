"""Real nbgrader on the exported course gives what `gorun-kit course grade` gives.

`gorun-kit course export-nbgrader` writes a standard nbgrader course directory;
nbgrader's own CLI then makes the student release (generate_assignment) and
grades two submissions (autograde): the instructor's solutions (notebooks
and completed lab sources) and the untouched student copies nbgrader made.
The solutions earn every point, the copies none, no graded cell writes to
stderr, and every cell scores exactly what the course's grader gives the
solutions and the committed release -- compared per notebook and grade_id.

Progress lines are switched on for nbgrader's kernels (GORUN_KIT_PROGRESS=1):
a cold build's progress must not cost a passing cell its points.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import background

from gorun_kit.course import layout
from gorun_kit.course.nbgrader import assignment_of, export

pytest.importorskip("nbgrader")

pytestmark = [pytest.mark.slow, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMEOUT = 1800  # seconds for a whole nbgrader or course-grade run: a safety net, not a measurement


def _env(environ=None, **extra) -> dict:
    """The environment of an activated venv: nbgrader runs its helpers (alembic) from PATH."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items() if not k.startswith("JUPYTER")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env.update(extra)
    return env


def _nbgrader(root: Path, *args: str, environ=None) -> None:
    proc = subprocess.run([str(BIN / "nbgrader"), *args, f"--CourseDirectory.root={root}"], cwd=root,
                          env=_env(environ, GORUN_KIT_PROGRESS="1"), capture_output=True, text=True, timeout=TIMEOUT)
    problems = "\n".join(line for line in proc.stderr.splitlines() if "| INFO]" not in line)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{problems[-8000:]}"
    assert "| ERROR]" not in proc.stderr, problems[-8000:]


@pytest.fixture(scope="module")
def course_scores(course_grades):
    """`gorun-kit course grade` on the solutions and on the committed release (one grading
    a session, tests/conftest.py), as {kind: (exit status, {(exercise, grade_id): (points, max)})}."""
    return {kind: (status, {(Path(e["exercise"]).stem, c["grade_id"]): (c["points"], c["max_points"])
                            for e in report["exercises"] for c in e["cells"]})
            for kind, (status, report) in course_grades.items()}


@background.job("nbgrader_run")
def _nbgrader_course(workdir: Path, environ: dict):
    """Export, generate_assignment, submit the solutions and the untouched copies, autograde."""
    root = workdir / "course"
    exported = export(root)
    _nbgrader(root, "generate_assignment", "*", environ=environ)
    for name in exported.assignments:
        shutil.copytree(root / "source" / name, root / "submitted" / "solutions" / name)
        shutil.copytree(root / "release" / name, root / "submitted" / "untouched" / name)
        for rel in exported.student_files[name]:  # the student completes these: hand in the solution
            shutil.copyfile(ROOT / rel, root / "submitted" / "solutions" / name / rel)
    _nbgrader(root, "autograde", "*", environ=environ)
    from nbgrader.api import Gradebook

    scores: dict[str, dict] = {"solutions": {}, "untouched": {}}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student, cells in scores.items():
            for assignment in exported.assignments:
                submission = gradebook.find_submission(assignment, student)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        cells[(notebook.name, grade.name)] = (grade.score, grade.max_score)
    return root, exported, scores


@pytest.fixture(scope="module")
def nbgrader_run():
    """(course root, the export, {student: {(notebook, grade_id): (score, max)}}), from a run
    that started when collection ended (tests/background.py)."""
    return background.result("nbgrader_run")


def test_export_is_a_course_directory_with_one_assignment_per_chapter(nbgrader_run):
    root, exported, _ = nbgrader_run
    assert (root / "nbgrader_config.py").is_file()
    exercises = layout.exercise_notebooks(ROOT)
    assert sorted(exported.assignments) == sorted({assignment_of(p) for p in exercises})
    for nb_path in exercises:
        name = assignment_of(nb_path)
        assert nb_path.name in exported.assignments[name]
        released = nbformat.read(root / "release" / name / nb_path.name, as_version=4)
        text = "\n".join(c.source for c in released.cells)
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text
    # the C lab goes out stubbed, as the course's own release has it
    stub = (root / "release" / "ch03" / "labs_c" / "ptrace_lab" / "tracer.c").read_text()
    assert stub == (ROOT / layout.RELEASE_DIR / "labs_c" / "ptrace_lab" / "tracer.c").read_text()
    assert "TODO 1: YOUR CODE HERE" in stub


def test_nbgrader_gives_the_solutions_full_marks_and_the_copies_zero(nbgrader_run):
    _, _, scores = nbgrader_run
    solved, untouched = scores["solutions"], scores["untouched"]
    assert solved and set(solved) == set(untouched)
    lost = {cell: score for cell, score in solved.items() if score[0] != score[1]}
    assert not lost, f"nbgrader takes points from the solutions: {lost}"
    free = {cell: score for cell, score in untouched.items() if score[0] != 0}
    assert not free, f"nbgrader gives points to untouched student copies: {free}"
    assert sum(m for _, m in solved.values()) > 0


def test_no_graded_cell_of_the_solutions_writes_to_stderr(nbgrader_run):
    root, _, _ = nbgrader_run
    noisy = []
    for nb_path in sorted((root / "autograded" / "solutions").rglob("*.ipynb")):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and any(o.get("name") == "stderr" for o in cell.get("outputs", [])):
                noisy.append((nb_path.name, meta.get("grade_id")))
    assert not noisy, f"graded cells that write to stderr (nbgrader scores them 0): {noisy}"


def test_course_grade_and_nbgrader_agree_on_every_cell(nbgrader_run, course_scores):
    _, _, scores = nbgrader_run
    course = course_scores
    for kind, exit_status in (("solutions", 0), ("untouched", 1)):
        status, cells = course[kind]
        assert status == exit_status, f"gorun-kit course grade ({kind}) exited {status}"
        assert set(cells) == set(scores[kind]), f"{kind}: different graded cells"
        differ = {cell: (cells[cell], scores[kind][cell]) for cell in cells
                  if tuple(map(float, cells[cell])) != tuple(map(float, scores[kind][cell]))}
        assert not differ, f"{kind}: (course grade, nbgrader) points differ: {differ}"
