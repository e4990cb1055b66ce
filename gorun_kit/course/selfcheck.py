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

An answer that calls a kit module the grader withholds for its exercise
(``grade.WITHHELD``: the LookPath model for the LookPath exercise, say) would
pass here and score 0 at grading, where that module cannot be imported. So the
answers are inspected as they are in the kernel (:func:`withheld_uses`): the
functions and classes the answer cells define, and the helpers they call, are
searched for a withheld module they import or name, or a global of theirs that
is one or comes from one. Each use is reported with the checks, which then do
not count as passed. The imports themselves are not blocked: the visible checks
use the same modules to compute the expected answers, and a module an earlier
cell imported is served from ``sys.modules`` without asking any import hook.

Which checks have hidden parts: in an instructor's copy, the ``### BEGIN
HIDDEN TESTS`` markers (the code between them is dropped before anything
runs); in a student copy, the record the release writes into the notebook's
metadata (:func:`hidden_record`), else the comment the release leaves where
hidden tests were.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import sys
import traceback
import types
from pathlib import Path

import nbformat

from ..records import Record
from .markup import HIDDEN_STUB, has_marker, is_solution_cell, is_test_cell, nbgrader_meta, strip_region

__all__ = ["Check", "SelfCheck", "public_checks", "hidden_record", "records_hidden", "find_notebook", "evaluate",
           "withheld_uses", "check_my_work", "METADATA_KEY"]

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
    withheld: tuple[str, ...] = ()  # how the answers use a kit module the grader withholds (withheld_uses)

    @property
    def passed(self) -> bool:
        """What grading would say of the visible checks: each passed, and no answer needs a withheld module."""
        return all(c.status == "passed" for c in self.checks) and not self.withheld

    def render(self) -> str:
        head = f"check my work: {self.exercise}" + (f", {self.variant}" if self.variant else "")
        lines = [head]
        if self.withheld:
            lines.append("WARNING: your answer uses kit modules that are withheld while this exercise is graded:")
            lines.extend(f"  {use}" for use in self.withheld)
            lines.append("at grading they cannot be imported, so the checks below that call this answer score 0 "
                         "there, even if they pass here. Write the answer without them.")
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


def _withheld_name(name: str, modules: tuple[str, ...]) -> str | None:
    return next((m for m in modules if name == m or name.startswith(m + ".")), None)


def _module_of(value) -> str:
    """The module ``value`` is, or comes from ("" when it has none)."""
    if isinstance(value, types.ModuleType):
        return value.__name__
    if isinstance(value, functools.partial):
        return _module_of(value.func)
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)):
        return getattr(value, "__module__", "") or ""
    return getattr(type(value), "__module__", "") or ""


def _code_strings(code: types.CodeType) -> set[str]:
    """The names and string constants of ``code`` and the code nested in it."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _code_strings(const)
        elif isinstance(const, str):
            out.add(const)
        elif isinstance(const, tuple):
            out |= {c for c in const if isinstance(c, str)}
    return out


def withheld_uses(exercise: str, namespace: dict, answers) -> list[str]:
    """How the answer names ``answers`` in ``namespace`` use the kit modules the grader
    withholds for ``exercise`` (``grade.WITHHELD``), one line each; [] when they do not.

    An answer uses a module when it is one or comes from one, when its code imports or
    names it (``import gorun_kit.lookpath``, ``from gorun_kit import lookpath``,
    ``importlib.import_module("gorun_kit.lookpath")``), or when a global, default or
    closure value it reads is one or comes from one. The student's own helpers that an
    answer reads (defined in the same namespace) are searched the same way."""
    from .grade import WITHHELD

    modules = WITHHELD.get(f"{exercise}.ipynb", ())
    if not modules:
        return []
    home = namespace.get("__name__")  # a function's __module__ is its globals' __name__ (None without one)
    uses: list[str] = []
    seen: set[int] = set()

    def note(path: str, module: str) -> None:
        line = f"{path} uses {module}"
        if line not in uses:
            uses.append(line)

    def visit(path: str, value) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        module = _withheld_name(_module_of(value), modules)
        if module:
            note(path, module)
            return
        if isinstance(value, type) and value.__module__ == home:
            for attr, member in vars(value).items():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, (types.FunctionType, property)):
                    visit(f"{path}.{attr}", member.fget if isinstance(member, property) else member)
            return
        if not isinstance(value, types.FunctionType) or value.__module__ != home:
            return
        strings = _code_strings(value.__code__)
        for name in modules:
            parent, _, leaf = name.rpartition(".")
            if any(_withheld_name(s, (name,)) for s in strings) or (parent and parent in strings and leaf in strings):
                note(path, name)
        reads = [value.__globals__.get(n) for n in value.__code__.co_names if n in value.__globals__]
        reads += list(value.__defaults__ or ()) + list((value.__kwdefaults__ or {}).values())
        reads += [cell.cell_contents for cell in value.__closure__ or () if _filled(cell)]
        for read in reads:
            visit(path if read is value else f"{path} -> {_label(read)}", read)

    for name in answers:
        if name in namespace:
            visit(name, namespace[name])
    return uses


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _label(value) -> str:
    return getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or type(value).__name__


def evaluate(exercise: str, namespace: dict, *, notebook: str | os.PathLike | None = None) -> SelfCheck:
    """Run the visible part of every check of ``exercise`` against ``namespace``
    (a copy of it: the checks' own names stay out of the student's), and find the
    answers' uses of kit modules the grader withholds (:func:`withheld_uses`)."""
    from .grade import defined_names

    path = Path(notebook) if notebook is not None else find_notebook(exercise)
    nb = nbformat.read(path, as_version=4)
    answers = [name for cell in nb.cells if cell.get("cell_type") == "code" and is_solution_cell(cell)
               for name in defined_names(cell.get("source", ""))]
    withheld = withheld_uses(exercise, namespace, answers)
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
    return SelfCheck(exercise, str(path), tuple(checks), label, records_hidden(nb), tuple(withheld))


def check_my_work(exercise: str, namespace: dict) -> None:
    """Print the result of :func:`evaluate` (what the "check my work" cell shows); never raises."""
    try:
        print(evaluate(exercise, namespace).render())
    except Exception as exc:  # the cell must finish and say why, whatever the copy looks like
        print(f"check my work could not run: {exc}")
    sys.stdout.flush()
