"""nbgrader's markup, read and stripped: solution regions, hidden tests, cell metadata.

The course marks exercises exactly as nbgrader does, so instructors who use
nbgrader can take the notebooks unchanged:

* ``### BEGIN SOLUTION`` / ``### END SOLUTION`` around the instructor's answer
  in notebook cells (C and Go lab sources use the same words in comments; they
  are stubbed by :mod:`gorun_kit.labsrc`, chapter 3's generator);
* ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` inside a test cell;
* cell metadata ``{"nbgrader": {"grade": ..., "solution": ..., "grade_id": ...,
  "points": ..., "locked": ...}}``.

Student copies replace a solution region by nbgrader's stub (``# YOUR CODE
HERE`` + ``raise NotImplementedError()``), so an untouched copy fails every
check that depends on it. Malformed markup (a BEGIN without END, a graded cell
without ``grade_id``) is an error naming the file and the cell, never a silent
half-stripped copy.
"""
from __future__ import annotations

import re

__all__ = [
    "MarkupError", "PY_STUB", "MD_STUB", "strip_region",
    "strip_hidden_tests", "has_marker", "nbgrader_meta", "is_test_cell",
    "is_solution_cell", "check_notebook_markup",
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
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


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
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
                raise MarkupError(f"{here} ({gid}): graded cell needs numeric points >= 0, has {points!r}")
