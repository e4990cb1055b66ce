"""Grading: one grader for students and CI (the xv6 ``make grade`` model),
which the student's code cannot influence.

Every graded cell's points come from a process that runs no student code.
A student's exercise notebook is graded in two sandboxed processes
(:mod:`.sandbox`, :mod:`.cellrun`), joined by one socket (:mod:`.rpc`):

1. **The student's process** runs the student's own code cells, up to the last
   answer cell, in a plain IPython shell: as an unprivileged uid (when the
   grader is root), in a bubblewrap sandbox with no network, a read-only view
   of the system and the kit, a private copy of the submission, and limits on
   time, memory and processes. No test cell is in it; the instructor's
   notebook, the solutions and the hidden tests are not in its filesystem;
   the kit modules that would answer the exercise (:data:`WITHHELD`) are
   hidden. Then it serves the names the answer cells defined.
2. **The checker's process** runs the instructor's notebook -- its own
   copies of every cell, hidden tests included, handed over on stdin -- in a
   sandbox of its own, with each answer cell replaced by proxies for the
   student's names. A call of ``predict_linux(...)`` travels to the student's
   process and back as plain data, so no hook, exception handler, input
   transformer or object with a lying ``__eq__`` reaches the checks. Programs
   built from the student's sources (a tracer, a Go program with the
   student's runtime code) run in a nested read-only sandbox under a third
   uid (``$GORUN_KIT_CONFINE``, :func:`gorun_kit.sessions.confined`).

Each test cell is scored from its outputs by nbgrader's rule
(:func:`cell_points`), so this grader and ``nbgrader autograde`` give the same
points to an honest notebook. A deleted or edited check, raised points or
copied graded cells change nothing: the checks are the instructor's. When
the time budget runs out, or the student's process dies, the cells not yet
checked are "not run" with 0 points; both sandboxes and everything in them
are killed either way, and the report is written.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
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
           "cell_points", "DEFAULT_TIMEOUT", "WITHHELD", "withheld_paths", "defined_names"]

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


_MAX_SUBMITTED_BYTES = 50 << 20  # a notebook or lab source larger than this is not copied


def _plain_file(path: Path, within: Path) -> bool:
    """Whether ``path`` is a regular file under ``within`` reached through no symbolic link."""
    try:
        rel = path.relative_to(within)
    except ValueError:
        return False
    here = within
    for part in rel.parts:
        here = here / part
        if here.is_symlink():
            return False
    return path.is_file() and path.stat().st_size <= _MAX_SUBMITTED_BYTES


def _copy_tree(src_root: Path | None, nb_path: Path, dest: Path, source: Path) -> Path:
    """Lay out a grading tree in ``dest``; return its notebooks/exercises directory.

    From the instructor's tree: the lab directories with every solution region
    stubbed (what a student was handed) and ``benchmarks/`` (committed results
    the exercises read). From the submission: the notebook being graded and
    the lab sources a student completes (those with solution markers), each
    only when it is a regular file reached through no symbolic link. Nothing
    else of the submission -- a lab program the checks build and measure, a
    FIFO, a link to the instructor's files -- and nothing else of the
    instructor's tree (notebooks, tests, the kit's sources) is in it: the
    sandboxes see this tree, not the checkout.
    """
    from .release import student_source

    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "build", "__pycache__", ".*")
    dest.mkdir(parents=True, exist_ok=True)
    for lab in layout.LAB_DIRS:
        if (source / lab).is_dir():
            shutil.copytree(source / lab, dest / lab, ignore=ignore)
    marked = layout.marked_lab_sources(source)
    for path in marked:
        (dest / path.relative_to(source)).write_text(student_source(path))
    if (source / "benchmarks").is_dir():
        shutil.copytree(source / "benchmarks", dest / "benchmarks", ignore=ignore)
    exercises = dest / "notebooks" / "exercises"
    exercises.mkdir(parents=True)
    shutil.copyfile(nb_path, exercises / nb_path.name)
    if src_root is not None:
        for path in marked:
            theirs = src_root / path.relative_to(source)
            if _plain_file(theirs, src_root):
                shutil.copyfile(theirs, dest / path.relative_to(source))
    dest.chmod(0o755)
    for path in dest.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)  # readable by the sandboxes' uids
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
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
    if not value >= 0:  # negative, or not a number at all (nan): full points, as nbgrader gives
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


# Kit modules whose functions answer an exercise: absent from the student's
# sandbox while it is graded (the checks, in their own process, still have them).
WITHHELD = {
    # package_of, runtime_share, symbol_at are the kit's own answers
    "01_runtime_blackbox_ex1_packages.ipynb": ("gorun_kit.binary",),
    "01_runtime_blackbox_ex2_addresses.ipynb": ("gorun_kit.binary",),
    # the LookPath model and real Go's answers
    "02_lookpath_linux_exercises.ipynb": ("gorun_kit.lookpath",),
    "02_lookpath_windows_exercises.ipynb": ("gorun_kit.lookpath",),
    # clone flags decoded (trace.flags), spawns classified (trace), latency curves (spawn, bench)
    "03_spawn_exercises.ipynb": ("gorun_kit.trace", "gorun_kit.spawn", "gorun_kit.bench"),
}


def withheld_paths(exercise: str) -> list[str]:
    """What the student's sandbox hides so that no module :data:`WITHHELD` lists for
    ``exercise`` can be loaded, by import or by hand: a package's directory (its
    ``__pycache__`` inside it); for a single-file module, every file of its name beside
    it (the source, a legacy ``.pyc``, an extension module) and the ``__pycache__``
    directory it would be compiled into, whose ``.pyc`` loads without the source."""
    import importlib.util

    out: list[str] = []
    for name in WITHHELD.get(exercise, ()):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            out.append(str(origin.parent))
            continue
        stem = origin.name.split(".")[0]
        out += [str(p) for p in sorted(origin.parent.glob(f"{stem}.*"))]
        caches = {origin.parent / "__pycache__"}
        with contextlib.suppress(ValueError):  # a pycache prefix (sys.pycache_prefix) puts them elsewhere
            caches.add(Path(importlib.util.cache_from_source(str(origin))).parent)
        out += [str(c) for c in sorted(caches) if c.is_dir()]
    return list(dict.fromkeys(out))


def defined_names(source: str) -> list[str]:
    """The top-level names an answer cell defines (functions, classes, assignments)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = list(node.targets if isinstance(node, ast.Assign) else [node.target])
            while targets:
                # a name, or names unpacked; `table[key] = ...` and `obj.attr = ...` define none
                target = targets.pop(0)
                if isinstance(target, ast.Name):
                    names.append(target.id)
                elif isinstance(target, (ast.Tuple, ast.List)):
                    targets[:0] = target.elts
                elif isinstance(target, ast.Starred):
                    targets.insert(0, target.value)
    return list(dict.fromkeys(names))


def _student_cells(graded, instructor) -> list[str]:
    """The student's code cells the sandbox runs: every one up to the last answer
    cell, but no test cell (a test cell is the instructor's, hidden tests included)."""
    answers = {nbgrader_meta(c).get("grade_id") for c in instructor.cells if is_solution_cell(c)}
    cells = [c for c in graded.cells if c.get("cell_type") == "code" and not is_test_cell(c)]
    last = max((i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") in answers), default=len(cells) - 1)
    return [c.get("source", "") for c in cells[:last + 1]]


def _checker_cells(instructor) -> tuple[list[dict], list[int]]:
    """The checker's job: the instructor's code cells, each answer cell replaced by
    the names it defines; and the instructor's index of each."""
    cells, where = [], []
    for index, cell in enumerate(instructor.cells):
        if cell.get("cell_type") != "code":
            continue
        if is_solution_cell(cell):
            cells.append({"bind": defined_names(cell.get("source", ""))})
        else:
            cells.append({"source": cell.get("source", ""), "bind": None})
        where.append(index)
    return cells, where


@functools.lru_cache(maxsize=None)
def _go_cache() -> str:
    """The grader's Go build cache, which the checks share (GOCACHE)."""
    from ..toolchain import go_env, run_go

    path = os.environ.get("GOCACHE")
    if not path:
        try:
            path = run_go(["env", "GOCACHE"], env=go_env(), timeout=60).stdout.strip()
        except Exception:
            path = ""
    path = path or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "go-build")
    os.makedirs(path, exist_ok=True)
    return path


def _feed(pipe, data: bytes) -> None:
    with contextlib.suppress(OSError):
        pipe.write(data)
    with contextlib.suppress(OSError):
        pipe.close()


@dataclasses.dataclass(frozen=True)
class _Run:
    outputs: dict  # instructor cell index -> outputs
    skipped: dict  # instructor cell index -> what nb.live skipped
    note: str
    limits: str


def _run_sandboxed(student_cells: list[str], checker_cells: list[dict], where: list[int], *, student_tree: Path,
                   check_tree: Path, tmp: Path, exercise: str, timeout: float, student_id: str | None) -> _Run:
    """Run the student's cells in one sandbox and the checks in another (see the module docstring)."""
    import select
    import socket
    import sys
    import threading

    from ..cache import cache_dir
    from . import sandbox as sb

    why = sb.available()
    if why:
        raise RuntimeError(f"cannot grade: {why}")
    deadline = time.monotonic() + timeout
    ident = {"GORUN_KIT_STUDENT": student_id} if student_id else {}
    # -I: no directory of the submission on sys.path, no PYTHON* variables, no user site
    python = [sys.executable, "-I", "-m", "gorun_kit.course.cellrun"]
    outputs: dict[int, list] = {}
    skipped: dict[int, str] = {}
    note = ""
    with sb.slot() as n:
        student_home, check_home = tmp / "student-home", tmp / "check-home"
        student_home.mkdir()
        check_home.mkdir(mode=0o700)  # root's: a program built from the student's sources must not read it
        (check_home / "skips.log").write_text("")
        student_box = sb.Sandbox(n, 0, writable=[str(student_tree), str(student_home)],
                                 hidden=withheld_paths(exercise))
        student_box.own(student_tree)
        student_box.own(student_home)
        caches = [str(cache_dir()), _go_cache()]
        check_box = sb.Sandbox(n, 1, limits=sb.Limits(memory_bytes=8 << 30, processes=512),
                               read_only=[str(check_tree)], writable=[str(check_home), *caches],
                               keep_caps=("CAP_SETUID", "CAP_SETGID") if os.geteuid() == 0 else ())
        ours, theirs = socket.socketpair()
        read_end, write_end = os.pipe()
        with student_box, check_box, ours, theirs, os.fdopen(read_end, "rb") as results:
            try:
                env = sb.environment(home=str(student_home), extra=ident)
                p1 = student_box.start([*python, "student", "--channel-fd", str(ours.fileno())],
                                       cwd=str(student_tree / "notebooks" / "exercises"), env=env,
                                       pass_fds=[ours.fileno()])
                threading.Thread(target=_feed, args=(p1.stdin, json.dumps({"cells": student_cells}).encode()),
                                 daemon=True).start()
                env = sb.environment(home=str(check_home), extra={
                    **ident, "GORUN_KIT_CACHE": caches[0], "GOCACHE": caches[1],
                    "GORUN_KIT_SKIP_LOG": str(check_home / "skips.log"),
                    "GORUN_KIT_CONFINE": json.dumps(sb.confine_prefix(n))})
                check_log = open(tmp / "check-stderr", "wb")
                p2 = check_box.start([*python, "check", "--channel-fd", str(theirs.fileno()),
                                      "--results-fd", str(write_end)],
                                     cwd=str(check_tree / "notebooks" / "exercises"), env=env,
                                     pass_fds=[theirs.fileno(), write_end], stderr=check_log)
                check_log.close()
                threading.Thread(target=_feed, args=(p2.stdin, json.dumps({"cells": checker_cells}).encode()),
                                 daemon=True).start()
            finally:
                os.close(write_end)
                ours.close()
                theirs.close()
            buffer = b""
            last = -1
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    at = where[last + 1] if last + 1 < len(where) else where[-1]
                    note = f"timed out after {timeout:g}s in cell {at}"
                    break
                ready, _, _ = select.select([results], [], [], min(left, 1.0))
                if not ready:
                    continue
                chunk = os.read(results.fileno(), 1 << 16)
                if not chunk:
                    if last + 1 < len(where):
                        # no student code runs in the checks' process: its end is the grader's failure
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            p2.wait(timeout=10)
                        said = (tmp / "check-stderr").read_bytes()[-1500:].decode(errors="replace").strip()
                        raise RuntimeError(f"the checks' process ended before cell {where[last + 1]} "
                                           f"(exit status {p2.returncode}): {said or 'it said nothing'}")
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    try:
                        item = json.loads(line)
                        last, at = item["index"], where[item["index"]]
                        if not isinstance(last, int) or last < 0 or not isinstance(item.get("outputs", []), list):
                            raise ValueError(last)
                    except (ValueError, KeyError, IndexError, TypeError):
                        note = note or "the checks sent a malformed result"
                        continue
                    if "outputs" in item:
                        outputs[at] = item["outputs"]
                        if item.get("skipped"):
                            skipped[at] = item["skipped"]
                    elif not item.get("bound"):
                        note = note or f"the student's code could not be reached: {item.get('error')}"
            limits = student_box.limit_kind
    return _Run(outputs, skipped, note, limits)


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


def _by_hand(cell) -> str | None:
    """Why the instructor's graded ``cell`` is graded by hand, or None when a check scores it."""
    if cell.get("cell_type") != "code":
        return "graded by hand"
    if is_solution_cell(cell):
        return "an answer cell with points is graded by hand"
    return None


def grade_notebook(student: os.PathLike | str, *, source: os.PathLike | str | None = None,
                   timeout: float = DEFAULT_TIMEOUT, student_id: str | None = None,
                   within: os.PathLike | str | None = None) -> ExerciseResult:
    """Grade one student notebook against the instructor's exercise of the same name.

    ``student_id`` selects the student's variant of the exercise (``GORUN_KIT_STUDENT``
    in both sandboxes). ``within``: the directory handed in (default: the
    notebook's); a notebook reached through a symbolic link below it, or
    leading out of it, is refused (0 points and a note). Raises ValueError for a notebook that is not one of the
    course's exercises; a notebook that cannot be read gets 0 points and a note.
    """
    if not timeout > 0:
        raise ValueError(f"timeout={timeout!r}: give a positive number of seconds")
    student = Path(os.path.abspath(student))  # not resolved: a link must not lead the grader elsewhere
    src = Path(source) if source else layout.course_root()
    known = {p.name: p for p in layout.exercise_notebooks(src)}
    if student.name not in known:
        raise ValueError(f"{student} is not one of the course's exercises "
                         f"(known: {', '.join(sorted(known)) or 'none'} in {src / 'notebooks/exercises'})")
    instructor = nbformat.read(known[student.name], as_version=4)
    check_notebook_markup(instructor, str(known[student.name]))
    graded_cells = [c for c in instructor.cells if nbgrader_meta(c).get("grade")]
    try:
        top = Path(os.path.abspath(within)) if within is not None else student.parent
        inside = os.path.realpath(student).startswith(os.path.realpath(top) + os.sep)
        if not (inside and _plain_file(student, top)):
            raise ValueError("it is a symbolic link, not a regular file, or larger than "
                             f"{_MAX_SUBMITTED_BYTES >> 20} MiB")
        mine = nbformat.read(student, as_version=4)
    except Exception as exc:  # a corrupted file gets a report, not a traceback
        why = f"not a readable notebook ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}); " \
              "hand in the notebook file itself, restored from the release with your answers copied back"
        return ExerciseResult(str(student), student.name, tuple(
            CellResult(nbgrader_meta(c)["grade_id"], 0.0, float(nbgrader_meta(c).get("points", 0)),
                       "manual" if _by_hand(c) else "not run", _by_hand(c) or why) for c in graded_cells), why)
    graded = restore_protected(mine, instructor, str(student))
    checker_cells, where = _checker_cells(instructor)
    with tempfile.TemporaryDirectory(prefix=f"gorun-kit-grade-{os.getpid()}-") as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o711)  # the sandboxes' uids pass through to their own directories, nothing more
        root = _student_root(student)
        student_tree = _copy_tree(root, student, tmp / "student", src).parent.parent
        check_tree = _copy_tree(root, student, tmp / "check", src).parent.parent
        run = _run_sandboxed(_student_cells(graded, instructor), checker_cells, where,
                             student_tree=student_tree, check_tree=check_tree, tmp=tmp,
                             exercise=student.name, timeout=timeout, student_id=student_id)
    cells = []
    for index, cell in enumerate(instructor.cells):
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        gid, pts = meta["grade_id"], float(meta.get("points", 0))
        if hand := _by_hand(cell):
            cells.append(CellResult(gid, 0.0, pts, "manual", hand))
        elif index not in run.outputs:
            cells.append(CellResult(gid, 0.0, pts, "not run", run.note))
        elif error_text(run.outputs[index]) is None and (why := _skipped_check(instructor, index, run.skipped)):
            cells.append(CellResult(gid, 0.0, pts, "not run",
                                    f"this machine cannot run the check: {why}; see gorun-kit doctor"))
        else:
            got, why = cell_points(run.outputs[index], pts)
            status = "passed" if got == pts else "partial" if got > 0 else "failed"
            cells.append(CellResult(gid, got, pts, status, why))
    return ExerciseResult(str(student), student.name, tuple(cells), run.note)


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
          echo=None, student_id: str | None = None) -> GradeReport:
    """Grade a notebook or every notebook under a directory (default: the
    course's own notebooks/exercises, i.e. the solutions). Writes JSON when asked.
    ``echo`` (e.g. ``print``) receives each exercise's lines as it finishes.
    A notebook that cannot be graded (unreadable, not an exercise) is reported
    with 0 points and the reason; the others are graded all the same."""
    if not timeout > 0:
        raise ValueError(f"timeout={timeout!r}: give a positive number of seconds")
    src = Path(source) if source else layout.course_root()
    target = Path(path) if path else src / "notebooks" / "exercises"
    results = []
    for nb_path in _student_notebooks(target):
        try:
            result = grade_notebook(nb_path, source=src, timeout=timeout, student_id=student_id,
                                    within=target if target.is_dir() else target.parent)
        except ValueError as exc:
            if target.is_file():
                raise  # the one notebook asked for is not an exercise: the caller's mistake
            result = ExerciseResult(str(nb_path), nb_path.name, (), str(exc))
        except Exception as exc:  # one notebook the grader could not handle must not cost the others
            result = ExerciseResult(str(nb_path), nb_path.name, (),
                                    f"the grader failed on this notebook: {type(exc).__name__}: {exc}"[:500])
        results.append(result)
        if echo:
            echo(GradeReport((result,)).render().rsplit("\n", 1)[0])
    report = GradeReport(tuple(results))
    if json_file:
        from ..cache import write_atomic
        write_atomic(json_file, json.dumps(report.to_dict(), indent=2) + "\n")
    return report
