""""Check my work": an exercise's visible checks, run in the student's own kernel.

The last code cell of every exercise calls::

    from gorun_kit.course import selfcheck
    selfcheck.check_my_work("02_lookpath_linux_exercises", globals())

which reads the exercise's notebook from the kernel's directory (the
student's copy; the instructor's checkout as a fallback), takes every graded
test cell's visible part, runs them in order against the student's current
definitions and prints one line per check: passed, failed with the reason
(``not written yet`` for a stub that raises NotImplementedError), or not run
(``nb.live`` said a tool is missing). Then it lists the checks that have
hidden parts at grading -- grade_id and points, never their code.

Nothing is at stake here: grading runs elsewhere, with the hidden parts, in
the grader's own process. So the checks run in a copy of the kernel's
namespace (what they define does not leak into the student's), and nothing a
check does -- an exception, output on stderr -- escapes as an error of the
cell: the cell always finishes and says what happened.

Which checks have hidden parts: in an instructor's copy, the ``### BEGIN
HIDDEN TESTS`` markers (the code between them is dropped before anything
runs); in a student copy, the record the release writes into the notebook's
metadata (:func:`hidden_record`), else the comment the release leaves where
hidden tests were.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
import traceback
from pathlib import Path

import nbformat

from ..records import Record
from .markup import HIDDEN_STUB, has_marker, is_test_cell, nbgrader_meta, strip_region

__all__ = ["Check", "SelfCheck", "public_checks", "hidden_record", "records_hidden", "find_notebook", "evaluate",
           "check_my_work", "METADATA_KEY"]

METADATA_KEY = "gorun_kit"  # notebook metadata the release writes: {"hidden_checks": [...], ...}


@dataclasses.dataclass(frozen=True)
class Check(Record):
    grade_id: str
    points: float
    status: str  # passed | failed | not run
    detail: str = ""
    hidden: bool = False  # the check has parts that run only at grading


@dataclasses.dataclass(frozen=True)
class SelfCheck(Record):
    dict_properties = ("passed",)

    exercise: str
    notebook: str  # where the checks were read from
    checks: tuple[Check, ...]
    variant: str = ""
    hidden_known: bool = True  # False: a copy that does not record which checks have hidden parts

    @property
    def passed(self) -> bool:
        return all(c.status == "passed" for c in self.checks)

    def render(self) -> str:
        head = f"check my work: {self.exercise}" + (f", {self.variant}" if self.variant else "")
        lines = [head]
        width = max((len(c.grade_id) for c in self.checks), default=0)
        for c in self.checks:
            detail = f": {c.detail}" if c.detail and c.status != "passed" else ""
            lines.append(f"  {c.status:<7} {c.grade_id:<{width}}  ({_pts(c.points)}){detail}")
        hidden = [c for c in self.checks if c.hidden]
        if not self.hidden_known:
            lines.append("this copy does not record which checks have hidden parts (nbgrader removes them "
                         "without a trace): any check may have more at grading.")
        elif hidden:
            lines.append("hidden checks, run only at grading (their code is not in your copy):")
            lines.extend(f"  {c.grade_id:<{width}}  ({_pts(c.points)})" for c in hidden)
            lines.append("passing the visible checks above does not guarantee these points.")
        else:
            lines.append("no hidden checks: the visible checks above are all there is.")
        return "\n".join(lines)


def _pts(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def hidden_record(nb) -> list[dict]:
    """``[{"grade_id", "points"}]`` of the instructor notebook's test cells with hidden tests
    (the release stores it in the student copy's metadata, under :data:`METADATA_KEY`)."""
    return [{"grade_id": nbgrader_meta(c)["grade_id"], "points": float(nbgrader_meta(c).get("points", 0))}
            for c in nb.cells if is_test_cell(c) and has_marker(c.get("source", ""), "hidden")]


def records_hidden(nb) -> bool:
    """Whether ``nb`` says which of its checks have hidden parts: the instructor's copy
    (markers) and the release's (metadata) do; a copy made by other tools may not."""
    if "hidden_checks" in nb.metadata.get(METADATA_KEY, {}):
        return True
    return any(has_marker(c.get("source", ""), "solution") or has_marker(c.get("source", ""), "hidden")
               or HIDDEN_STUB[0] in c.get("source", "") for c in nb.cells)


def public_checks(nb, where: str = "notebook") -> list[tuple[str, float, str, bool]]:
    """``(grade_id, points, visible source, has hidden part)`` of each graded test cell, in order.

    Hidden tests are cut out of the source here, so their code never runs in the student's kernel."""
    recorded = {h["grade_id"] for h in nb.metadata.get(METADATA_KEY, {}).get("hidden_checks", [])}
    out = []
    for index, cell in enumerate(nb.cells):
        if not is_test_cell(cell):
            continue
        meta = nbgrader_meta(cell)
        source = cell.get("source", "")
        hidden = has_marker(source, "hidden") or meta["grade_id"] in recorded or HIDDEN_STUB[0] in source
        visible = strip_region(source, "hidden", None, f"{where} cell {index}") if has_marker(source, "hidden") \
            else source
        out.append((meta["grade_id"], float(meta.get("points", 0)), visible, hidden))
    return out


def find_notebook(exercise: str, start: str | os.PathLike | None = None) -> Path:
    """The exercise's notebook: ``<exercise>.ipynb`` in ``start`` (default: the kernel's
    directory, which JupyterLab sets to the notebook's), else the instructor's in the course
    checkout the kit is installed from. FileNotFoundError saying what to do otherwise."""
    here = Path(start if start is not None else os.getcwd())
    candidate = here / f"{exercise}.ipynb"
    if candidate.is_file():
        return candidate
    try:
        from .layout import EXERCISES, course_root

        fallback = course_root() / EXERCISES / f"{exercise}.ipynb"
        if fallback.is_file():
            return fallback
    except FileNotFoundError:
        pass
    raise FileNotFoundError(f"{exercise}.ipynb is not in {here}; open the exercise from its own directory "
                            "(notebooks/exercises/ of your copy) and keep its file name")


def _not_run(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("skipped: "):  # nb.live's line when a tool is missing
            return line[len("skipped: "):]
    return None


def _reason(exc: BaseException, filename: str, lines: list[str]) -> str:
    if isinstance(exc, NotImplementedError):
        return "not written yet (NotImplementedError" + (f": {exc}" if str(exc) else "") + ")"
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename and frame.lineno and frame.lineno <= len(lines):
            where = f" [check line {frame.lineno}: {lines[frame.lineno - 1].strip()}]"
            break
    if isinstance(exc, NameError):
        return f"{exc} (run the cells above first){where}"
    if isinstance(exc, AssertionError):
        message = str(exc)
        return (f"assertion failed: {message}" if message else "assertion failed") + where
    return f"{type(exc).__name__}: {exc}{where}"


def _run_one(gid: str, source: str, namespace: dict) -> tuple[str, str]:
    filename = f"<check {gid}>"
    lines = source.splitlines()
    out, err = io.StringIO(), io.StringIO()
    try:
        code = compile(source, filename, "exec")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(code, namespace)  # noqa: S102 - the exercise's own visible checks, in the student's kernel
    except (Exception, SystemExit, KeyboardInterrupt) as exc:  # a check's failure is reported, not raised
        if isinstance(exc, KeyboardInterrupt):
            return "not run", "interrupted"
        return "failed", _reason(exc, filename, lines)[:600]
    skipped = _not_run(out.getvalue())
    if skipped:
        return "not run", f"this machine cannot run it: {skipped}"
    first = next((line for line in err.getvalue().splitlines() if line.strip()), "")
    if first:
        return "failed", f"wrote to stderr (graded as a failure): {first}"[:600]
    # course_path's warning that the file checked is the instructor's reference, not a student's work
    label = next((line for line in out.getvalue().splitlines() if line.startswith("instructor copy:")), "")
    return "passed", label[:600]


def evaluate(exercise: str, namespace: dict, *, notebook: str | os.PathLike | None = None) -> SelfCheck:
    """Run the visible part of every check of ``exercise`` against ``namespace``
    (a copy of it: the checks' own names stay out of the student's)."""
    path = Path(notebook) if notebook is not None else find_notebook(exercise)
    nb = nbformat.read(path, as_version=4)
    scratch = dict(namespace)
    checks = []
    for gid, points, source, hidden in public_checks(nb, str(path)):
        status, detail = _run_one(gid, source, scratch)
        checks.append(Check(gid, points, status, detail, hidden))
    try:
        from .variant import of

        label = of(exercise).line()
    except ValueError as exc:
        label = f"variant unknown: {exc}"
    return SelfCheck(exercise, str(path), tuple(checks), label, records_hidden(nb))


def check_my_work(exercise: str, namespace: dict) -> None:
    """Print the result of :func:`evaluate` (what the "check my work" cell shows); never raises."""
    try:
        print(evaluate(exercise, namespace).render())
    except Exception as exc:  # the cell must finish and say why, whatever the copy looks like
        print(f"check my work could not run: {exc}")
    sys.stdout.flush()
