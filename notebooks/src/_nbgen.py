"""Tiny helpers for the notebook generator scripts in this folder.

A chapter is written as a Python script that lists its cells; running the
script writes the .ipynb (without outputs), then `jupyter nbconvert --execute
--inplace` fills in the outputs that are committed and re-checked by nbval.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(source: str, *, tags: tuple[str, ...] = (), **metadata):
    cell = new_code_cell(source.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.metadata.update(metadata)
    return cell


def write(relative_path: str, cells: list) -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# nbgrader cells (schema 3). The committed exercise notebooks hold these
# solution versions; `gorun-kit course release` makes the student copies.
def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def solution(source: str, grade_id: str):
    """A cell the student writes (### BEGIN SOLUTION / ### END SOLUTION inside)."""
    return code(source, nbgrader=_nbgrader(grade_id, grade=False, solution=True, locked=False))


def check(source: str, grade_id: str, points: int):
    """A graded, locked test cell (may hold ### BEGIN HIDDEN TESTS)."""
    return code(source, nbgrader=_nbgrader(grade_id, grade=True, solution=False, locked=True, points=points))


def given(source: str, grade_id: str):
    """A locked cell of given code the student reads but does not change."""
    return code(source, nbgrader=_nbgrader(grade_id, grade=False, solution=False, locked=True))
