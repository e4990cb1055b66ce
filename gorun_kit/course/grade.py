"""Grading: one grader for students and CI (the xv6 ``make grade`` model).

A student's exercise notebook is graded in a clean temporary copy of their
work (notebooks/exercises plus the lab sources beside them). Before it runs,
every test cell and every locked cell is put back from the instructor's
notebook, hidden tests included, matched by ``grade_id`` -- so deleting or
editing a check, or raising its points, changes nothing. The notebook runs
top to bottom in a fresh kernel (nbclient) under one time budget per
exercise, and each test cell is scored by nbgrader's rule
(:func:`cell_points`), so this grader and ``nbgrader autograde`` give the same
points. The report gives points per cell, per exercise and a total.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat

from ..records import Record
from . import layout
from .markup import check_notebook_markup, is_solution_cell, is_test_cell, nbgrader_meta

__all__ = ["CellResult", "ExerciseResult", "GradeReport", "restore_protected", "grade",
           "cell_points", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 600.0  # seconds per exercise notebook


@dataclasses.dataclass(frozen=True)
class CellResult(Record):
    grade_id: str
    points: float
    max_points: float
    status: str  # passed | partial | failed | not run | manual
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class ExerciseResult(Record):
    dict_properties = ("points", "max_points")

    notebook: str  # the student's notebook as given
    exercise: str  # its name in notebooks/exercises/
    cells: tuple[CellResult, ...]
    note: str = ""  # timeout, dead kernel

    @property
    def points(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.cells if c.status != "manual")


@dataclasses.dataclass(frozen=True)
class GradeReport(Record):
    exercises: tuple[ExerciseResult, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)

    @property
    def full_marks(self) -> bool:
        return self.points == self.max_points

    def to_dict(self) -> dict:
        # the totals first: they are what a reader of the JSON looks for
        return {"points": self.points, "max_points": self.max_points,
                "exercises": [e.to_dict() for e in self.exercises]}

    def render(self) -> str:
        lines = []
        for e in self.exercises:
            lines.append(f"{e.exercise}: {_num(e.points)}/{_num(e.max_points)}"
                         + (f"  ({e.note})" if e.note else ""))
            for c in e.cells:
                detail = f": {c.detail}" if c.detail and c.status != "passed" else ""
                lines.append(f"  {c.grade_id:<32} {_num(c.points):>4}/{_num(c.max_points):<4} {c.status}{detail}")
        lines.append(f"TOTAL {_num(self.points)}/{_num(self.max_points)}")
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"


def _protected(cell) -> bool:
    """Cells the student may not change: tests and locked cells (not answers)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and (is_test_cell(cell) or meta.get("locked")) \
        and not is_solution_cell(cell)


def restore_protected(student, instructor, where: str = "student notebook"):
    """The student's notebook with every protected cell taken from the instructor's.

    Answer cells keep the student's source but get the instructor's metadata
    (points cannot be raised); a protected cell the student deleted is put back
    after the cell that precedes it in the instructor's notebook; graded
    metadata the instructor never wrote is dropped.
    """
    out = copy.deepcopy(student)
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in instructor.cells if nbgrader_meta(c).get("grade_id")}
    cells = []
    seen: set[str] = set()
    for cell in out.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        ref = by_id.get(gid) if gid else None
        if ref is not None and gid in seen:  # a copied graded cell would score twice
            if _protected(ref):
                continue
            ref = None
        if gid:
            seen.add(gid)
        if ref is not None and _protected(ref):
            fresh = copy.deepcopy(ref)
            if fresh.get("cell_type") == "code":
                fresh["outputs"], fresh["execution_count"] = [], None
            cells.append(fresh)
        elif ref is not None:
            cell = copy.deepcopy(cell)
            cell["metadata"]["nbgrader"] = copy.deepcopy(ref["metadata"]["nbgrader"])
            cells.append(cell)
        else:
            if "nbgrader" in cell.get("metadata", {}):
                cell = copy.deepcopy(cell)
                del cell["metadata"]["nbgrader"]  # not one of the instructor's graded cells
            cells.append(cell)
    present = {nbgrader_meta(c).get("grade_id") for c in cells}
    previous = None
    for ref in instructor.cells:
        gid = nbgrader_meta(ref).get("grade_id")
        if gid and gid not in present and _protected(ref):
            fresh = copy.deepcopy(ref)
            if fresh.get("cell_type") == "code":
                fresh["outputs"], fresh["execution_count"] = [], None
            at = 0
            if previous is not None:
                at = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == previous) + 1
            cells.insert(at, fresh)
            present.add(gid)
        if gid and gid in present:
            previous = gid
    out.cells = cells
    return out


def _student_root(nb_path: Path) -> Path | None:
    """The top of a release-shaped tree holding ``nb_path`` (root/notebooks/exercises/x.ipynb)."""
    parent = nb_path.parent
    if parent.name == "exercises" and parent.parent.name == "notebooks":
        return parent.parent.parent
    return None


def _copy_tree(src_root: Path | None, nb_path: Path, dest: Path, source: Path) -> Path:
    """Lay out the grading tree in ``dest``; return the notebook's directory there.

    Base layer: the instructor's course tree as a student has it -- lab
    directories copied with every solution region stubbed (so nothing the
    student did not hand in can leak an answer), everything else (benchmarks/,
    other notebooks' data) linked read-only in spirit. Top layer: the student's
    own notebooks/exercises and lab sources.
    """
    from .release import student_source

    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "build", "__pycache__", ".*")
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.name.startswith(".") or entry.name in ("notebooks", layout.RELEASE_DIR):
            continue
        if entry.name in layout.LAB_DIRS and entry.is_dir():
            shutil.copytree(entry, dest / entry.name, ignore=ignore)
            for marked in layout.marked_lab_sources(source):
                if entry in marked.parents:
                    (dest / marked.relative_to(source)).write_text(student_source(marked))
        else:
            (dest / entry.name).symlink_to(entry)
    (dest / "notebooks").mkdir()
    if (source / "notebooks").is_dir():
        for entry in sorted((source / "notebooks").iterdir()):
            if entry.name != "exercises" and not entry.name.startswith("."):
                (dest / "notebooks" / entry.name).symlink_to(entry)
    exercises = dest / "notebooks" / "exercises"
    if src_root is not None:
        shutil.copytree(src_root / "notebooks" / "exercises", exercises, ignore=ignore)
        for lab in layout.LAB_DIRS:
            if (src_root / lab).is_dir():
                shutil.copytree(src_root / lab, dest / lab, ignore=ignore, dirs_exist_ok=True)
    else:
        shutil.copytree(nb_path.parent, exercises, ignore=ignore)
    return exercises


def error_text(outputs, limit: int = 300) -> str | None:
    """``ename: evalue`` of the first error among a cell's outputs (None if it ran clean)."""
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:limit]
    return None


def _partial(result, max_points: float) -> tuple[float, str]:
    text = result.get("data", {}).get("text/plain", "")
    if isinstance(text, list):
        if len(text) > 1:
            return max_points, ""
        text = text[0] if text else ""
    try:
        value = float(text)
    except ValueError:
        return max_points, ""  # not a number: an ordinary result, full points
    if value < 0:
        return max_points, ""
    if value > max_points:
        return 0.0, f"the cell's value {value:g} is more than its {max_points:g} points"
    return value, f"partial credit: the cell's value is {value:g}"


def cell_points(outputs, max_points: float) -> tuple[float, str]:
    """Points and a reason for one executed test cell, by nbgrader's rule
    (``nbgrader.utils.determine_grade``), outputs read in order:

    * an error, or anything written to stderr: 0;
    * else the first ``execute_result`` (the cell's last expression), when its
      text is a number from 0 to ``max_points``: that many points (partial credit);
    * else full points.

    (nbgrader stops grading at a value above ``max_points``; here it scores 0.)
    """
    for out in outputs:
        if out.get("output_type") == "error":
            return 0.0, f"{out.get('ename')}: {out.get('evalue')}"[:300]
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            first = next((line for line in str(out.get("text", "")).splitlines() if line.strip()), "")
            return 0.0, f"wrote to stderr (nbgrader scores that 0): {first}"[:300]
        if out.get("output_type") == "execute_result":
            return _partial(out, max_points)
    return max_points, ""


def _run(nb, cwd: Path, timeout: float) -> tuple[dict[int, str | None], str, dict[int, str]]:
    """Execute ``nb`` in place; index -> error text (None when fine) for executed cells,
    a note, and index -> why for the cells in which ``nb.live`` said a tool was missing."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    deadline = time.monotonic() + timeout

    def remaining(_cell) -> int:
        return max(1, int(deadline - time.monotonic()))

    client = NotebookClient(nb, timeout_func=remaining, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=False, record_timing=False,
                            shutdown_kernel="immediate",  # SIGKILL the kernel's process group
                            resources={"metadata": {"path": str(cwd)}})
    skip_log = cwd / ".gorun-kit-skips.log"
    skip_log.write_text("")
    env = dict(os.environ, GORUN_KIT_PROGRESS="0", GORUN_KIT_SKIP_LOG=str(skip_log))
    results: dict[int, str | None] = {}
    skipped: dict[int, str] = {}
    seen_lines = 0
    note = ""
    # The kernel process's own stderr is only ipykernel's start-up chatter; what
    # the student's code prints reaches the cell outputs over the kernel protocol.
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells):
            if cell.get("cell_type") != "code":
                continue
            if time.monotonic() >= deadline:
                note = f"time budget of {timeout:g}s used up before cell {index}"
                break
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                note = f"timed out after {timeout:g}s in cell {index}"
                break
            except DeadKernelError:
                note = f"the kernel died in cell {index}"
                break
            results[index] = error_text(cell.get("outputs", []))
            logged = skip_log.read_text(encoding="utf-8").splitlines()
            if len(logged) > seen_lines:
                skipped[index] = "; ".join(logged[seen_lines:])
                seen_lines = len(logged)
    return results, note, skipped


_LIVE_NAME = re.compile(r"^\s*(\w+)\s*=\s*nb\.live\(", re.M)


def _skipped_check(nb, index: int, skipped: dict[int, str]) -> str | None:
    """Why the graded cell ``index`` could not really run, or None.

    It could not when ``nb.live`` reported a missing tool inside it, or when
    it reads a name (``LIVE = nb.live(...)``) set by an earlier cell whose
    ``nb.live`` did.
    """
    if index in skipped:
        return skipped[index]
    source = nb.cells[index].get("source", "")
    for earlier, why in skipped.items():
        if earlier < index:
            names = _LIVE_NAME.findall(nb.cells[earlier].get("source", ""))
            if any(re.search(rf"\b{re.escape(n)}\b", source) for n in names):
                return why
    return None


def grade_notebook(student: os.PathLike | str, *, source: os.PathLike | str | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> ExerciseResult:
    """Grade one student notebook against the instructor's exercise of the same name."""
    student = Path(student)
    src = Path(source) if source else layout.course_root()
    known = {p.name: p for p in layout.exercise_notebooks(src)}
    if student.name not in known:
        raise ValueError(f"{student} is not one of the course's exercises "
                         f"(known: {', '.join(sorted(known)) or 'none'} in {src / 'notebooks/exercises'})")
    instructor = nbformat.read(known[student.name], as_version=4)
    check_notebook_markup(instructor, str(known[student.name]))
    try:
        mine = nbformat.read(student, as_version=4)
    except Exception as exc:  # a corrupted file gets a message, not a traceback
        raise ValueError(f"{student} is not a readable notebook ({exc}); "
                         "restore it from the release and copy your answers back") from exc
    graded = restore_protected(mine, instructor, str(student))
    with tempfile.TemporaryDirectory(prefix="gorun-kit-grade-") as tmp:
        workdir = _copy_tree(_student_root(student.resolve()), student.resolve(), Path(tmp) / "course", src)
        nb_path = workdir / student.name
        nbformat.write(graded, nb_path)
        results, note, skipped = _run(graded, workdir, timeout)
    cells = []
    for index, cell in enumerate(graded.cells):
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        gid, pts = meta["grade_id"], float(meta.get("points", 0))
        if cell.get("cell_type") != "code":
            cells.append(CellResult(gid, 0.0, pts, "manual", "graded by hand"))
        elif index not in results:
            cells.append(CellResult(gid, 0.0, pts, "not run", note))
        elif results[index] is None and (why := _skipped_check(graded, index, skipped)):
            cells.append(CellResult(gid, 0.0, pts, "not run",
                                    f"this machine cannot run the check: {why}; see gorun-kit doctor"))
        else:
            got, why = cell_points(cell.get("outputs", []), pts)
            status = "passed" if got == pts else "partial" if got > 0 else "failed"
            cells.append(CellResult(gid, got, pts, status, why))
    return ExerciseResult(str(student), student.name, tuple(cells), note)


def _student_notebooks(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist; give an exercise notebook or a directory of them")
    found = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not found:
        raise ValueError(f"no exercise notebooks (*.ipynb) under {path}")
    return found


def grade(path: os.PathLike | str | None = None, json_file: os.PathLike | str | None = None, *,
          source: os.PathLike | str | None = None, timeout: float = DEFAULT_TIMEOUT,
          echo=None) -> GradeReport:
    """Grade a notebook or every notebook under a directory (default: the
    course's own notebooks/exercises, i.e. the solutions). Writes JSON when asked.
    ``echo`` (e.g. ``print``) receives each exercise's lines as it finishes."""
    src = Path(source) if source else layout.course_root()
    target = Path(path) if path else src / "notebooks" / "exercises"
    results = []
    for nb_path in _student_notebooks(target):
        result = grade_notebook(nb_path, source=src, timeout=timeout)
        results.append(result)
        if echo:
            echo(GradeReport((result,)).render().rsplit("\n", 1)[0])
    report = GradeReport(tuple(results))
    if json_file:
        Path(json_file).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report
