"""Grading a whole class: one folder per student, several students at a time.

``SUBMISSIONS/<student>/`` holds one student's work, named by the student's
id: a copy of the student release (``notebooks/exercises/*.ipynb`` with
``labs_c/`` and ``labs_go/`` beside it) or just exercise notebooks, found by
their names anywhere in the folder. The assignment is the list of exercises
every student is graded on (``exercises=``; by default every exercise that
some student handed in); one that a student did not hand in scores 0.

Each student is graded by a child process of its own, ``workers`` at a
time. A child that dies or hangs costs that student only: the others go on,
and the student gets the status ``error`` with the reason. Results::

    OUT/gradebook.csv               student, one column per exercise, total, max, status, notes
    OUT/students/<id>/report.json   the grade report of every exercise, with status and notes
    OUT/students/<id>/feedback.md   for the student: every check, and why the failed ones failed
    OUT/students/<id>/results.json  the same in Gradescope's results.json format

A student's ``report.json`` is written last and atomically, so its presence
means the student is finished. It records a fingerprint of the submission,
the instructor's notebooks and the assignment: a later run skips a finished
student with the same fingerprint (resume), and grades again one whose work
or checks changed.

A student's status: ``graded`` (every exercise of the assignment handed in
and graded), ``incomplete`` (some not handed in, or not gradable: unreadable,
a link, ...; those score 0 and the notes say why), ``empty`` (no exercise
notebook in the folder), ``error`` (the grader itself failed; not the
student's doing, and the next run grades the student again).

Feedback quotes what a check reported (its assertion message), never its
source: checks with hidden tests are named as such, and any line of hidden
test code that a failure message happens to contain is blanked out.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import dataclasses
import datetime
import hashlib
import io
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import nbformat

from ..records import Record
from . import layout
from .grade import DEFAULT_TIMEOUT, CellResult, ExerciseResult, GradeReport, grade_notebook
from .markup import MarkupError, has_marker, is_test_cell, nbgrader_meta
from .variant import check_student_id

__all__ = ["StudentResult", "ClassReport", "Exercise", "grade_class", "grade_student", "default_workers",
           "find_notebooks", "gradescope_results", "feedback_text", "load_student"]

STATUSES = ("graded", "incomplete", "empty", "error")
_REPORT, _FEEDBACK, _RESULTS = "report.json", "feedback.md", "results.json"
# What a child needs beyond the notebooks' own time budgets: start-up, copying
# the grading trees, writing the results.
_CHILD_MARGIN = 120.0
# SIGTERM asks a child to clean up (its kernels, sandboxes, temporary trees);
# after this many seconds it is killed with everything it started.
_CHILD_GRACE = 20.0


def default_workers() -> int:
    """One student per CPU this process may use.

    Grading one student keeps about one process busy at a time: the
    student's code and the checks run in two sandboxed processes that
    mostly wait on each other, and a check waits on the compiler or tracer
    it starts. One student per core keeps the cores busy without queueing
    builds behind each other (benchmarks/README.md: 1 and 2 workers on 2 cores).
    """
    try:
        cpus = len(os.sched_getaffinity(0))  # a taskset or cgroup CPU list counts, not the machine's
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, cpus)


# -- records ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StudentResult(Record):
    dict_properties = ("points", "max_points")

    student: str
    status: str  # one of STATUSES
    exercises: tuple[ExerciseResult, ...]
    notes: tuple[str, ...] = ()  # what was not graded and why, what was ignored
    seconds: float = 0.0
    fingerprint: str = ""
    graded_at: str = ""  # UTC, ISO 8601

    @property
    def points(self) -> float:
        return GradeReport(self.exercises).points

    @property
    def max_points(self) -> float:
        return GradeReport(self.exercises).max_points

    def by_exercise(self) -> dict[str, ExerciseResult]:
        return {e.exercise: e for e in self.exercises}


@dataclasses.dataclass(frozen=True)
class ClassReport(Record):
    out_dir: str
    exercises: tuple[str, ...]  # the assignment, notebook names
    students: tuple[StudentResult, ...]  # every student folder; not yet graded ones have status ""
    graded_now: int  # how many were graded by this run (the others were finished earlier)
    seconds: float

    @property
    def ok(self) -> bool:
        """Every student was graded (whatever the points)."""
        return all(s.status in STATUSES and s.status != "error" for s in self.students)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(s.student for s in self.students if s.status == "error")


def _known(cls, d: dict) -> dict:
    """The keys of ``d`` that are fields of the dataclass ``cls`` (records may gain fields)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def _exercise_from_dict(d: dict) -> ExerciseResult:
    cells = tuple(CellResult(**_known(CellResult, c)) for c in d.get("cells", ()))
    return ExerciseResult(**dict(_known(ExerciseResult, d), cells=cells))


def _student_from_dict(d: dict) -> StudentResult:
    return StudentResult(**dict(_known(StudentResult, d),
                                exercises=tuple(_exercise_from_dict(e) for e in d.get("exercises", ())),
                                notes=tuple(d.get("notes", ()))))


def load_student(student_dir: os.PathLike | str) -> StudentResult | None:
    """The finished result in ``OUT/students/<id>/``, or None (none yet, or unreadable)."""
    try:
        data = json.loads((Path(student_dir) / _REPORT).read_text(encoding="utf-8"))
        return _student_from_dict(data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


# -- the instructor's side ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Exercise(Record):
    """What the instructor's notebook says about one exercise: its graded cells,
    which of them hold hidden tests, and the hidden lines feedback must not quote."""

    name: str  # notebook file name
    path: str
    cells: tuple[tuple[str, float, bool], ...]  # (grade_id, points, autograded) of each graded cell
    hidden: tuple[str, ...]  # grade_ids of test cells with hidden tests
    hidden_lines: tuple[str, ...]
    digest: str  # SHA-256 of the notebook file

    @property
    def stem(self) -> str:
        return self.name[:-len(".ipynb")] if self.name.endswith(".ipynb") else self.name

    @property
    def max_points(self) -> float:
        return sum(points for _, points, auto in self.cells if auto)


def _hidden_region_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.split("\n"):
        if "### BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "### END HIDDEN TESTS" in line:
            inside = False
        elif inside and len(line.strip()) >= 12:  # short lines (`)`, `else:`) reveal nothing and match too much
            lines.append(line.strip())
    return lines


def course_exercises(source: Path) -> dict[str, Exercise]:
    """Every exercise of the course tree ``source``, by notebook name."""
    out = {}
    for path in layout.exercise_notebooks(source):
        data = path.read_bytes()
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        cells, hidden, hidden_lines = [], set(), []
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if not meta.get("grade"):
                continue
            gid = meta.get("grade_id", "")
            cells.append((gid, float(meta.get("points", 0)), cell.get("cell_type") == "code"))
            if is_test_cell(cell) and has_marker(cell.get("source", ""), "hidden"):
                hidden.add(gid)
                hidden_lines += _hidden_region_lines(cell.get("source", ""))
        out[path.name] = Exercise(path.name, str(path), tuple(cells), tuple(sorted(hidden)), tuple(hidden_lines),
                                  hashlib.sha256(data).hexdigest())
    return out


def _exercise_name(value: str, known: dict[str, Exercise]) -> str:
    name = value if value.endswith(".ipynb") else value + ".ipynb"
    if name not in known:
        raise ValueError(f"{value!r} is not one of the course's exercises; give one of: "
                         + ", ".join(e.stem for e in known.values()))
    return name


# -- the student's side -------------------------------------------------------


def _walk_files(folder: Path) -> Iterable[Path]:
    """Every file and link under ``folder``, hidden ones and checkpoints left out;
    symbolic links to directories are not followed (they may point anywhere)."""
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(top, name)


def find_notebooks(folder: os.PathLike | str, known: Iterable[str]) -> tuple[dict[str, Path], dict[str, str], list[str]]:
    """The exercise notebooks in one student's folder.

    Returns (notebook name -> the file to grade, notebook name -> why it
    was refused, notes on what was ignored). A notebook at the release's place
    (``notebooks/exercises/``) wins over another copy of the same name; then
    the one nearest the top. A symbolic link is refused: it could name any
    file on the grading machine, the solutions included.
    """
    folder = Path(folder)
    known = set(known)
    found: dict[str, list[Path]] = {}
    ignored = []
    for path in _walk_files(folder):
        if path.suffix != ".ipynb":
            continue
        if path.name in known:
            found.setdefault(path.name, []).append(path)
        else:
            ignored.append(str(path.relative_to(folder)))
    chosen, refused, notes = {}, {}, []
    for name, paths in sorted(found.items()):
        paths.sort(key=lambda p: (p.parent != folder / layout.EXERCISES, len(p.parts), str(p)))
        first = paths[0]
        rel = first.relative_to(folder)
        if first.is_symlink():
            refused[name] = f"{rel} is a symbolic link; hand in the notebook file itself"
        else:
            chosen[name] = first
        for other in paths[1:]:
            notes.append(f"ignored {other.relative_to(folder)}: graded the copy in {rel}")
    if ignored:
        notes.append("ignored (not named like any exercise): " + ", ".join(ignored))
    return chosen, refused, notes


def fingerprint(folder: Path, assignment: Sequence[Exercise]) -> str:
    """SHA-256 over the student's files and the instructor's notebooks of the assignment:
    when it is unchanged, an earlier result still holds."""
    h = hashlib.sha256()
    for ex in assignment:
        h.update(f"exercise {ex.name} {ex.digest}\n".encode())
    for path in _walk_files(folder):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            h.update(f"link {rel} {os.readlink(path)}\n".encode(errors="surrogateescape"))
        elif path.is_file():
            h.update(f"file {rel} {path.stat().st_size}\n".encode(errors="surrogateescape"))
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def _not_graded(ex: Exercise, notebook: str, why: str) -> ExerciseResult:
    """0 points on every check of ``ex``, each saying why."""
    cells = tuple(CellResult(gid, 0.0, points, "not run" if auto else "manual", why if auto else "graded by hand")
                  for gid, points, auto in ex.cells)
    return ExerciseResult(notebook, ex.name, cells, why)


def _unreadable(nb: Path) -> str:
    """Why ``nb`` is not a notebook that can be graded, or ""."""
    try:
        nbformat.read(nb, as_version=4)
    except Exception as exc:  # noqa: BLE001 - whatever the reader says, the student gets it in one line
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return (f"not a readable notebook ({first}); "
                "restore it from the release and copy your answers back")
    return ""


def _student_error(exc: BaseException, folder: Path) -> str:
    # the grading machine's paths mean nothing to the student
    return str(exc).replace(f"{folder}{os.sep}", "").replace(str(folder), ".")


def grade_student(folder: os.PathLike | str, assignment: Sequence[Exercise], *, student_id: str | None = None,
                  source: os.PathLike | str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  known: Iterable[str] | None = None) -> StudentResult:
    """Grade every exercise of ``assignment`` in one student's folder (in this process).

    An exercise the student did not hand in, or handed in unreadable, scores
    0 with the reason; one on which the grader itself failed does too, and
    makes the status ``error``.
    """
    folder = Path(folder)
    student_id = student_id or folder.name
    src = Path(source) if source else layout.course_root()
    started = time.monotonic()
    names = set(known) if known is not None else {ex.name for ex in assignment}
    chosen, refused, notes = find_notebooks(folder, names | {ex.name for ex in assignment})
    problems, results, failed = [], [], False
    for ex in assignment:
        nb = chosen.get(ex.name)
        if ex.name in refused:
            why = refused[ex.name]
            problems.append(f"{ex.stem}: not graded: {why}")
            results.append(_not_graded(ex, "", f"not graded: {why}"))
            continue
        if nb is None:
            problems.append(f"{ex.stem}: not handed in")
            results.append(_not_graded(ex, "", "not handed in"))
            continue
        rel = str(nb.relative_to(folder))
        unreadable = _unreadable(nb)
        if unreadable:
            problems.append(f"{ex.stem}: not graded: {unreadable}")
            results.append(_not_graded(ex, rel, f"not graded: {unreadable}"))
            continue
        try:
            result = grade_notebook(nb, source=src, timeout=timeout, student_id=student_id)
        except MarkupError as exc:  # the instructor's notebook, not the student's
            failed = True
            problems.append(f"{ex.stem}: the grader failed: {exc}")
            results.append(_not_graded(ex, rel, "the grader failed on this exercise; your teacher has been told"))
            continue
        except ValueError as exc:  # the notebook cannot be graded as handed in
            why = _student_error(exc, folder)
            problems.append(f"{ex.stem}: not graded: {why}")
            results.append(_not_graded(ex, rel, f"not graded: {why}"))
            continue
        except Exception as exc:  # the grader's own failure: reported, regraded on the next run
            failed = True
            problems.append(f"{ex.stem}: the grader failed: {type(exc).__name__}: {exc}")
            results.append(_not_graded(ex, rel, "the grader failed on this exercise; your teacher has been told"))
            continue
        results.append(dataclasses.replace(result, notebook=rel))
    if failed:
        status = "error"
    elif not chosen and not refused:
        status = "empty"
    elif problems:
        status = "incomplete"
    else:
        status = "graded"
    return StudentResult(student_id, status, tuple(results), tuple(problems + notes),
                         round(time.monotonic() - started, 3), "",
                         datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))


# -- what a student reads -----------------------------------------------------


def _num(x: float) -> str:
    return f"{x:g}"


def _safe_detail(detail: str, ex: Exercise | None) -> str:
    """``detail`` with every line of hidden test code in it blanked out."""
    if ex is not None:
        for line in ex.hidden_lines:
            if line in detail:
                detail = detail.replace(line, "[hidden test code]")
    return detail


def _check_lines(result: StudentResult, exercises: dict[str, Exercise]):
    """(exercise result, cell result, whether the cell holds hidden tests, its detail fit to show) per cell."""
    for e in result.exercises:
        ex = exercises.get(e.exercise)
        for c in e.cells:
            hidden = ex is not None and c.grade_id in ex.hidden
            # an assertion without a message reads "AssertionError: "
            yield e, c, hidden, _safe_detail(c.detail, ex).strip().rstrip(":")


def feedback_text(result: StudentResult, exercises: dict[str, Exercise]) -> str:
    """The Markdown feedback a student gets: points per exercise and per check,
    and for each check that did not pass, what it reported."""
    out = [f"# Feedback for {result.student}", ""]
    if result.status == "error":
        out += ["Your work could not be graded completely because the grader failed (not because of your work).",
                "Your teacher has been told; it will be graded again.", ""]
    out += [f"**Total: {_num(result.points)}/{_num(result.max_points)}**", ""]
    if any(hidden for _, _, hidden, _ in _check_lines(result, exercises)):
        out += ["Some checks include hidden tests, which are not in your copy of the exercise: passing "
                "the visible part does not guarantee their points. Their code is not shown here, only "
                "what they reported.", ""]
    current = None
    for e, c, hidden, detail in _check_lines(result, exercises):
        if e is not current:
            current = e
            stem = e.exercise[:-6] if e.exercise.endswith(".ipynb") else e.exercise
            if out[-1] != "":
                out.append("")
            out += [f"## {stem}: {_num(e.points)}/{_num(e.max_points)}", ""]
            if e.notebook:
                out.append(f"Graded: `{e.notebook}`")
            if e.note:
                out.append(f"Note: {e.note}")
            if e.notebook or e.note:
                out.append("")
        label = f"`{c.grade_id}`" + (" (includes hidden tests)" if hidden else "")
        line = f"- {label}: {c.status}, {_num(c.points)}/{_num(c.max_points)}"
        if c.status != "passed" and detail and detail != e.note:
            line += "  \n  " + " ".join(detail.split())
        out.append(line)
    other = [n for n in result.notes if not any(n.startswith(f"{e.exercise[:-6]}:") for e in result.exercises)]
    if other:
        out += ["", "## Also", ""] + [f"- {n}" for n in other]
    return "\n".join(out).rstrip() + "\n"


def gradescope_results(result: StudentResult, exercises: dict[str, Exercise]) -> dict:
    """``result`` as Gradescope's autograder results.json: one test per graded cell."""
    tests = []
    for number, (e, c, hidden, detail) in enumerate(_check_lines(result, exercises), 1):
        if c.status == "manual":
            continue  # graded by hand on Gradescope itself; an autograder test would score it 0
        stem = e.exercise[:-6] if e.exercise.endswith(".ipynb") else e.exercise
        output = " ".join(detail.split()) if c.status != "passed" else ""
        if hidden:
            output = ("This check includes hidden tests; its code is not shown. " + output).strip()
        tests.append({
            "name": f"{stem}: {c.grade_id}",
            "number": str(number),
            "score": c.points,
            "max_score": c.max_points,
            "status": "passed" if c.points >= c.max_points else "failed",
            "output": output,
            "visibility": "visible",
        })
    summary = [f"{result.student}: {_num(result.points)}/{_num(result.max_points)} ({result.status})"]
    summary += list(result.notes)
    return {
        "score": result.points,
        "execution_time": round(result.seconds),
        "output": "\n".join(summary),
        "stdout_visibility": "hidden",  # the grader's own log is for the instructor
        "tests": tests,
        "extra_data": {"student": result.student, "status": result.status},
    }


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary sibling and a rename; the sibling is removed if we are interrupted."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise


def write_student(out_dir: Path, result: StudentResult, exercises: dict[str, Exercise]) -> None:
    """Feedback, Gradescope results, then the report (last: its presence marks the student finished)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(out_dir / _FEEDBACK, feedback_text(result, exercises))
    _write_atomic(out_dir / _RESULTS, json.dumps(gradescope_results(result, exercises), indent=2) + "\n")
    _write_atomic(out_dir / _REPORT, json.dumps(result.to_dict(), indent=2) + "\n")


# -- the gradebook --------------------------------------------------------------


def gradebook_csv(report: ClassReport) -> str:
    stems = [n[:-6] if n.endswith(".ipynb") else n for n in report.exercises]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", *stems, "total", "max", "status", "notes"])
    for s in report.students:
        by = s.by_exercise()
        if not s.status:
            writer.writerow([s.student, *([""] * len(stems)), "", "", "not graded", "the run was stopped first"])
            continue
        writer.writerow([s.student, *(_num(by[n].points) if n in by else "" for n in report.exercises),
                         _num(s.points), _num(s.max_points), s.status, "; ".join(s.notes)])
    return buf.getvalue()


# -- the class ------------------------------------------------------------------


def _student_folders(submissions: Path) -> tuple[list[Path], list[str]]:
    folders, stray = [], []
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folders.append(entry)
        else:
            stray.append(entry.name)
    return folders, stray


def _is_student_id(name: str) -> bool:
    try:
        check_student_id(name)
    except ValueError:
        return False
    return True


def _check_out_dir(out: Path, submissions: Path) -> None:
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        raise ValueError(f"{out} is inside {submissions}, where it would be taken for a student's folder; "
                         "write the results somewhere else")
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; give a new directory, or the directory of an earlier grade-class run")
    if out.is_dir() and any(out.iterdir()) and not ((out / "students").is_dir() or (out / "gradebook.csv").exists()):
        raise ValueError(f"{out} is neither empty nor the output of an earlier grade-class run; "
                         "give a new directory (an earlier run's directory is resumed)")


@contextlib.contextmanager
def _exclusive(out: Path):
    """One run at a time writes OUT (two would grade the same students twice)."""
    import fcntl

    lock = out / ".grade-class.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another grade-class run is writing {out}; wait for it to end") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        os.close(fd)


class _Abandon(Exception):
    """A child grader must be stopped: the run is stopping, or the child overran its time."""


def _forkserver():
    """Children forked from a server that has imported the grader already.

    Importing the grader (nbformat and its JSON-schema checks) takes seconds;
    a fresh interpreter per student would pay that every time. The server
    itself is clean: started by fork and exec, before any of our threads.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gorun_kit.course.classgrade"])  # no effect once the server runs
    return ctx


# Process.start() polls every unfinished child of this process (multiprocessing.process._cleanup),
# and a forkserver child's exit status is read from a pipe only once: a worker thread
# polling its own child while another thread starts one could lose the status, which
# then reads as 255. Every start and every poll of a child therefore holds this lock,
# and waiting is done on the child's sentinel outside it.
_CHILDREN = threading.Lock()


def _start(proc) -> None:
    with _CHILDREN:
        proc.start()


def _wait_child(proc, timeout: float | None) -> bool:
    """Wait up to ``timeout`` seconds (None: for ever) for the child to end; True once it has."""
    from multiprocessing.connection import wait

    wait([proc.sentinel], timeout)
    with _CHILDREN:
        if proc.exitcode is None:
            return False
        proc.join()  # ended: takes it off multiprocessing's list of children
        return True


def _stop_child(proc) -> None:
    """SIGTERM, time to clean up, then SIGKILL to everything left in the child's session."""
    from ..sessions import descendants

    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    if not _wait_child(proc, _CHILD_GRACE):
        for pid in descendants(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _wait_child(proc, None)


def _grade_in_child(folder: Path, student: str, out_dir: Path, assignment: Sequence[Exercise], src: Path,
                    timeout: float, fp: str, exercises: dict[str, Exercise],
                    stopping: threading.Event) -> StudentResult | None:
    """Grade one student in a child process; None when the run is stopping first.

    Whatever happens to the child, the student ends with a report: the
    child's own, or an ``error`` one saying how the child ended.
    """
    ctx = _forkserver()
    budget = timeout * max(1, len(assignment)) + _CHILD_MARGIN
    deadline = time.monotonic() + budget
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, name=f"grade-class {student}",
                       args=(theirs, str(folder), student, str(out_dir), [ex.name for ex in assignment],
                             str(src), timeout, fp))
    why = ""
    try:
        _start(proc)
        theirs.close()
        while not _wait_child(proc, 0.5):
            if stopping.is_set():
                _stop_child(proc)
                return None
            if time.monotonic() > deadline:
                why = f"the grader of this student did not finish within {budget:.0f} s"
                _stop_child(proc)
        # anything the student's grading left in the child's session goes with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        said = ours.recv() if ours.poll() else None
    except BaseException:
        if proc.pid is not None and not _wait_child(proc, 0):
            _stop_child(proc)
        raise
    finally:
        ours.close()
    code = proc.exitcode
    result = load_student(out_dir)
    if said == ("ok", "") and code == 0 and result is not None and result.fingerprint == fp:
        return result
    if not why:
        if said and said[0] == "error":
            why = f"the grader failed: {said[1]}"
        elif code is not None and code < 0:
            why = f"the grader of this student was killed by {signal.Signals(-code).name}"
        else:
            why = f"the grader of this student ended with status {code} without a report"
    failed = _failed(student, assignment, why, fp)
    write_student(out_dir, failed, exercises)
    return failed


def _failed(student: str, assignment: Sequence[Exercise], why: str, fp: str) -> StudentResult:
    """The result of a student the grader failed on: 0 points, status ``error``, and why."""
    return StudentResult(student, "error",
                         tuple(_not_graded(ex, "", "the grader failed; your teacher has been told")
                               for ex in assignment),
                         (why,), 0.0, fp, datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))


def grade_class(submissions: os.PathLike | str, out: os.PathLike | str, *, workers: int | None = None,
                exercises: Sequence[str] | None = None, source: os.PathLike | str | None = None,
                timeout: float = DEFAULT_TIMEOUT, regrade: bool = False,
                echo: Callable[[str], None] | None = None) -> ClassReport:
    """Grade every student folder under ``submissions`` into ``out`` (module docstring).

    ``workers`` students at a time (default :func:`default_workers`);
    ``exercises``: the assignment, notebook names or stems (default: every
    exercise some student handed in); ``regrade``: grade finished students
    again. ``echo`` receives one line per student as it finishes. On
    KeyboardInterrupt the students being graded are stopped, the finished
    ones keep their results, the gradebook is written, and the interrupt
    goes on.
    """
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a directory; give the folder that holds one folder per student")
    if not (isinstance(timeout, (int, float)) and timeout > 0 and timeout != float("inf")):
        raise ValueError(f"timeout {timeout!r}: give a finite number of seconds greater than 0")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers {workers!r}: give a whole number of students at a time, 1 or more")
    workers = workers or default_workers()
    src = Path(source).resolve() if source else layout.course_root()
    known = course_exercises(src)
    if not known:
        raise ValueError(f"{src} has no exercises in {src / layout.EXERCISES}; give the instructor's course tree")
    folders, stray = _student_folders(submissions)
    if not folders:
        raise ValueError(f"{submissions} holds no student folders; put each student's work in a folder "
                         "named by the student's id")
    bad = [f.name for f in folders if not _is_student_id(f.name)]
    if bad:  # the id picks the student's variant of each exercise, so it must be one
        raise ValueError(f"student folder(s) under {submissions} not named by a student id: "
                         + ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
                         + "; rename them (1-100 letters, digits and . _ @ + -, starting with a letter or digit)")
    _check_out_dir(out, submissions)
    if exercises:
        names = sorted({_exercise_name(e, known) for e in exercises})
    else:
        names = set()
        for folder in folders:
            chosen, refused, _ = find_notebooks(folder, known)
            names |= set(chosen) | set(refused)
        names = sorted(names)
        if not names:
            raise ValueError(f"no student folder under {submissions} holds an exercise notebook "
                             f"(named like {next(iter(known))}); nothing to grade")
    assignment = [known[n] for n in names]
    say = echo or (lambda line: None)
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    (out / "students").mkdir(exist_ok=True)
    results: dict[str, StudentResult] = {}
    graded_now = 0
    with _exclusive(out):
        todo = []
        done = 0
        for folder in folders:
            fp = fingerprint(folder, assignment)
            student_out = out / "students" / folder.name
            earlier = None if regrade else load_student(student_out)
            if earlier is not None and earlier.fingerprint == fp and earlier.status in STATUSES \
                    and earlier.status != "error":
                results[folder.name] = earlier
                done += 1
                say(f"[{done}/{len(folders)}] {folder.name} {_num(earlier.points)}/{_num(earlier.max_points)} "
                    f"{earlier.status} (graded earlier)")
                continue
            with contextlib.suppress(FileNotFoundError):
                (student_out / _REPORT).unlink()  # not finished until this run says so
            todo.append((folder, fp))
        if stray:
            say(f"ignored {len(stray)} file(s) beside the student folders: {', '.join(stray[:5])}"
                + (" ..." if len(stray) > 5 else ""))
        if todo:
            say(f"grading {len(todo)} student(s), {min(workers, len(todo))} at a time")
        stopping = threading.Event()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade-class")
        futures = {}
        try:
            for folder, fp in todo:
                fut = pool.submit(_timed, _grade_in_child, folder, folder.name, out / "students" / folder.name,
                                  assignment, src, timeout, fp, known, stopping)
                futures[fut] = folder.name
            pending = set(futures)
            while pending:
                finished, pending = concurrent.futures.wait(pending, timeout=0.5,
                                                            return_when=concurrent.futures.FIRST_COMPLETED)
                for fut in sorted(finished, key=lambda f: futures[f]):
                    try:
                        result, seconds = fut.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. OUT became unwritable: this student only
                        result, seconds = _failed(futures[fut], assignment, f"the grader failed: "
                                                  f"{type(exc).__name__}: {exc}", ""), 0.0
                    if result is None:
                        continue
                    results[result.student] = result
                    done += 1
                    graded_now += 1
                    line = (f"[{done}/{len(folders)}] {result.student} {_num(result.points)}/"
                            f"{_num(result.max_points)} {result.status} ({seconds:.1f} s)")
                    if result.status == "error":
                        line += ": " + result.notes[0]
                    say(line)
        except BaseException:
            stopping.set()  # the children get SIGTERM and time to clean up
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            # a student who finished while we stopped has written its report.json: the
            # gradebook says so too
            for fut, student in futures.items():
                if student not in results and fut.done() and not fut.cancelled() and fut.exception() is None:
                    result = fut.result()[0]
                    if result is not None:
                        results[student] = result
                        graded_now += 1
            report = ClassReport(str(out), tuple(names),
                                 tuple(results.get(f.name) or StudentResult(f.name, "", ()) for f in folders),
                                 graded_now, round(time.monotonic() - started, 3))
            _write_atomic(out / "gradebook.csv", gradebook_csv(report))
    return report


def _timed(fn, *args):
    t0 = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - t0


# -- the child ------------------------------------------------------------------


def _raise_interrupt(signum, frame):
    for sig in (signal.SIGTERM, signal.SIGINT):  # one cleanup: a second signal must not cut it short
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """SIGTERM when the process that forked us (the fork server) ends; it ends with the run."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _child(conn, folder: str, student: str, out_dir: str, names: list[str], source: str, timeout: float,
           fp: str) -> None:
    """One student, in a process of its own (see :func:`_grade_in_child`); says "ok" or why not on ``conn``."""
    os.setsid()  # out of the terminal's process group: Ctrl-C reaches the run, which stops us with SIGTERM
    _die_with_parent()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_interrupt)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # what reaches the student goes into the report, not onto the teacher's terminal
        os.dup2(devnull, fd)
    os.environ["GORUN_KIT_PROGRESS"] = "0"
    said = ("ok", "")
    try:
        src = Path(source)
        known = course_exercises(src)
        result = grade_student(folder, [known[n] for n in names], student_id=student, source=src,
                               timeout=timeout, known=known)
        write_student(Path(out_dir), dataclasses.replace(result, fingerprint=fp), known)
    except KeyboardInterrupt:
        said = ("stopped", "")
    except BaseException as exc:  # noqa: BLE001 - the parent reports it; a traceback would go nowhere
        said = ("error", f"{type(exc).__name__}: {exc}"[:500])
    with contextlib.suppress(OSError, ValueError):
        conn.send(said)
    conn.close()
