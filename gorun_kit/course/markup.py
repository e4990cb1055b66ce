"""nbgrader's markup, read and stripped: solution regions, hidden tests, cell
metadata -- in notebooks and in lab sources.

The course marks exercises exactly as nbgrader does, so instructors who use
nbgrader can take the notebooks unchanged:

* ``### BEGIN SOLUTION`` / ``### END SOLUTION`` around the instructor's answer
  in notebook cells;
* ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` inside a test cell;
* cell metadata ``{"nbgrader": {"grade": ..., "solution": ..., "grade_id": ...,
  "points": ..., "locked": ...}}``.

Student copies replace a solution region by nbgrader's stub (``# YOUR CODE
HERE`` + ``raise NotImplementedError()``), so an untouched copy fails every
check that depends on it. Malformed markup (a BEGIN without END, a graded cell
without ``grade_id``) is an error naming the file and the cell, never a silent
half-stripped copy.

Lab sources (C, Go) use the same words in comments, one region per TODO::

    /* ### BEGIN SOLUTION TODO 1 */
    ...the solution...
    /* ### END SOLUTION */
    //| return 0;

In the student copy (:func:`student_lab_text`) the region becomes one line
``/* TODO 1: YOUR CODE HERE */`` in the marker's comment style and
indentation, and the lines right after the END marker that start with the stub
leader (``//|`` in C and Go, ``#|`` in Python and shell) become code: the
student copy compiles and runs -- and fails the lab's check. Every other line,
including the TODO's description above the region, is kept.
"""
from __future__ import annotations

import dataclasses
import math
import re

from ..records import Record

__all__ = [
    "MarkupError", "PY_STUB", "MD_STUB", "strip_region",
    "strip_hidden_tests", "has_marker", "nbgrader_meta", "is_test_cell",
    "is_solution_cell", "check_notebook_markup", "LabRegion", "lab_regions", "student_lab_text",
]

PY_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
MD_STUB = ["YOUR ANSWER HERE"]
_BEGIN = {"solution": "### BEGIN SOLUTION", "hidden": "### BEGIN HIDDEN TESTS"}
_END = {"solution": "### END SOLUTION", "hidden": "### END HIDDEN TESTS"}


class MarkupError(ValueError):
    """Exercise markup that cannot be stripped safely; the message names where."""


def has_marker(text: str, kind: str = "solution") -> bool:
    return _BEGIN[kind] in text


def _marker_line(line: str, marker: str) -> bool:
    # A marker line holds the marker and nothing but comment punctuation, so a
    # string literal that merely mentions the words is not mistaken for one.
    stripped = line.strip()
    if marker not in stripped:
        return False
    rest = stripped.replace(marker, "")
    return re.fullmatch(r"[\s/*#-]*", rest) is not None


def strip_region(text: str, kind: str, stub: list[str] | None, where: str) -> str:
    """Replace every ``kind`` region (markers included) by ``stub`` lines.

    The stub keeps the indentation of the BEGIN line, so a region inside a
    function body stays inside it. ``stub=None`` deletes the region.
    """
    begin, end = _BEGIN[kind], _END[kind]
    out: list[str] = []
    inside = False
    start_line = 0
    for number, line in enumerate(text.split("\n"), 1):
        if _marker_line(line, begin):
            if inside:
                raise MarkupError(f"{where}: line {number}: '{begin}' inside another region "
                                  f"(opened at line {start_line}); close the first one with '{end}'")
            inside, start_line = True, number
            if stub:
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + s for s in stub)
            continue
        if _marker_line(line, end):
            if not inside:
                raise MarkupError(f"{where}: line {number}: '{end}' without a '{begin}' before it")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise MarkupError(f"{where}: '{begin}' at line {start_line} is never closed; add '{end}'")
    return "\n".join(out)


HIDDEN_STUB = ["# Hidden tests run here when this notebook is graded (gorun-kit course grade):",
               "# passing the checks above does not guarantee full points."]


def strip_hidden_tests(text: str, where: str) -> str:
    """Remove the hidden tests, leaving a comment that says they exist."""
    return strip_region(text, "hidden", HIDDEN_STUB, where)


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when it is not a mapping, and no grade_id unless a string
    (a student's notebook may hold anything there)."""
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    if not isinstance(meta, dict):
        return {}
    meta = dict(meta)
    if "grade_id" in meta and not isinstance(meta["grade_id"], str):
        del meta["grade_id"]
    return meta


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not a solution, so its source is the instructor's."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def is_solution_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) or has_marker(cell.get("source", ""), "solution")


def check_notebook_markup(nb, where: str) -> None:
    """Every graded cell has a unique grade_id and numeric points; markers are balanced."""
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        here = f"{where} cell {index}"
        meta = nbgrader_meta(cell)
        source = cell.get("source", "")
        # Balance check without keeping the result: raises on bad markup.
        strip_region(source, "solution", None, here)
        strip_region(source, "hidden", None, here)
        if has_marker(source, "hidden") and not is_test_cell(cell):
            raise MarkupError(f"{here}: hidden tests in a cell that is not a graded test cell; "
                              'give it metadata {"nbgrader": {"grade": true, "solution": false, ...}}')
        if not meta:
            continue
        gid = meta.get("grade_id")
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            if not gid:
                raise MarkupError(f"{here}: nbgrader cell without a grade_id; add one")
            if gid in seen:
                raise MarkupError(f"{here}: grade_id {gid!r} is also used by cell {seen[gid]}; "
                                  "grade_ids must be unique in a notebook")
            seen[gid] = index
        if meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or not 0 <= points < math.inf:
                raise MarkupError(f"{here} ({gid}): graded cell needs numeric points >= 0, has {points!r}")


# ---------------------------------------------------------------------------
# lab sources: the same markers in comments, a TODO label, a compiling stub

_LAB_BEGIN = re.compile(r"^(?P<indent>\s*)(?P<open>/\*|//|#)\s*### BEGIN SOLUTION(?:\s+(?P<todo>TODO\s+\d+))?\s*(?:\*/)?\s*$")
_LAB_END = re.compile(r"^\s*(?:/\*|//|#)\s*### END SOLUTION\s*(?:\*/)?\s*$")
_LAB_STUB = re.compile(r"^(?P<indent>\s*)(?://|#)\| ?(?P<code>.*)$")
_ANY_SOLUTION_MARKER = re.compile(r"### (BEGIN|END) SOLUTION")


@dataclasses.dataclass(frozen=True)
class LabRegion(Record):
    """One solution region of a lab source: 1-based lines of its BEGIN and END markers."""

    begin: int
    end: int
    todo: str  # "TODO 1", or "" when the marker names none
    stub: tuple[str, ...]  # the stub lines, uncommented


def _stub_after(lines: list[str], at: int) -> list[str]:
    """The ``//|`` (or ``#|``) lines starting at index ``at``, uncommented."""
    stub = []
    while at < len(lines) and (m := _LAB_STUB.match(lines[at].rstrip("\n"))):
        stub.append(m.group("indent") + m.group("code"))
        at += 1
    return stub


def _parse_lab(text: str, name: str) -> tuple[list[str], list[LabRegion]]:
    lines = text.splitlines(keepends=True)
    found: list[LabRegion] = []
    open_at, todo = None, ""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\n")
        if begin := _LAB_BEGIN.match(line):
            if open_at is not None:
                raise MarkupError(f"{name}:{i + 1}: BEGIN SOLUTION inside the region opened at line {open_at}; "
                                  "close it with ### END SOLUTION first")
            open_at, todo = i + 1, begin.group("todo") or ""
        elif _LAB_END.match(line):
            if open_at is None:
                raise MarkupError(f"{name}:{i + 1}: END SOLUTION without a BEGIN SOLUTION before it")
            stub = _stub_after(lines, i + 1)
            found.append(LabRegion(open_at, i + 1, re.sub(r"\s+", " ", todo), tuple(stub)))
            open_at = None
            i += 1 + len(stub)
            continue
        elif _ANY_SOLUTION_MARKER.search(line):
            raise MarkupError(f"{name}:{i + 1}: malformed marker {line.strip()!r}; write it alone on its line as "
                              "'/* ### BEGIN SOLUTION TODO n */' or '/* ### END SOLUTION */'")
        i += 1
    if open_at is not None:
        raise MarkupError(f"{name}:{open_at}: BEGIN SOLUTION is never closed with ### END SOLUTION")
    return lines, found


def lab_regions(text: str, name: str = "<source>") -> list[LabRegion]:
    """The solution regions of lab source ``text`` in order; raises :class:`MarkupError`."""
    return _parse_lab(text, name)[1]


def student_lab_text(text: str, name: str = "<source>") -> str:
    """The student copy of lab source ``text``: each region replaced by its TODO line
    and its stub (see the module docstring); raises :class:`MarkupError` on bad
    markers or when there is no region at all (nothing to hand out)."""
    lines, found = _parse_lab(text, name)
    if not found:
        raise MarkupError(f"{name}: no ### BEGIN SOLUTION region; nothing to hand out")
    out: list[str] = []
    pos = 0
    for region in found:
        out.extend(lines[pos:region.begin - 1])
        m = _LAB_BEGIN.match(lines[region.begin - 1].rstrip("\n"))
        indent, opener = m.group("indent"), m.group("open")
        label = f"{region.todo}: YOUR CODE HERE" if region.todo else "YOUR CODE HERE"
        out.append(f"{indent}/* {label} */\n" if opener == "/*" else f"{indent}{opener} {label}\n")
        out.extend(line + "\n" for line in region.stub)
        pos = region.end + len(region.stub)
    out.extend(lines[pos:])
    return "".join(out)
